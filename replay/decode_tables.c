/* decode_tables.c - field tables of the message layouts: Nasdaq ITCH 5.0, IEX TOPS 1.6 / DEEP 1.0
 * and Databento DBN records
 *
 * Design notes
 * - The specifications' tables as data: one row per field (name, offset, width, kind) and one
 *   row per message type. Written by hand from the public specifications (Nasdaq
 *   TotalView-ITCH 5.0; IEX TOPS 1.6 and DEEP 1.0; Databento's description of the DBN record
 *   layouts); no Debian library decodes them. Field names are the specifications' names in
 *   snake_case. decode.c is the one piece of code that reads them.
 * - ITCH 5.0: big-endian; every message starts with its type, stock_locate, tracking_number and a
 *   6-byte timestamp (ns since midnight); prices are u32 with 4 decimals, the MWCB levels u64
 *   with 8. Sizes agree with rp_itch_sizes (itch.h), which test_rp_decode checks.
 * - IEX TOPS / DEEP: little-endian; every message starts with its type, one flag or code byte and
 *   an 8-byte timestamp (ns since the epoch); symbols are 8 space-padded bytes, prices i64 with 4
 *   decimals. The two feeds share their message types except the quote update ('Q', TOPS) and
 *   the price level updates ('8' buy, '5' sell, DEEP), so one table serves both.
 * - DBN: little-endian; every record starts with the 16-byte header (length in 4-byte words,
 *   rtype, publisher_id, instrument_id, ts_event). Prices are i64 in units of 1e-9 (INT64_MAX:
 *   undefined), times u64 ns since the epoch (UINT64_MAX: undefined). Field names are
 *   Databento's.
 * - DBN layouts that changed between versions have one row per layout, marked with the versions
 *   it is of: statistics (quantity i32 in versions 1 and 2, i64 in 3) and definition (360 bytes
 *   in version 1, 400 in version 2, 520 in version 3: the symbol widths, the place of
 *   strike_price and the leg fields differ). Status has one layout for every version. MBP-1 and
 *   TBBO share rtype 0x01: the metadata schema tells them apart.
 * - DBN book levels (MBP-1, TBBO, BBO: one; MBP-10: ten) are a group: an array in JSON,
 *   flattened columns (bid_px_00, ...) in CSV.
 */
#include "decode.h"

#define F(n, o, w, k)                                                                              \
    {                                                                                              \
        n, o, w, RP_DK_##k                                                                         \
    }
#define N(a) (uint16_t)(sizeof(a) / sizeof(a[0])), a
#define ITCH_HEAD                                                                                  \
    F("message_type", 0, 1, CHAR), F("stock_locate", 1, 2, UINT),                                  \
        F("tracking_number", 3, 2, UINT), F("timestamp", 5, 6, TOD)
#define IEX_HEAD(flag, kind)                                                                       \
    F("message_type", 0, 1, CHAR), F(flag, 1, 1, kind), F("timestamp", 2, 8, TS)
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

/* ---- Databento DBN ----------------------------------------------------------------------------
 */

#define HD                                                                                         \
    F("length", 0, 1, UINT), F("rtype", 1, 1, UINT), F("publisher_id", 2, 2, UINT),                \
        F("instrument_id", 4, 4, UINT), F("ts_event", 8, 8, TS)
#define ANY    0xff
#define V1     (1u << 1)
#define V2     (1u << 2)
#define V12    (V1 | V2)
#define V3     (1u << 3)
#define LEVELS "levels", rp__level, 6
#define ROW(rt, name, size, ver, schema, f)                                                        \
    {                                                                                              \
        name, rt, size, RP_DEC_DBN, ver, schema, RP_SYM_INSTR, 4, N(f), NULL, NULL, 0, 0, 0, 0     \
    }
#define BOOK(rt, name, size, schema, f, count)                                                     \
    {                                                                                              \
        name, rt, size, RP_DEC_DBN, 0, schema, RP_SYM_INSTR, 4, N(f), LEVELS, count, 48, 32        \
    }

static const rp_dec_field rp__level[] = {
    F("bid_px", 0, 8, PX9),   F("ask_px", 8, 8, PX9),   F("bid_sz", 16, 4, UINT),
    F("ask_sz", 20, 4, UINT), F("bid_ct", 24, 4, UINT), F("ask_ct", 28, 4, UINT),
};

static const rp_dec_field d_mbo[] = {
    HD,
    F("order_id", 16, 8, UINT),
    F("price", 24, 8, PX9),
    F("size", 32, 4, UINT),
    F("flags", 36, 1, UINT),
    F("channel_id", 37, 1, UINT),
    F("action", 38, 1, CHAR),
    F("side", 39, 1, CHAR),
    F("ts_recv", 40, 8, TS),
    F("ts_in_delta", 48, 4, INT),
    F("sequence", 52, 4, UINT),
};
/* trades, and the part before the levels of MBP-1, TBBO and MBP-10 */
static const rp_dec_field d_mbp[] = {
    HD,
    F("price", 16, 8, PX9),
    F("size", 24, 4, UINT),
    F("action", 28, 1, CHAR),
    F("side", 29, 1, CHAR),
    F("flags", 30, 1, UINT),
    F("depth", 31, 1, UINT),
    F("ts_recv", 32, 8, TS),
    F("ts_in_delta", 40, 4, INT),
    F("sequence", 44, 4, UINT),
};
static const rp_dec_field d_bbo[] = {
    HD,
    F("price", 16, 8, PX9),
    F("size", 24, 4, UINT),
    F("side", 29, 1, CHAR),
    F("flags", 30, 1, UINT),
    F("ts_recv", 32, 8, TS),
    F("sequence", 44, 4, UINT),
};
static const rp_dec_field d_ohlcv[] = {
    HD,
    F("open", 16, 8, PX9),
    F("high", 24, 8, PX9),
    F("low", 32, 8, PX9),
    F("close", 40, 8, PX9),
    F("volume", 48, 8, UINT),
};
static const rp_dec_field d_status[] = {
    HD,
    F("ts_recv", 16, 8, TS),
    F("action", 24, 2, UINT),
    F("reason", 26, 2, UINT),
    F("trading_event", 28, 2, UINT),
    F("is_trading", 30, 1, CHAR),
    F("is_quoting", 31, 1, CHAR),
    F("is_short_sell_restricted", 32, 1, CHAR),
};
static const rp_dec_field d_imbalance[] = {
    HD,
    F("ts_recv", 16, 8, TS),
    F("ref_price", 24, 8, PX9),
    F("auction_time", 32, 8, TS),
    F("cont_book_clr_price", 40, 8, PX9),
    F("auct_interest_clr_price", 48, 8, PX9),
    F("ssr_filling_price", 56, 8, PX9),
    F("ind_match_price", 64, 8, PX9),
    F("upper_collar", 72, 8, PX9),
    F("lower_collar", 80, 8, PX9),
    F("paired_qty", 88, 4, UINT),
    F("total_imbalance_qty", 92, 4, UINT),
    F("market_imbalance_qty", 96, 4, UINT),
    F("unpaired_qty", 100, 4, INT),
    F("auction_type", 104, 1, CHAR),
    F("side", 105, 1, CHAR),
    F("auction_status", 106, 1, UINT),
    F("freeze_status", 107, 1, UINT),
    F("num_extensions", 108, 1, UINT),
    F("unpaired_side", 109, 1, CHAR),
    F("significant_imbalance", 110, 1, CHAR),
};
static const rp_dec_field d_stat12[] = {
    HD,
    F("ts_recv", 16, 8, TS),
    F("ts_ref", 24, 8, TS),
    F("price", 32, 8, PX9),
    F("quantity", 40, 4, INT),
    F("sequence", 44, 4, UINT),
    F("ts_in_delta", 48, 4, INT),
    F("stat_type", 52, 2, UINT),
    F("channel_id", 54, 2, UINT),
    F("update_action", 56, 1, UINT),
    F("stat_flags", 57, 1, UINT),
};
static const rp_dec_field d_stat3[] = {
    HD,
    F("ts_recv", 16, 8, TS),
    F("ts_ref", 24, 8, TS),
    F("price", 32, 8, PX9),
    F("quantity", 40, 8, INT),
    F("sequence", 48, 4, UINT),
    F("ts_in_delta", 52, 4, INT),
    F("stat_type", 56, 2, UINT),
    F("channel_id", 58, 2, UINT),
    F("update_action", 60, 1, UINT),
    F("stat_flags", 61, 1, UINT),
};
#define DEF_HEAD                                                                                   \
    HD, F("ts_recv", 16, 8, TS), F("min_price_increment", 24, 8, PX9),                             \
        F("display_factor", 32, 8, PX9), F("expiration", 40, 8, TS), F("activation", 48, 8, TS),   \
        F("high_limit_price", 56, 8, PX9), F("low_limit_price", 64, 8, PX9),                       \
        F("max_price_variation", 72, 8, PX9)
/* versions 1 and 2: the same fields up to min_trade_vol, in another order after the prices */
#define DEF12_MID(o)                                                                               \
    F("inst_attrib_value", 112 + (o), 4, INT), F("underlying_id", 116 + (o), 4, UINT),             \
        F("raw_instrument_id", 120 + (o), 4, UINT), F("market_depth_implied", 124 + (o), 4, INT),  \
        F("market_depth", 128 + (o), 4, INT), F("market_segment_id", 132 + (o), 4, UINT),          \
        F("max_trade_vol", 136 + (o), 4, UINT), F("min_lot_size", 140 + (o), 4, INT),              \
        F("min_lot_size_block", 144 + (o), 4, INT),                                                \
        F("min_lot_size_round_lot", 148 + (o), 4, INT), F("min_trade_vol", 152 + (o), 4, UINT)
#define DEF12_DATES(o)                                                                             \
    F("contract_multiplier", 156 + (o), 4, INT), F("decay_quantity", 160 + (o), 4, INT),           \
        F("original_contract_size", 164 + (o), 4, INT), F("trading_reference_date", 176, 2, UINT), \
        F("appl_id", 178, 2, INT), F("maturity_year", 180, 2, UINT),                               \
        F("decay_start_date", 182, 2, UINT), F("channel_id", 184, 2, UINT),                        \
        F("currency", 186, 4, ALPHA), F("settl_currency", 190, 4, ALPHA),                          \
        F("secsubtype", 194, 6, ALPHA)
/* the text fields after raw_symbol (which is 22 bytes in version 1, 71 in version 2) */
#define DEF12_TEXT(o)                                                                              \
    F("group", 222 + (o), 21, ALPHA), F("exchange", 243 + (o), 5, ALPHA),                          \
        F("asset", 248 + (o), 7, ALPHA), F("cfi", 255 + (o), 7, ALPHA),                            \
        F("security_type", 262 + (o), 7, ALPHA), F("unit_of_measure", 269 + (o), 31, ALPHA),       \
        F("underlying", 300 + (o), 21, ALPHA), F("strike_price_currency", 321 + (o), 4, ALPHA),    \
        F("instrument_class", 325 + (o), 1, CHAR)
#define DEF12_TAIL(o)                                                                              \
    F("match_algorithm", 342 + (o), 1, CHAR), F("md_security_trading_status", 343 + (o), 1, UINT), \
        F("main_fraction", 344 + (o), 1, UINT), F("price_display_format", 345 + (o), 1, UINT),     \
        F("settl_price_type", 346 + (o), 1, UINT), F("sub_fraction", 347 + (o), 1, UINT),          \
        F("underlying_product", 348 + (o), 1, UINT),                                               \
        F("security_update_action", 349 + (o), 1, CHAR), F("maturity_month", 350 + (o), 1, UINT),  \
        F("maturity_day", 351 + (o), 1, UINT), F("maturity_week", 352 + (o), 1, UINT),             \
        F("user_defined_instrument", 353 + (o), 1, CHAR),                                          \
        F("contract_multiplier_unit", 354 + (o), 1, INT),                                          \
        F("flow_schedule_type", 355 + (o), 1, INT), F("tick_rule", 356 + (o), 1, UINT)
#define DEF12_PRICES                                                                               \
    F("trading_reference_price", 80, 8, PX9), F("unit_of_measure_qty", 88, 8, PX9),                \
        F("min_price_increment_amount", 96, 8, PX9), F("price_ratio", 104, 8, PX9)
/* version 1: 360 bytes; strike_price after instrument_class, reserved bytes between */
static const rp_dec_field d_def1[] = {
    DEF_HEAD,
    DEF12_PRICES,
    DEF12_MID(0),
    DEF12_DATES(4),
    F("raw_symbol", 200, 22, ALPHA),
    DEF12_TEXT(0),
    F("strike_price", 328, 8, PX9),
    DEF12_TAIL(0),
};
/* version 2: 400 bytes; strike_price after price_ratio, raw_symbol 71 bytes, no reserved gaps */
static const rp_dec_field d_def2[] = {
    DEF_HEAD,       DEF12_PRICES,   F("strike_price", 112, 8, PX9),
    DEF12_MID(8),   DEF12_DATES(8), F("raw_symbol", 200, 71, ALPHA),
    DEF12_TEXT(49), DEF12_TAIL(33),
};
static const rp_dec_field d_def3[] = {
    DEF_HEAD,
    F("unit_of_measure_qty", 80, 8, PX9),
    F("min_price_increment_amount", 88, 8, PX9),
    F("price_ratio", 96, 8, PX9),
    F("strike_price", 104, 8, PX9),
    F("raw_instrument_id", 112, 8, UINT),
    F("leg_price", 120, 8, PX9),
    F("leg_delta", 128, 8, PX9),
    F("inst_attrib_value", 136, 4, INT),
    F("underlying_id", 140, 4, UINT),
    F("market_depth_implied", 144, 4, INT),
    F("market_depth", 148, 4, INT),
    F("market_segment_id", 152, 4, UINT),
    F("max_trade_vol", 156, 4, UINT),
    F("min_lot_size", 160, 4, INT),
    F("min_lot_size_block", 164, 4, INT),
    F("min_lot_size_round_lot", 168, 4, INT),
    F("min_trade_vol", 172, 4, UINT),
    F("contract_multiplier", 176, 4, INT),
    F("decay_quantity", 180, 4, INT),
    F("original_contract_size", 184, 4, INT),
    F("leg_instrument_id", 188, 4, UINT),
    F("leg_ratio_price_numerator", 192, 4, INT),
    F("leg_ratio_price_denominator", 196, 4, INT),
    F("leg_ratio_qty_numerator", 200, 4, INT),
    F("leg_ratio_qty_denominator", 204, 4, INT),
    F("leg_underlying_id", 208, 4, UINT),
    F("appl_id", 212, 2, INT),
    F("maturity_year", 214, 2, UINT),
    F("decay_start_date", 216, 2, UINT),
    F("channel_id", 218, 2, UINT),
    F("leg_count", 220, 2, UINT),
    F("leg_index", 222, 2, UINT),
    F("currency", 224, 4, ALPHA),
    F("settl_currency", 228, 4, ALPHA),
    F("secsubtype", 232, 6, ALPHA),
    F("raw_symbol", 238, 71, ALPHA),
    F("group", 309, 21, ALPHA),
    F("exchange", 330, 5, ALPHA),
    F("asset", 335, 11, ALPHA),
    F("cfi", 346, 7, ALPHA),
    F("security_type", 353, 7, ALPHA),
    F("unit_of_measure", 360, 31, ALPHA),
    F("underlying", 391, 21, ALPHA),
    F("strike_price_currency", 412, 4, ALPHA),
    F("leg_raw_symbol", 416, 71, ALPHA),
    F("instrument_class", 487, 1, CHAR),
    F("match_algorithm", 488, 1, CHAR),
    F("main_fraction", 489, 1, UINT),
    F("price_display_format", 490, 1, UINT),
    F("sub_fraction", 491, 1, UINT),
    F("underlying_product", 492, 1, UINT),
    F("security_update_action", 493, 1, CHAR),
    F("maturity_month", 494, 1, UINT),
    F("maturity_day", 495, 1, UINT),
    F("maturity_week", 496, 1, UINT),
    F("user_defined_instrument", 497, 1, CHAR),
    F("contract_multiplier_unit", 498, 1, INT),
    F("flow_schedule_type", 499, 1, INT),
    F("tick_rule", 500, 1, UINT),
    F("leg_instrument_class", 501, 1, CHAR),
    F("leg_side", 502, 1, CHAR),
};

const rp_dec_type rp_dec_dbn_types[] = {
    ROW(0xa0, "mbo", 56, 0, ANY, d_mbo),
    ROW(0x00, "trades", 48, 0, ANY, d_mbp),
    BOOK(0x01, "tbbo", 80, 3, d_mbp, 1),
    BOOK(0x01, "mbp-1", 80, ANY, d_mbp, 1),
    BOOK(0x0a, "mbp-10", 368, ANY, d_mbp, 10),
    BOOK(0xc3, "bbo-1s", 80, ANY, d_bbo, 1),
    BOOK(0xc4, "bbo-1m", 80, ANY, d_bbo, 1),
    ROW(0x20, "ohlcv-1s", 56, 0, ANY, d_ohlcv),
    ROW(0x21, "ohlcv-1m", 56, 0, ANY, d_ohlcv),
    ROW(0x22, "ohlcv-1h", 56, 0, ANY, d_ohlcv),
    ROW(0x23, "ohlcv-1d", 56, 0, ANY, d_ohlcv),
    ROW(0x24, "ohlcv-eod", 56, 0, ANY, d_ohlcv),
    ROW(0x12, "status", 40, 0, ANY, d_status),
    ROW(0x13, "definition", 520, V3, ANY, d_def3),
    ROW(0x13, "definition", 400, V2, ANY, d_def2),
    ROW(0x13, "definition", 360, V1, ANY, d_def1),
    ROW(0x14, "imbalance", 112, 0, ANY, d_imbalance),
    ROW(0x18, "statistics", 80, V3, ANY, d_stat3),
    ROW(0x18, "statistics", 64, V12, ANY, d_stat12),
    {0},
};
