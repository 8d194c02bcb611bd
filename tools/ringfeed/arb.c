/* arb.c - ringfeed's A/B arbitration: first arrival wins, duplicates dropped, gaps only when
 * every line missed the numbers
 *
 * Design notes.
 * - Per sequencing stream the arbiter keeps `next`, one past the highest number any line has
 *   delivered, and the open holes below it: numbers skipped by the line that got ahead and not
 *   yet supplied by another. A packet is delivered when it covers a number at or above `next` or
 *   inside a hole, else dropped as a duplicate. Packets are delivered as they arrive, never held:
 *   a packet that fills a hole reaches the ring after the ones that passed it.
 * - Batches from different lines interleave (one socket is drained, then the other), so a hole
 *   is not a gap at once. It becomes one when every line has sent a number at or above its end
 *   (each line arrives in order, so a line past the hole will not fill it) or when it has been
 *   open for the window (a line that is down never moves past anything).
 * - Heartbeats carry no numbers: one is a duplicate when the last heartbeat delivered announced
 *   the same number and came from another line, so each line's heartbeats pass once.
 * - Pure logic over (key, line, first, count, time): tests drive it with synthetic sequences.
 */
#include "arb.h"

#include <stdlib.h>
#include <string.h>

int rf_arb_init(rf_arb *a, unsigned nlines, uint64_t window_ns)
{
    memset(a, 0, sizeof(*a));
    if (nlines == 0 || nlines > RF_ARB_LINES) return -1;
    a->nlines = nlines;
    a->window_ns = window_ns;
    rp_streams_init(&a->keys, RF_ARB_STREAMS);
    a->st = calloc(RF_ARB_STREAMS, sizeof(*a->st));
    return a->st ? 0 : -1;
}

void rf_arb_free(rf_arb *a)
{
    rp_streams_free(&a->keys);
    free(a->st);
    a->st = NULL;
}

/* Declares hole i of s a gap and removes it. */
static void rf__declare(rf_arb *a, rf_arb_stream *s, size_t i)
{
    a->gaps++;
    a->missing += s->holes[i].hi - s->holes[i].lo;
    memmove(&s->holes[i], &s->holes[i + 1], (s->nholes - i - 1) * sizeof(rf_hole));
    s->nholes--;
}

/* Whether every line has sent a number at or above hi. */
static bool rf__all_past(const rf_arb *a, const rf_arb_stream *s, uint64_t hi)
{
    for (unsigned l = 0; l < a->nlines; l++)
        if (s->line_end[l] < hi) return false;
    return true;
}

static void rf__expire_stream(rf_arb *a, rf_arb_stream *s, uint64_t now_ns)
{
    for (size_t i = 0; i < s->nholes;) {
        const rf_hole *h = &s->holes[i];
        if (rf__all_past(a, s, h->hi) || now_ns - h->since_ns >= a->window_ns)
            rf__declare(a, s, i);
        else
            i++;
    }
}

static void rf__open_hole(rf_arb *a, rf_arb_stream *s, uint64_t lo, uint64_t hi, uint64_t now_ns)
{
    if (s->nholes == RF_ARB_HOLES) rf__declare(a, s, 0);
    s->holes[s->nholes++] = (rf_hole){.lo = lo, .hi = hi, .since_ns = now_ns};
}

/* Removes [lo, hi) from the open holes (splitting one when the range falls inside it).
 * @return whether any number was in a hole. */
static bool rf__fill(rf_arb *a, rf_arb_stream *s, uint64_t lo, uint64_t hi)
{
    bool filled = false;
    for (size_t i = 0; i < s->nholes; i++) {
        rf_hole *h = &s->holes[i];
        if (hi <= h->lo || lo >= h->hi) continue;
        filled = true;
        if (lo > h->lo && hi < h->hi) {      /* inside: split in two */
            if (s->nholes == RF_ARB_HOLES) { /* room for the split: the oldest other hole */
                rf__declare(a, s, i == 0 ? 1 : 0);
                if (i > 0) i--;
                h = &s->holes[i];
            }
            memmove(h + 1, h, (size_t)(&s->holes[s->nholes] - h) * sizeof(rf_hole));
            s->nholes++;
            h[0].hi = lo;
            h[1].lo = hi;
            i++;
        } else if (lo > h->lo) {
            h->hi = lo;
        } else if (hi < h->hi) {
            h->lo = hi;
        } else { /* covered whole */
            memmove(h, h + 1, (size_t)(&s->holes[s->nholes] - h - 1) * sizeof(rf_hole));
            s->nholes--;
            i--;
        }
    }
    return filled;
}

/* A heartbeat announcing `first` as the next number. */
static int rf__heartbeat(rf_arb *a, rf_arb_stream *s, unsigned line, uint64_t first,
                         uint64_t now_ns)
{
    if (first > s->line_end[line]) s->line_end[line] = first;
    if (!s->started) {
        s->started = true;
        s->next = first;
    } else if (first > s->next) {
        rf__open_hole(a, s, s->next, first, now_ns);
        s->next = first;
    }
    if (s->hb_any && s->hb_seq == first && s->hb_line != line) return RF_ARB_DUP;
    s->hb_any = true;
    s->hb_seq = first;
    s->hb_line = line;
    return RF_ARB_DELIVER;
}

static int rf__data(rf_arb *a, rf_arb_stream *s, unsigned line, uint64_t first, uint64_t end,
                    uint64_t now_ns)
{
    if (first < s->line_end[line]) a->line[line].backward++, a->backward++;
    if (end > s->line_end[line]) s->line_end[line] = end;
    if (!s->started) {
        s->started = true;
        s->next = end;
        return RF_ARB_DELIVER;
    }
    bool fresh = false;
    uint64_t old_next = s->next;
    if (end > s->next) {
        if (first > s->next) rf__open_hole(a, s, s->next, first, now_ns);
        s->next = end;
        fresh = true;
    }
    if (first < old_next && rf__fill(a, s, first, end < old_next ? end : old_next)) {
        a->line[line].gaps_filled++;
        fresh = true;
    }
    return fresh ? RF_ARB_DELIVER : RF_ARB_DUP;
}

int rf_arb_offer(rf_arb *a, const uint8_t *key, size_t klen, unsigned line, uint64_t first,
                 uint64_t count, uint64_t now_ns)
{
    if (line >= a->nlines) return RF_ARB_DELIVER;
    a->line[line].packets++;
    bool created = false;
    rp_stream *k = rp_streams_get(&a->keys, key, klen, &created);
    if (!k) {
        a->line[line].delivered++;
        return RF_ARB_DELIVER;
    }
    if (created) k->id = (uint32_t)a->nst++;
    rf_arb_stream *s = &a->st[k->id];
    uint64_t end = first + count < first ? UINT64_MAX : first + count;
    int v = count == 0 ? rf__heartbeat(a, s, line, first, now_ns)
                       : rf__data(a, s, line, first, end, now_ns);
    rf__expire_stream(a, s, now_ns);
    if (v == RF_ARB_DUP) {
        a->duplicates++;
        a->line[line].duplicates++;
    } else {
        a->line[line].delivered++;
    }
    return v;
}

size_t rf_arb_expire(rf_arb *a, uint64_t now_ns)
{
    size_t open = 0;
    for (size_t i = 0; i < a->nst; i++) {
        rf__expire_stream(a, &a->st[i], now_ns);
        open += a->st[i].nholes;
    }
    return open;
}

void rf_arb_flush(rf_arb *a)
{
    for (size_t i = 0; i < a->nst; i++)
        while (a->st[i].nholes) rf__declare(a, &a->st[i], 0);
}
