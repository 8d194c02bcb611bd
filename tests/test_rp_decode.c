/* test_rp_decode.c - the decoded message dumps (replay/decode*.c, replay/dump.c): every message
 * type of the field tables built by hand and checked field by field, readable values, symbols
 *
 * Each type is described here a second time, independently of the tables: its fields in order
 * as "name:kind" tokens (c char, aN text, uN unsigned, iN signed, pN price 4 decimals, qN price
 * 8 decimals, xN DBN price, tN time, _N bytes skipped). The test lays the fields out one after
 * the other from these widths (so an offset in a table that is off shows), stores a distinct
 * value in each with byteorder.h, and compares the CSV header and row the emitter writes with
 * the names and values it expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"

#include "decode.h"
#include "dump.h"
#include "itch.h"
#include "source.h"

#define IH    "message_type:c stock_locate:u2 tracking_number:u2 timestamp:t6 "
#define XH(f) "message_type:c " f " timestamp:t8 "
#define XS    "symbol:a8 "
#define DH    "length:u1 rtype:u1 publisher_id:u2 instrument_id:u4 ts_event:t8 "
#define MBP                                                                                        \
    DH "price:x8 size:u4 action:c side:c flags:u1 depth:u1 ts_recv:t8 ts_in_delta:i4 sequence:u4 "
#define DEFH                                                                                       \
    DH "ts_recv:t8 min_price_increment:x8 display_factor:x8 expiration:t8 activation:t8 "          \
       "high_limit_price:x8 low_limit_price:x8 max_price_variation:x8 "

typedef struct spec {
    rp_dec_proto proto;
    uint16_t type;
    uint8_t version; /* DBN */
    uint16_t schema; /* DBN */
    const char *name;
    uint16_t size;
    const char *fields;
    unsigned levels; /* DBN book levels after the fields */
} spec;

static const spec specs[] = {
    {RP_DEC_ITCH, 'S', 0, 0, "system_event", 12, IH "event_code:c", 0},
    {RP_DEC_ITCH, 'R', 0, 0, "stock_directory", 39,
     IH "stock:a8 market_category:c financial_status_indicator:c round_lot_size:u4 "
        "round_lots_only:c issue_classification:c issue_sub_type:a2 authenticity:c "
        "short_sale_threshold_indicator:c ipo_flag:c luld_reference_price_tier:c etp_flag:c "
        "etp_leverage_factor:u4 inverse_indicator:c",
     0},
    {RP_DEC_ITCH, 'H', 0, 0, "stock_trading_action", 25,
     IH "stock:a8 trading_state:c reserved:c reason:a4", 0},
    {RP_DEC_ITCH, 'Y', 0, 0, "reg_sho_restriction", 20, IH "stock:a8 reg_sho_action:c", 0},
    {RP_DEC_ITCH, 'L', 0, 0, "market_participant_position", 26,
     IH "mpid:a4 stock:a8 primary_market_maker:c market_maker_mode:c market_participant_state:c",
     0},
    {RP_DEC_ITCH, 'V', 0, 0, "mwcb_decline_level", 35, IH "level_1:q8 level_2:q8 level_3:q8", 0},
    {RP_DEC_ITCH, 'W', 0, 0, "mwcb_status", 12, IH "breached_level:c", 0},
    {RP_DEC_ITCH, 'K', 0, 0, "ipo_quoting_period_update", 28,
     IH "stock:a8 ipo_quotation_release_time:u4 ipo_quotation_release_qualifier:c ipo_price:p4", 0},
    {RP_DEC_ITCH, 'J', 0, 0, "luld_auction_collar", 35,
     IH "stock:a8 auction_collar_reference_price:p4 upper_auction_collar_price:p4 "
        "lower_auction_collar_price:p4 auction_collar_extension:u4",
     0},
    {RP_DEC_ITCH, 'h', 0, 0, "operational_halt", 21,
     IH "stock:a8 market_code:c operational_halt_action:c", 0},
    {RP_DEC_ITCH, 'A', 0, 0, "add_order", 36,
     IH "order_reference_number:u8 buy_sell_indicator:c shares:u4 stock:a8 price:p4", 0},
    {RP_DEC_ITCH, 'F', 0, 0, "add_order_mpid", 40,
     IH "order_reference_number:u8 buy_sell_indicator:c shares:u4 stock:a8 price:p4 "
        "attribution:a4",
     0},
    {RP_DEC_ITCH, 'E', 0, 0, "order_executed", 31,
     IH "order_reference_number:u8 executed_shares:u4 match_number:u8", 0},
    {RP_DEC_ITCH, 'C', 0, 0, "order_executed_with_price", 36,
     IH "order_reference_number:u8 executed_shares:u4 match_number:u8 printable:c "
        "execution_price:p4",
     0},
    {RP_DEC_ITCH, 'X', 0, 0, "order_cancel", 23, IH "order_reference_number:u8 cancelled_shares:u4",
     0},
    {RP_DEC_ITCH, 'D', 0, 0, "order_delete", 19, IH "order_reference_number:u8", 0},
    {RP_DEC_ITCH, 'U', 0, 0, "order_replace", 35,
     IH "original_order_reference_number:u8 new_order_reference_number:u8 shares:u4 price:p4", 0},
    {RP_DEC_ITCH, 'P', 0, 0, "trade", 44,
     IH "order_reference_number:u8 buy_sell_indicator:c shares:u4 stock:a8 price:p4 "
        "match_number:u8",
     0},
    {RP_DEC_ITCH, 'Q', 0, 0, "cross_trade", 40,
     IH "shares:u8 stock:a8 cross_price:p4 match_number:u8 cross_type:c", 0},
    {RP_DEC_ITCH, 'B', 0, 0, "broken_trade", 19, IH "match_number:u8", 0},
    {RP_DEC_ITCH, 'I', 0, 0, "noii", 50,
     IH "paired_shares:u8 imbalance_shares:u8 imbalance_direction:c stock:a8 far_price:p4 "
        "near_price:p4 current_reference_price:p4 cross_type:c price_variation_indicator:c",
     0},
    {RP_DEC_ITCH, 'N', 0, 0, "rpii", 20, IH "stock:a8 interest_flag:c", 0},
    {RP_DEC_ITCH, 'O', 0, 0, "dlcr_price_discovery", 48,
     IH "stock:a8 open_eligibility_status:c minimum_allowable_price:p4 "
        "maximum_allowable_price:p4 near_execution_price:p4 near_execution_time:u8 "
        "lower_price_range_collar:p4 upper_price_range_collar:p4",
     0},
    {RP_DEC_IEX, 'S', 0, 0, "system_event", 10, XH("system_event:c"), 0},
    {RP_DEC_IEX, 'D', 0, 0, "security_directory", 31,
     XH("flags:u1") XS "round_lot_size:u4 adjusted_poc_price:p8 luld_tier:u1", 0},
    {RP_DEC_IEX, 'H', 0, 0, "trading_status", 22, XH("trading_status:c") XS "reason:a4", 0},
    {RP_DEC_IEX, 'O', 0, 0, "operational_halt_status", 18, XH("operational_halt_status:c") XS, 0},
    {RP_DEC_IEX, 'P', 0, 0, "short_sale_price_test_status", 19,
     XH("short_sale_price_test_status:u1") XS "detail:c", 0},
    {RP_DEC_IEX, 'E', 0, 0, "security_event", 18, XH("security_event:c") XS, 0},
    {RP_DEC_IEX, 'Q', 0, 0, "quote_update", 42,
     XH("flags:u1") XS "bid_size:u4 bid_price:p8 ask_price:p8 ask_size:u4", 0},
    {RP_DEC_IEX, 'T', 0, 0, "trade_report", 38,
     XH("sale_condition_flags:u1") XS "size:u4 price:p8 trade_id:i8", 0},
    {RP_DEC_IEX, 'X', 0, 0, "official_price", 26, XH("price_type:c") XS "official_price:p8", 0},
    {RP_DEC_IEX, 'B', 0, 0, "trade_break", 38,
     XH("sale_condition_flags:u1") XS "size:u4 price:p8 trade_id:i8", 0},
    {RP_DEC_IEX, 'A', 0, 0, "auction_information", 80,
     XH("auction_type:c") XS "paired_shares:u4 reference_price:p8 indicative_clearing_price:p8 "
                             "imbalance_shares:u4 imbalance_side:c extension_number:u1 "
                             "scheduled_auction_time:u4 auction_book_clearing_price:p8 "
                             "collar_reference_price:p8 lower_auction_collar:p8 "
                             "upper_auction_collar:p8",
     0},
    {RP_DEC_IEX, '8', 0, 0, "price_level_update_buy", 30,
     XH("event_flags:u1") XS "size:u4 price:p8", 0},
    {RP_DEC_IEX, '5', 0, 0, "price_level_update_sell", 30,
     XH("event_flags:u1") XS "size:u4 price:p8", 0},
    {RP_DEC_IEX, 'I', 0, 0, "retail_liquidity_indicator", 18, XH("retail_liquidity_indicator:c") XS,
     0},
    {RP_DEC_DBN, 0xa0, 3, 0, "mbo", 56,
     DH "order_id:u8 price:x8 size:u4 flags:u1 channel_id:u1 action:c side:c ts_recv:t8 "
        "ts_in_delta:i4 sequence:u4",
     0},
    {RP_DEC_DBN, 0x00, 3, 4, "trades", 48, MBP, 0},
    {RP_DEC_DBN, 0x01, 3, 3, "tbbo", 80, MBP, 1},
    {RP_DEC_DBN, 0x01, 1, 1, "mbp-1", 80, MBP, 1},
    {RP_DEC_DBN, 0x0a, 2, 2, "mbp-10", 368, MBP, 10},
    {RP_DEC_DBN, 0xc3, 3, 18, "bbo-1s", 80,
     DH "price:x8 size:u4 _1 side:c flags:u1 _1 ts_recv:t8 _4 sequence:u4", 1},
    {RP_DEC_DBN, 0xc4, 3, 19, "bbo-1m", 80,
     DH "price:x8 size:u4 _1 side:c flags:u1 _1 ts_recv:t8 _4 sequence:u4", 1},
    {RP_DEC_DBN, 0x20, 3, 5, "ohlcv-1s", 56, DH "open:x8 high:x8 low:x8 close:x8 volume:u8", 0},
    {RP_DEC_DBN, 0x21, 3, 6, "ohlcv-1m", 56, DH "open:x8 high:x8 low:x8 close:x8 volume:u8", 0},
    {RP_DEC_DBN, 0x22, 3, 7, "ohlcv-1h", 56, DH "open:x8 high:x8 low:x8 close:x8 volume:u8", 0},
    {RP_DEC_DBN, 0x23, 3, 8, "ohlcv-1d", 56, DH "open:x8 high:x8 low:x8 close:x8 volume:u8", 0},
    {RP_DEC_DBN, 0x24, 3, 13, "ohlcv-eod", 56, DH "open:x8 high:x8 low:x8 close:x8 volume:u8", 0},
    {RP_DEC_DBN, 0x12, 3, 11, "status", 40,
     DH "ts_recv:t8 action:u2 reason:u2 trading_event:u2 is_trading:c is_quoting:c "
        "is_short_sell_restricted:c _7",
     0},
    {RP_DEC_DBN, 0x13, 3, 9, "definition", 520,
     DEFH "unit_of_measure_qty:x8 min_price_increment_amount:x8 price_ratio:x8 strike_price:x8 "
          "raw_instrument_id:u8 leg_price:x8 leg_delta:x8 inst_attrib_value:i4 underlying_id:u4 "
          "market_depth_implied:i4 market_depth:i4 market_segment_id:u4 max_trade_vol:u4 "
          "min_lot_size:i4 min_lot_size_block:i4 min_lot_size_round_lot:i4 min_trade_vol:u4 "
          "contract_multiplier:i4 decay_quantity:i4 original_contract_size:i4 "
          "leg_instrument_id:u4 leg_ratio_price_numerator:i4 leg_ratio_price_denominator:i4 "
          "leg_ratio_qty_numerator:i4 leg_ratio_qty_denominator:i4 leg_underlying_id:u4 "
          "appl_id:i2 maturity_year:u2 decay_start_date:u2 channel_id:u2 leg_count:u2 "
          "leg_index:u2 currency:a4 settl_currency:a4 secsubtype:a6 raw_symbol:a71 group:a21 "
          "exchange:a5 asset:a11 cfi:a7 security_type:a7 unit_of_measure:a31 underlying:a21 "
          "strike_price_currency:a4 leg_raw_symbol:a71 instrument_class:c match_algorithm:c "
          "main_fraction:u1 price_display_format:u1 sub_fraction:u1 underlying_product:u1 "
          "security_update_action:c maturity_month:u1 maturity_day:u1 maturity_week:u1 "
          "user_defined_instrument:c contract_multiplier_unit:i1 flow_schedule_type:i1 "
          "tick_rule:u1 leg_instrument_class:c leg_side:c _17",
     0},
    {RP_DEC_DBN, 0x13, 2, 9, "definition", 400,
     DEFH "trading_reference_price:x8 unit_of_measure_qty:x8 min_price_increment_amount:x8 "
          "price_ratio:x8 strike_price:x8 inst_attrib_value:i4 underlying_id:u4 "
          "raw_instrument_id:u4 market_depth_implied:i4 market_depth:i4 market_segment_id:u4 "
          "max_trade_vol:u4 min_lot_size:i4 min_lot_size_block:i4 min_lot_size_round_lot:i4 "
          "min_trade_vol:u4 contract_multiplier:i4 decay_quantity:i4 original_contract_size:i4 "
          "trading_reference_date:u2 appl_id:i2 maturity_year:u2 decay_start_date:u2 "
          "channel_id:u2 currency:a4 settl_currency:a4 secsubtype:a6 raw_symbol:a71 group:a21 "
          "exchange:a5 asset:a7 cfi:a7 security_type:a7 unit_of_measure:a31 underlying:a21 "
          "strike_price_currency:a4 instrument_class:c match_algorithm:c "
          "md_security_trading_status:u1 main_fraction:u1 price_display_format:u1 "
          "settl_price_type:u1 sub_fraction:u1 underlying_product:u1 security_update_action:c "
          "maturity_month:u1 maturity_day:u1 maturity_week:u1 user_defined_instrument:c "
          "contract_multiplier_unit:i1 flow_schedule_type:i1 tick_rule:u1 _10",
     0},
    {RP_DEC_DBN, 0x13, 1, 9, "definition", 360,
     DEFH "trading_reference_price:x8 unit_of_measure_qty:x8 min_price_increment_amount:x8 "
          "price_ratio:x8 inst_attrib_value:i4 underlying_id:u4 raw_instrument_id:u4 "
          "market_depth_implied:i4 market_depth:i4 market_segment_id:u4 max_trade_vol:u4 "
          "min_lot_size:i4 min_lot_size_block:i4 min_lot_size_round_lot:i4 min_trade_vol:u4 _4 "
          "contract_multiplier:i4 decay_quantity:i4 original_contract_size:i4 _4 "
          "trading_reference_date:u2 appl_id:i2 maturity_year:u2 decay_start_date:u2 "
          "channel_id:u2 currency:a4 settl_currency:a4 secsubtype:a6 raw_symbol:a22 group:a21 "
          "exchange:a5 asset:a7 cfi:a7 security_type:a7 unit_of_measure:a31 underlying:a21 "
          "strike_price_currency:a4 instrument_class:c _2 strike_price:x8 _6 match_algorithm:c "
          "md_security_trading_status:u1 main_fraction:u1 price_display_format:u1 "
          "settl_price_type:u1 sub_fraction:u1 underlying_product:u1 security_update_action:c "
          "maturity_month:u1 maturity_day:u1 maturity_week:u1 user_defined_instrument:c "
          "contract_multiplier_unit:i1 flow_schedule_type:i1 tick_rule:u1 _3",
     0},
    {RP_DEC_DBN, 0x14, 3, 12, "imbalance", 112,
     DH "ts_recv:t8 ref_price:x8 auction_time:t8 cont_book_clr_price:x8 "
        "auct_interest_clr_price:x8 ssr_filling_price:x8 ind_match_price:x8 upper_collar:x8 "
        "lower_collar:x8 paired_qty:u4 total_imbalance_qty:u4 market_imbalance_qty:u4 "
        "unpaired_qty:i4 auction_type:c side:c auction_status:u1 freeze_status:u1 "
        "num_extensions:u1 unpaired_side:c significant_imbalance:c _1",
     0},
    {RP_DEC_DBN, 0x18, 3, 10, "statistics", 80,
     DH "ts_recv:t8 ts_ref:t8 price:x8 quantity:i8 sequence:u4 ts_in_delta:i4 stat_type:u2 "
        "channel_id:u2 update_action:u1 stat_flags:u1 _18",
     0},
    {RP_DEC_DBN, 0x18, 1, 10, "statistics", 64,
     DH "ts_recv:t8 ts_ref:t8 price:x8 quantity:i4 sequence:u4 ts_in_delta:i4 stat_type:u2 "
        "channel_id:u2 update_action:u1 stat_flags:u1 _6",
     0},
};
#define NSPECS (sizeof specs / sizeof specs[0])

/* A message laid out from a spec, and the CSV header and row it must give. */
typedef struct built {
    uint8_t msg[1024];
    size_t len;
    char header[8192], row[8192];
} built;

static void cat(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    assert_true(n + strlen(s) + 2 < cap);
    if (n) strcat(dst, ",");
    strcat(dst, s);
}

static void store(uint8_t *p, unsigned w, uint64_t v, bool le)
{
    switch (w) {
    case 1:
        p[0] = (uint8_t)v;
        break;
    case 2:
        le ? ra_store_le16(p, (uint16_t)v) : ra_store_be16(p, (uint16_t)v);
        break;
    case 4:
        le ? ra_store_le32(p, (uint32_t)v) : ra_store_be32(p, (uint32_t)v);
        break;
    case 6:
        ra_store_be48(p, v);
        break;
    default:
        le ? ra_store_le64(p, v) : ra_store_be64(p, v);
        break;
    }
}

/* One "name:kind" token at b->msg + b->len; idx numbers it (a distinct value per field). */
static void put_field(built *b, const spec *s, const char *name, char kind, unsigned w,
                      unsigned idx)
{
    bool le = s->proto != RP_DEC_ITCH;
    uint8_t *p = b->msg + b->len;
    char val[96];
    if (kind == 'c') {
        char c = strcmp(name, "message_type") == 0 ? (char)s->type : (char)('a' + idx % 26);
        p[0] = (uint8_t)c;
        snprintf(val, sizeof val, "%c", c);
    } else if (kind == 'a') {
        char t[4] = {(char)('A' + idx % 26), (char)('a' + idx / 26 % 26), 'Z', 0};
        memset(p, le && s->proto == RP_DEC_DBN ? 0 : ' ', w);
        memcpy(p, t, w < 3 ? w : 3);
        snprintf(val, sizeof val, "%.*s", (int)(w < 3 ? w : 3), t);
    } else if (kind == 'i') {
        int64_t v = -(int64_t)(idx % 40 + 1) * 3;
        store(p, w, (uint64_t)v, le);
        snprintf(val, sizeof val, "%lld", (long long)v);
    } else {
        uint64_t v = (uint64_t)idx * 7 + 100;
        if (strcmp(name, "rtype") == 0) v = s->type;
        if (strcmp(name, "length") == 0) v = s->size / 4;
        if (w == 1) v &= 0xff;
        store(p, w, v, le);
        snprintf(val, sizeof val, "%llu", (unsigned long long)v);
    }
    cat(b->header, sizeof b->header, name);
    cat(b->row, sizeof b->row, val);
}

static void build(built *b, const spec *s)
{
    memset(b, 0, sizeof *b);
    char toks[4096];
    snprintf(toks, sizeof toks, "%s", s->fields);
    for (unsigned l = 0; l < s->levels; l++) {
        char lv[160];
        snprintf(lv, sizeof lv,
                 " bid_px_%02u:x8 ask_px_%02u:x8 bid_sz_%02u:u4 ask_sz_%02u:u4 bid_ct_%02u:u4 "
                 "ask_ct_%02u:u4",
                 l, l, l, l, l, l);
        strcat(toks, lv);
    }
    cat(b->header, sizeof b->header, "msg,stream,seq");
    snprintf(b->row, sizeof b->row, "%s,3,7", s->name);
    bool has_symbol = false;
    unsigned idx = 0;
    for (char *save = NULL, *t = strtok_r(toks, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (t[0] == '_') {
            b->len += (size_t)atoi(t + 1);
            continue;
        }
        char *colon = strchr(t, ':');
        assert_non_null(colon);
        *colon = '\0';
        unsigned w = colon[1] == 'c' ? 1 : (unsigned)atoi(colon + 2);
        put_field(b, s, t, colon[1], w, idx++);
        has_symbol = has_symbol || strcmp(t, "symbol") == 0;
        b->len += w;
    }
    if (!has_symbol) {
        cat(b->header, sizeof b->header, "symbol");
        strcat(b->row, ",");
    }
    strcat(b->header, "\n");
    strcat(b->row, "\n");
}

/* Runs fn into a memory stream. @return the text (free it). */
static char *capture(int (*fn)(FILE *, const void *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, arg), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

typedef struct emit_arg {
    const rp_dec_type *t;
    const built *b;
    const rp_dec_fmt *fmt;
    bool header, json;
} emit_arg;

static int emit(FILE *f, const void *p)
{
    const emit_arg *a = p;
    rp_dec_head h = {.msg = a->t->name, .stream = 3, .seq = 7};
    if (a->header) return rp_dec_csv_header(f, a->t, a->fmt);
    if (a->json) return rp_dec_json(f, a->t, &h, a->b->msg, (uint32_t)a->b->len, a->fmt);
    return rp_dec_csv(f, a->t, &h, a->b->msg, (uint32_t)a->b->len, a->fmt);
}

/* Every spec: its row, its size, and the CSV header and row field by field (raw values). */
static void every_type_every_field(void **state)
{
    (void)state;
    static built b;
    rp_dec_fmt raw = {.ts_raw = true, .px_raw = true, .tod_day = -1};
    for (size_t i = 0; i < NSPECS; i++) {
        const spec *s = &specs[i];
        build(&b, s);
        if (b.len != s->size) fail_msg("%s: fields end at %zu, size %u", s->name, b.len, s->size);
        if (s->proto == RP_DEC_ITCH) assert_int_equal(rp_itch_size((uint8_t)s->type), s->size);
        const rp_dec_type *t = rp_dec_find(s->proto, s->type, s->version, s->schema);
        assert_non_null(t);
        assert_string_equal(t->name, s->name);
        assert_int_equal(t->size, s->size);
        emit_arg a = {t, &b, &raw, true, false};
        char *hdr = capture(emit, &a);
        a.header = false;
        char *row = capture(emit, &a);
        if (strcmp(hdr, b.header) != 0 || strcmp(row, b.row) != 0)
            fail_msg("%s: got\n%s%s\nwant\n%s%s", s->name, hdr, row, b.header, b.row);
        free(hdr);
        free(row);
    }
}

/* The specs cover every row of the three tables. */
static void every_row_has_a_spec(void **state)
{
    (void)state;
    const rp_dec_type *tabs[] = {rp_dec_itch_types, rp_dec_iex_types, rp_dec_dbn_types};
    size_t rows = 0;
    for (size_t k = 0; k < 3; k++)
        for (const rp_dec_type *t = tabs[k]; t->name; t++) rows++;
    assert_int_equal(rows, NSPECS);
}

static char *json_of(const rp_dec_type *t, const uint8_t *msg, size_t len, const rp_dec_fmt *fmt)
{
    static built b;
    memset(&b, 0, sizeof b);
    memcpy(b.msg, msg, len);
    b.len = len;
    emit_arg a = {t, &b, fmt, false, true};
    return capture(emit, &a);
}

static void has(const char *text, const char *want)
{
    if (!strstr(text, want)) fail_msg("'%s' not in %s", want, text);
}

/* Readable values: ITCH prices and times of day (with and without a date), IEX prices, DBN
 * prices, times and undefined values; one line per object. */
static void readable_values(void **state)
{
    (void)state;
    uint8_t m[128] = {0};
    m[0] = 'A';
    ra_store_be16(m + 1, 12);
    ra_store_be48(m + 5, UINT64_C(34200000000230)); /* 09:30:00.000000230 */
    ra_store_be32(m + 32, 1865100);
    memcpy(m + 24, "ZVZZT   ", 8);
    rp_dec_fmt fmt = {.tod_day = -1};
    const rp_dec_type *t = rp_dec_find(RP_DEC_ITCH, 'A', 0, 0xffff);
    char *j = json_of(t, m, 36, &fmt);
    has(j, "\"timestamp\":\"09:30:00.000000230\"");
    has(j, "\"price\":186.5100,");
    has(j, "\"stock\":\"ZVZZT\"");
    assert_ptr_equal(strchr(j, '\n'), j + strlen(j) - 1);
    free(j);
    fmt.tod_day = 18260; /* 2019-12-30 */
    j = json_of(t, m, 36, &fmt);
    has(j, "\"timestamp\":\"2019-12-30T09:30:00.000000230\"");
    free(j);

    memset(m, 0, sizeof m);
    m[0] = 'T';
    ra_store_le64(m + 2, UINT64_C(1499697158379243962));
    ra_store_le64(m + 22, 1234567);
    t = rp_dec_find(RP_DEC_IEX, 'T', 0, 0xffff);
    fmt.tod_day = -1;
    j = json_of(t, m, 38, &fmt);
    has(j, "\"timestamp\":\"2017-07-10T14:32:38.379243962Z\"");
    has(j, "\"price\":123.4567,");
    free(j);

    memset(m, 0, sizeof m);
    m[0] = 14;
    m[1] = 0xa0;
    ra_store_le64(m + 8, UINT64_C(1609160400000429831));
    ra_store_le64(m + 24, (uint64_t)INT64_C(-1500000000));
    ra_store_le64(m + 40, UINT64_MAX);
    t = rp_dec_find(RP_DEC_DBN, 0xa0, 3, 0);
    j = json_of(t, m, 56, &fmt);
    has(j, "\"ts_event\":\"2020-12-28T13:00:00.000429831Z\"");
    has(j, "\"price\":-1.500000000,");
    has(j, "\"ts_recv\":null");
    free(j);
    ra_store_le64(m + 24, (uint64_t)INT64_MAX);
    j = json_of(t, m, 56, &fmt);
    has(j, "\"price\":null");
    assert_null(strstr(j, "ts_out"));
    free(j);
    m[0] = 16; /* with ts_out: 8 more bytes close the record */
    ra_store_le64(m + 56, UINT64_C(1609160400000429832));
    fmt.ts_out = true;
    j = json_of(t, m, 64, &fmt);
    has(j, "\"sequence\":0,\"ts_out\":\"2020-12-28T13:00:00.000429832Z\",\"symbol\":null}");
    free(j);
}

/* An ITCH 5.0 file in memory: u16 big-endian length + message, for each message. */
static size_t itch_file(uint8_t *out, const uint8_t (*msgs)[64], const size_t *lens, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        ra_store_be16(out + off, (uint16_t)lens[i]);
        memcpy(out + off + 2, msgs[i], lens[i]);
        off += 2 + lens[i];
    }
    return off;
}

/* Dumps buf through the input layer with o. @return the text (free it). */
static char *dump_mem(const uint8_t *buf, size_t len, const rp_dump_opts *o)
{
    char *text = NULL, err[256];
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    rp_dump *d = rp_dump_new(f, o);
    rp_source *s;
    rp_source_opts so = {0};
    assert_int_equal(rp_format_parse("itch", &so.format), 0);
    assert_int_equal(rp_source_open_mem(&s, buf, len, "t.itch", &so, err, sizeof err), 0);
    assert_int_equal(rp_dump_begin(d, s), 0);
    rp_message m;
    rp_mark k;
    int ev;
    while (!rp_dump_full(d) && (ev = rp_source_next_event(s, &m, &k)) > 0)
        assert_int_equal(ev == 1 ? rp_dump_message(d, &m) : rp_dump_mark(d, &k), 0);
    rp_source_close(s);
    rp_dump_free(d);
    fclose(f);
    return text;
}

static size_t lines(const char *t)
{
    size_t n = 0;
    for (; *t; t++) n += *t == '\n';
    return n;
}

/* The stock directory maps locates to stocks; --symbol, --type, --limit and CSV. */
static void dump_symbols_and_filters(void **state)
{
    (void)state;
    static uint8_t msgs[4][64];
    size_t lens[4] = {39, 36, 31, 19};
    memset(msgs, 0, sizeof msgs);
    msgs[0][0] = 'R';
    ra_store_be16(msgs[0] + 1, 5);
    memcpy(msgs[0] + 11, "ZVZZT   ", 8);
    msgs[1][0] = 'A';
    ra_store_be16(msgs[1] + 1, 5);
    memcpy(msgs[1] + 24, "ZVZZT   ", 8);
    msgs[2][0] = 'E';
    ra_store_be16(msgs[2] + 1, 5);
    ra_store_be32(msgs[2] + 19, 40);
    msgs[3][0] = 'D';
    ra_store_be16(msgs[3] + 1, 9);
    uint8_t file[256];
    size_t len = itch_file(file, (const uint8_t(*)[64])msgs, lens, 4);
    rp_dump_opts o = {.format = RP_DUMP_JSON};
    char *t = dump_mem(file, len, &o);
    assert_int_equal(lines(t), 4);
    has(t, "\"msg\":\"order_executed\",\"stream\":0,\"seq\":3,");
    has(t, "\"executed_shares\":40,\"match_number\":0,\"symbol\":\"ZVZZT\"}");
    has(t, "\"order_reference_number\":0,\"symbol\":null}");
    free(t);
    o.symbol = "ZVZZT";
    t = dump_mem(file, len, &o);
    assert_int_equal(lines(t), 3);
    free(t);
    o.limit = 2;
    t = dump_mem(file, len, &o);
    assert_int_equal(lines(t), 2);
    free(t);
    rp_dump_opts c = {.format = RP_DUMP_CSV, .type = "order_executed"};
    t = dump_mem(file, len, &c);
    assert_int_equal(lines(t), 2);
    has(t, "msg,stream,seq,message_type,stock_locate,");
    has(t, "\norder_executed,0,3,E,5,0,00:00:00.000000000,0,40,0,ZVZZT\n");
    free(t);
    assert_true(rp_dec_type_known("E"));
    assert_true(rp_dec_type_known("mbp-10"));
    assert_true(rp_dec_type_known("0xa0"));
    assert_false(rp_dec_type_known("no_such_type"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_every_field),
        cmocka_unit_test(every_row_has_a_spec),
        cmocka_unit_test(readable_values),
        cmocka_unit_test(dump_symbols_and_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
