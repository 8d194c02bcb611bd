/* fuzz_framing.c - libFuzzer target: link layer -> IP -> UDP extraction, then framing detection,
 * MoldUDP64/IEX-TP decoding and message iteration of whatever UDP payload comes out, and the
 * payload through rp_framer with each framing (as a socket reader would hand it over).
 * Input: byte 0 picks the link type, the rest is one captured packet. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "link.h"
#include "itch.h"

static const int linktypes[] = {
    RP_DLT_EN10MB, RP_DLT_LINUX_SLL, RP_DLT_LINUX_SLL2, RP_DLT_RAW,  RP_LINKTYPE_RAW,
    RP_DLT_IPV4,   RP_DLT_IPV6,      RP_DLT_NULL,       RP_DLT_LOOP, 105 /* unsupported */};

/* walks every message of a decoded frame; checks that each lies inside the payload */
static void walk(const rp_frame *f, const uint8_t *p, size_t n)
{
    rp_frame_cursor c = {0, 0};
    const uint8_t *m;
    uint16_t len;
    uint32_t count = 0;
    while (rp_frame_next(f, &c, &m, &len)) {
        if (m < p || m + len > p + n) abort();
        if (len) (void)rp_itch_check(m, len);
        count++;
    }
    if (count != f->complete) abort();
}

/* the payload through a framer (forced framing, or auto), twice as one flow: every message lies
 * inside it, the counts add up, damage only in a whole datagram */
static void frame(const uint8_t *key, size_t klen, const rp_udp *u, int framing)
{
    rp_feed_stats st;
    memset(&st, 0, sizeof st);
    rp_framer fr;
    rp_framer_init(&fr, (rp_framing)framing, &st);
    uint64_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        int rc = rp_framer_payload(&fr, key, klen, u->payload, u->len, u->complete, 1);
        if (rc == RP_FRAMER_DAMAGED && !u->complete) abort();
        rp_message m[4];
        size_t k;
        while ((k = rp_framer_take(&fr, m, 4)) > 0) {
            for (size_t i = 0; i < k; i++)
                if (m[i].data < u->payload || m[i].data + m[i].len > u->payload + u->len) abort();
            n += k;
        }
    }
    if (st.messages != n) abort();
    rp_flow_info fl;
    if (rp_framer_flows(&fr, &fl, 1) != 1 || fl.packets != 2 || fl.messages != n) abort();
    rp_framer_free(&fr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int lt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
    /* an exact-size copy, so that reading past the packet is caught */
    size_t n = size - 1;
    uint8_t *pkt = malloc(n ? n : 1);
    if (!pkt) return 0;
    for (size_t i = 0; i < n; i++) pkt[i] = data[1 + i];
    rp_udp u;
    int r = rp_link_udp(lt, pkt, n, &u);
    if (r == RP_LINK_UDP) {
        if (u.payload < pkt || u.payload + u.len > pkt + n) abort();
        uint8_t key[RP_KEY_MAX];
        size_t klen = rp_udp_flow_key(&u, key);
        if (klen > RP_KEY_MAX) abort();
        rp_flow_addr fa;
        if (rp_flow_key_parse(key, klen, &fa) != 0 || fa.dport != u.dport) abort();
        for (int k = RP_FRAMING_AUTO; k <= RP_FRAMING_IEXTP; k++) frame(key, klen, &u, k);
        rp_framing kind = rp_frame_detect(u.payload, u.len, u.complete);
        rp_frame f;
        for (int k = RP_FRAMING_MOLDUDP64; k <= RP_FRAMING_IEXTP; k++) {
            int st = rp_frame_decode((rp_framing)k, u.payload, u.len, &f);
            if (st == RP_FRAME_OK || st == RP_FRAME_OVERRUN) walk(&f, u.payload, u.len);
            /* a detected framing decodes cleanly when the datagram is whole */
            if (k == (int)kind && u.complete && st != RP_FRAME_OK) abort();
        }
    } else if (r != RP_LINK_NOT_UDP && r != RP_LINK_FRAGMENT && r != RP_LINK_MALFORMED) {
        abort();
    }
    free(pkt);
    return 0;
}
