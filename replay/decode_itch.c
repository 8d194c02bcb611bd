/* decode_itch.c - field tables of Nasdaq ITCH 5.0 and IEX TOPS 1.6 / DEEP 1.0 messages
 *
 * Design notes
 * - Written by hand from the public specifications (Nasdaq TotalView-ITCH 5.0; IEX TOPS 1.6 and
 *   DEEP 1.0); no Debian library decodes them. Field names are the specifications' names in
 *   snake_case.
 * - ITCH 5.0: big-endian; every message starts with its type, stock_locate, tracking_number and a
 *   6-byte timestamp (ns since midnight); prices are u32 with 4 decimals, the MWCB levels u64
 *   with 8. Sizes agree with rp_itch_sizes (itch.h), which test_rp_decode checks.
 * - IEX TOPS / DEEP: little-endian; every message starts with its type, one flag or code byte and
 *   an 8-byte timestamp (ns since the epoch); symbols are 8 space-padded bytes, prices i64 with 4
 *   decimals. The two feeds share their message types except the quote update ('Q', TOPS) and
 *   the price level updates ('8' buy, '5' sell, DEEP), so one table serves both.
 */
#include "decode.h"

#define F(n, o, w, k)                                                                              \
    {                                                                                              \
        n, o, w, RP_DK_##k                                                                         \
    }
#define ITCH_HEAD                                                                                  \
    F("message_type", 0, 1, CHAR), F("stock_locate", 1, 2, UINT),                                  \
        F("tracking_number", 3, 2, UINT), F("timestamp", 5, 6, TOD)
#define IEX_HEAD(flag, kind)                                                                       \
    F("message_type", 0, 1, CHAR), F(flag, 1, 1, kind), F("timestamp", 2, 8, TS)
#define N(a) (uint16_t)(sizeof(a) / sizeof(a[0])), a
#define ITCH(c, n, s, sym, so, f)                                                                  \
    {                                                                                              \
        n, c, s, RP_DEC_ITCH, 0, 0xff, RP_SYM_##sym, so, N(f), NULL, NULL, 0, 0, 0, 0              \
    }
#define IEX(c, n, s, sym, f)                                                                       \
    {                                                                                              \
        n, c, s, RP_DEC_IEX, 0, 0xff, RP_SYM_##sym, 10, N(f), NULL, NULL, 0, 0, 0, 0               \
    }

/* ---- ITCH 5.0 ------------------------------------------------------------------------------- */

static const rp_dec_field i_S[] = {ITCH_HEAD, F("event_code", 11, 1, CHAR)};
static const rp_dec_field i_R[] = {
    ITCH_HEAD,
    F("stock", 11, 8, ALPHA),
    F("market_category", 19, 1, CHAR),
    F("financial_status_indicator", 20, 1, CHAR),
    F("round_lot_size", 21, 4, UINT),
    F("round_lots_only", 25, 1, CHAR),
    F("issue_classification", 26, 1, CHAR),
    F("issue_sub_type", 27, 2, ALPHA),
    F("authenticity", 29, 1, CHAR),
    F("short_sale_threshold_indicator", 30, 1, CHAR),
    F("ipo_flag", 31, 1, CHAR),
    F("luld_reference_price_tier", 32, 1, CHAR),
    F("etp_flag", 33, 1, CHAR),
    F("etp_leverage_factor", 34, 4, UINT),
    F("inverse_indicator", 38, 1, CHAR),
};
static const rp_dec_field i_H[] = {ITCH_HEAD, F("stock", 11, 8, ALPHA),
                                   F("trading_state", 19, 1, CHAR), F("reserved", 20, 1, CHAR),
                                   F("reason", 21, 4, ALPHA)};
static const rp_dec_field i_Y[] = {ITCH_HEAD, F("stock", 11, 8, ALPHA),
                                   F("reg_sho_action", 19, 1, CHAR)};
static const rp_dec_field i_L[] = {ITCH_HEAD,
                                   F("mpid", 11, 4, ALPHA),
                                   F("stock", 15, 8, ALPHA),
                                   F("primary_market_maker", 23, 1, CHAR),
                                   F("market_maker_mode", 24, 1, CHAR),
                                   F("market_participant_state", 25, 1, CHAR)};
static const rp_dec_field i_V[] = {ITCH_HEAD, F("level_1", 11, 8, PX8), F("level_2", 19, 8, PX8),
                                   F("level_3", 27, 8, PX8)};
static const rp_dec_field i_W[] = {ITCH_HEAD, F("breached_level", 11, 1, CHAR)};
static const rp_dec_field i_K[] = {
    ITCH_HEAD, F("stock", 11, 8, ALPHA), F("ipo_quotation_release_time", 19, 4, UINT),
    F("ipo_quotation_release_qualifier", 23, 1, CHAR), F("ipo_price", 24, 4, PX4)};
static const rp_dec_field i_J[] = {ITCH_HEAD,
                                   F("stock", 11, 8, ALPHA),
                                   F("auction_collar_reference_price", 19, 4, PX4),
                                   F("upper_auction_collar_price", 23, 4, PX4),
                                   F("lower_auction_collar_price", 27, 4, PX4),
                                   F("auction_collar_extension", 31, 4, UINT)};
static const rp_dec_field i_h[] = {ITCH_HEAD, F("stock", 11, 8, ALPHA),
                                   F("market_code", 19, 1, CHAR),
                                   F("operational_halt_action", 20, 1, CHAR)};
/* the fields that add orders (A, F) and trades (P) share, and executions (E, C) */
#define ADD_ORDER                                                                                  \
    F("order_reference_number", 11, 8, UINT), F("buy_sell_indicator", 19, 1, CHAR),                \
        F("shares", 20, 4, UINT), F("stock", 24, 8, ALPHA), F("price", 32, 4, PX4)
#define EXECUTED                                                                                   \
    F("order_reference_number", 11, 8, UINT), F("executed_shares", 19, 4, UINT),                   \
        F("match_number", 23, 8, UINT)
static const rp_dec_field i_A[] = {ITCH_HEAD, ADD_ORDER};
static const rp_dec_field i_F[] = {ITCH_HEAD, ADD_ORDER, F("attribution", 36, 4, ALPHA)};
static const rp_dec_field i_E[] = {ITCH_HEAD, EXECUTED};
static const rp_dec_field i_C[] = {ITCH_HEAD, EXECUTED, F("printable", 31, 1, CHAR),
                                   F("execution_price", 32, 4, PX4)};
static const rp_dec_field i_X[] = {ITCH_HEAD, F("order_reference_number", 11, 8, UINT),
                                   F("cancelled_shares", 19, 4, UINT)};
static const rp_dec_field i_D[] = {ITCH_HEAD, F("order_reference_number", 11, 8, UINT)};
static const rp_dec_field i_U[] = {ITCH_HEAD, F("original_order_reference_number", 11, 8, UINT),
                                   F("new_order_reference_number", 19, 8, UINT),
                                   F("shares", 27, 4, UINT), F("price", 31, 4, PX4)};
static const rp_dec_field i_P[] = {ITCH_HEAD, ADD_ORDER, F("match_number", 36, 8, UINT)};
static const rp_dec_field i_Q[] = {ITCH_HEAD,
                                   F("shares", 11, 8, UINT),
                                   F("stock", 19, 8, ALPHA),
                                   F("cross_price", 27, 4, PX4),
                                   F("match_number", 31, 8, UINT),
                                   F("cross_type", 39, 1, CHAR)};
static const rp_dec_field i_B[] = {ITCH_HEAD, F("match_number", 11, 8, UINT)};
static const rp_dec_field i_I[] = {ITCH_HEAD,
                                   F("paired_shares", 11, 8, UINT),
                                   F("imbalance_shares", 19, 8, UINT),
                                   F("imbalance_direction", 27, 1, CHAR),
                                   F("stock", 28, 8, ALPHA),
                                   F("far_price", 36, 4, PX4),
                                   F("near_price", 40, 4, PX4),
                                   F("current_reference_price", 44, 4, PX4),
                                   F("cross_type", 48, 1, CHAR),
                                   F("price_variation_indicator", 49, 1, CHAR)};
static const rp_dec_field i_N[] = {ITCH_HEAD, F("stock", 11, 8, ALPHA),
                                   F("interest_flag", 19, 1, CHAR)};
static const rp_dec_field i_O[] = {ITCH_HEAD,
                                   F("stock", 11, 8, ALPHA),
                                   F("open_eligibility_status", 19, 1, CHAR),
                                   F("minimum_allowable_price", 20, 4, PX4),
                                   F("maximum_allowable_price", 24, 4, PX4),
                                   F("near_execution_price", 28, 4, PX4),
                                   F("near_execution_time", 32, 8, UINT),
                                   F("lower_price_range_collar", 40, 4, PX4),
                                   F("upper_price_range_collar", 44, 4, PX4)};

const rp_dec_type rp_dec_itch_types[] = {
    ITCH('S', "system_event", 12, NONE, 0, i_S),
    ITCH('R', "stock_directory", 39, FIELD, 11, i_R),
    ITCH('H', "stock_trading_action", 25, FIELD, 11, i_H),
    ITCH('Y', "reg_sho_restriction", 20, FIELD, 11, i_Y),
    ITCH('L', "market_participant_position", 26, FIELD, 15, i_L),
    ITCH('V', "mwcb_decline_level", 35, NONE, 0, i_V),
    ITCH('W', "mwcb_status", 12, NONE, 0, i_W),
    ITCH('K', "ipo_quoting_period_update", 28, FIELD, 11, i_K),
    ITCH('J', "luld_auction_collar", 35, FIELD, 11, i_J),
    ITCH('h', "operational_halt", 21, FIELD, 11, i_h),
    ITCH('A', "add_order", 36, FIELD, 24, i_A),
    ITCH('F', "add_order_mpid", 40, FIELD, 24, i_F),
    ITCH('E', "order_executed", 31, LOCATE, 0, i_E),
    ITCH('C', "order_executed_with_price", 36, LOCATE, 0, i_C),
    ITCH('X', "order_cancel", 23, LOCATE, 0, i_X),
    ITCH('D', "order_delete", 19, LOCATE, 0, i_D),
    ITCH('U', "order_replace", 35, LOCATE, 0, i_U),
    ITCH('P', "trade", 44, FIELD, 24, i_P),
    ITCH('Q', "cross_trade", 40, FIELD, 19, i_Q),
    ITCH('B', "broken_trade", 19, LOCATE, 0, i_B),
    ITCH('I', "noii", 50, FIELD, 28, i_I),
    ITCH('N', "rpii", 20, FIELD, 11, i_N),
    ITCH('O', "dlcr_price_discovery", 48, FIELD, 11, i_O),
    {0},
};

/* ---- IEX TOPS 1.6 / DEEP 1.0 ---------------------------------------------------------------- */

#define SYM F("symbol", 10, 8, ALPHA)
static const rp_dec_field x_S[] = {IEX_HEAD("system_event", CHAR)};
static const rp_dec_field x_D[] = {IEX_HEAD("flags", UINT), SYM, F("round_lot_size", 18, 4, UINT),
                                   F("adjusted_poc_price", 22, 8, PX4),
                                   F("luld_tier", 30, 1, UINT)};
static const rp_dec_field x_H[] = {IEX_HEAD("trading_status", CHAR), SYM,
                                   F("reason", 18, 4, ALPHA)};
static const rp_dec_field x_O[] = {IEX_HEAD("operational_halt_status", CHAR), SYM};
static const rp_dec_field x_P[] = {IEX_HEAD("short_sale_price_test_status", UINT), SYM,
                                   F("detail", 18, 1, CHAR)};
static const rp_dec_field x_E[] = {IEX_HEAD("security_event", CHAR), SYM};
static const rp_dec_field x_Q[] = {IEX_HEAD("flags", UINT),    SYM,
                                   F("bid_size", 18, 4, UINT), F("bid_price", 22, 8, PX4),
                                   F("ask_price", 30, 8, PX4), F("ask_size", 38, 4, UINT)};
static const rp_dec_field x_T[] = {IEX_HEAD("sale_condition_flags", UINT), SYM,
                                   F("size", 18, 4, UINT), F("price", 22, 8, PX4),
                                   F("trade_id", 30, 8, INT)};
static const rp_dec_field x_X[] = {IEX_HEAD("price_type", CHAR), SYM,
                                   F("official_price", 18, 8, PX4)};
static const rp_dec_field x_A[] = {IEX_HEAD("auction_type", CHAR),
                                   SYM,
                                   F("paired_shares", 18, 4, UINT),
                                   F("reference_price", 22, 8, PX4),
                                   F("indicative_clearing_price", 30, 8, PX4),
                                   F("imbalance_shares", 38, 4, UINT),
                                   F("imbalance_side", 42, 1, CHAR),
                                   F("extension_number", 43, 1, UINT),
                                   F("scheduled_auction_time", 44, 4, UINT),
                                   F("auction_book_clearing_price", 48, 8, PX4),
                                   F("collar_reference_price", 56, 8, PX4),
                                   F("lower_auction_collar", 64, 8, PX4),
                                   F("upper_auction_collar", 72, 8, PX4)};
static const rp_dec_field x_L[] = {IEX_HEAD("event_flags", UINT), SYM, F("size", 18, 4, UINT),
                                   F("price", 22, 8, PX4)};
static const rp_dec_field x_I[] = {IEX_HEAD("retail_liquidity_indicator", CHAR), SYM};

const rp_dec_type rp_dec_iex_types[] = {
    IEX('S', "system_event", 10, NONE, x_S),
    IEX('D', "security_directory", 31, FIELD, x_D),
    IEX('H', "trading_status", 22, FIELD, x_H),
    IEX('O', "operational_halt_status", 18, FIELD, x_O),
    IEX('P', "short_sale_price_test_status", 19, FIELD, x_P),
    IEX('E', "security_event", 18, FIELD, x_E),
    IEX('Q', "quote_update", 42, FIELD, x_Q),
    IEX('T', "trade_report", 38, FIELD, x_T),
    IEX('X', "official_price", 26, FIELD, x_X),
    IEX('B', "trade_break", 38, FIELD, x_T),
    IEX('A', "auction_information", 80, FIELD, x_A),
    IEX('8', "price_level_update_buy", 30, FIELD, x_L),
    IEX('5', "price_level_update_sell", 30, FIELD, x_L),
    IEX('I', "retail_liquidity_indicator", 18, FIELD, x_I),
    {0},
};
