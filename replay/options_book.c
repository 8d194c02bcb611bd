/* options_book.c - the value parsers of replay's --book options (the table is in options.c) */
#include <string.h>

#include "options.h"
#include "util.h"

int rp_opt_book(rp_opts *o, const char *a)
{
    (void)a;
    o->book = true;
    return 0;
}
int rp_opt_book_orders(rp_opts *o, const char *a)
{
    uint64_t v;
    o->book_opt_set = true;
    if (rp_parse_u64(a, &v) != 0 || v < 1 || v >= (UINT64_C(1) << 31)) return -1;
    o->booko.max_orders = (size_t)v;
    return 0;
}
int rp_opt_book_depth(rp_opts *o, const char *a)
{
    uint64_t v;
    o->book_opt_set = true;
    if (rp_parse_u64(a, &v) != 0 || v < 1 || v > 64) return -1;
    o->booko.depth = (unsigned)v;
    return 0;
}
int rp_opt_book_on_empty(rp_opts *o, const char *a)
{
    static const char *const names[] = {"fail", "fallback", "grow"}; /* enum ra_book_on_empty */
    o->book_opt_set = true;
    for (int i = 0; i < 3; i++)
        if (strcmp(a, names[i]) == 0) return o->booko.on_empty = i, 0;
    return -1;
}
int rp_opt_book_alloc(rp_opts *o, const char *a)
{
    o->book_opt_set = true;
    o->booko.malloc_orders = strcmp(a, "malloc") == 0;
    return o->booko.malloc_orders || strcmp(a, "pool") == 0 ? 0 : -1;
}
int rp_opt_bbo(rp_opts *o, const char *a)
{
    o->book_opt_set = true;
    o->bbo = a;
    return *a && strcmp(a, "-") != 0 ? 0 : -1;
}
int rp_opt_bbo_format(rp_opts *o, const char *a)
{
    o->book_opt_set = true;
    o->bbo_format = strcmp(a, "csv") == 0 ? 1 : strcmp(a, "json") == 0 ? 2 : -1;
    return o->bbo_format > 0 ? 0 : -1;
}
int rp_opt_book_symbol(rp_opts *o, const char *a)
{
    o->book_opt_set = true;
    o->booko.symbol = a;
    return *a ? 0 : -1;
}
