/* options_net.c - replay's network options (--send and its company): value parsers and checks
 *
 * The rows of these options sit in the one option table of options.c, like every other option;
 * their parsers and the checks of their combinations live here, next to nothing else.
 */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moldpack.h"
#include "util.h"

int rp_opt_send(rp_opts *o, const char *a)
{
    if (o->send.ndest >= RP_SEND_MAX_DESTS || strncmp(a, "udp://", 6) != 0) return -1;
    rp_sock probe;
    char err[256];
    if (rp_sock_parse(a, &probe, err, sizeof err) != 0) {
        fprintf(stderr, "%s: --send %s\n", o->prog, err); /* says what is wrong with it */
        return -1;
    }
    o->send.dest[o->send.ndest++] = a;
    return 0;
}

int rp_opt_ttl(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v > 255) return -1;
    o->send.sock.ttl = (int)v;
    o->net_set = true;
    return 0;
}

int rp_opt_iface(rp_opts *o, const char *a)
{
    if (!*a) return -1;
    o->send.sock.iface = a;
    o->net_set = true;
    return 0;
}

int rp_opt_mcast_loop(rp_opts *o, const char *a)
{
    (void)a;
    o->send.sock.mcast_loop = o->net_set = true;
    return 0;
}

int rp_opt_port_map(rp_opts *o, const char *a)
{
    const char *c = strchr(a, ':');
    char from[8];
    uint64_t f, t;
    if (!c || c == a || (size_t)(c - a) >= sizeof from || o->send.nmap >= RP_SEND_MAX_PORTMAP)
        return -1;
    memcpy(from, a, (size_t)(c - a));
    from[c - a] = '\0';
    if (rp_parse_u64(from, &f) != 0 || rp_parse_u64(c + 1, &t) != 0 || f < 1 || f > 65535 ||
        t < 1 || t > 65535)
        return -1;
    o->send.map_from[o->send.nmap] = (uint16_t)f;
    o->send.map_to[o->send.nmap++] = (uint16_t)t;
    o->net_set = true;
    return 0;
}

int rp_opt_packet_bytes(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v < RP_MOLDPACK_MIN || v > RP_MOLDPACK_MAX) return -1;
    o->send.packet_bytes = (size_t)v;
    o->net_set = true;
    return 0;
}

int rp_opt_session(rp_opts *o, const char *a)
{
    size_t n = strlen(a);
    if (n < 1 || n > 10) return -1;
    for (size_t i = 0; i < n; i++)
        if (a[i] < 0x20 || a[i] > 0x7E) return -1;
    o->send.session = a;
    o->net_set = true;
    return 0;
}

int rp_opt_mbps(rp_opts *o, const char *a)
{
    o->mbps_set = o->net_set = true;
    return rp_parse_positive(a, &o->run.pace.mbps);
}

int rp_opt_duration(rp_opts *o, const char *a)
{
    o->net_set = true;
    return rp_parse_positive(a, &o->send.duration);
}

int rp_opt_drop(rp_opts *o, const char *a)
{
    char *end;
    double v = strtod(a, &end);
    if (!*a || *end || !(v >= 0.0 && v <= 1.0)) return -1;
    o->send.drop = v;
    o->net_set = true;
    return 0;
}

int rp_opt_drop_seed(rp_opts *o, const char *a)
{
    o->net_set = true;
    return rp_parse_u64(a, &o->send.seed);
}

int rp_opt_drop_list(rp_opts *o, const char *a)
{
    if (!*a) return -1;
    o->send.drop_list = a;
    o->net_set = true;
    return 0;
}

const char *rp_options_check_net(rp_opts *o)
{
    if (o->net_set && o->send.ndest == 0)
        return "--ttl, --iface, --mcast-loop, --port-map, --packet-bytes, --session, --mbps, "
               "--duration, --drop, --seed and --drop-list need --send udp://HOST:PORT";
    if (o->mbps_set && (o->speed_set || o->pps_set))
        return "--mbps cannot be combined with --speed or --pps";
    if (o->send.drop_list && !(o->send.drop > 0)) return "--drop-list needs --drop P with P > 0";
    if (o->mbps_set) o->run.pace.mode = RP_PACE_MBPS;
    return NULL;
}
