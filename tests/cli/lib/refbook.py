# refbook.py - a small independent ITCH 5.0 order book for the CLI tests (tests/cli/replay_book.sh)
#
# Reads `replay info --dump --dump-format json --px raw` lines (every ITCH field decoded) on stdin
# and prints, as one JSON object, what a naive per-order book computes: the top of each symbol
# (bid/ask price, quantity, order count; 0 for an empty side), live orders, and the counted error
# kinds. Written from the ITCH 5.0 specification, not from the library: orders by reference, the
# best price of a side by scanning its orders. Session end (system event 'C') saves the tops and
# empties the book; `top` is the live book at the end, or the saved tops when that reset emptied it.
import json
import sys

orders = {}  # ref -> [symbol, side, price, shares]
symbols = []  # in order of first appearance (R, A, F)
known = set()
errors = dict(unknown_ref=0, exec_too_large=0, cancel_too_large=0, replace_missing=0,
              duplicate_ref=0, crossed=0)
saved = None


def symbol(name):
    if name not in known:
        known.add(name)
        symbols.append(name)


def tops():
    best = {s: [0, 0, 0, 0, 0, 0] for s in symbols}
    for sym, side, px, sh in orders.values():
        t = best[sym]
        o = 0 if side == 'B' else 3
        better = t[o + 2] == 0 or (px > t[o] if side == 'B' else px < t[o])
        if better:
            t[o:o + 3] = [px, sh, 1]
        elif px == t[o]:
            t[o + 1] += sh
            t[o + 2] += 1
    keys = ['bid_px', 'bid_qty', 'bid_orders', 'ask_px', 'ask_qty', 'ask_orders']
    return {s: dict(zip(keys, t)) for s, t in best.items()}


def crossed(sym):
    bids = [px for s, side, px, _ in orders.values() if s == sym and side == 'B']
    asks = [px for s, side, px, _ in orders.values() if s == sym and side == 'S']
    return bool(bids and asks and max(bids) >= min(asks))


def reduce(ref, n, too_large):
    o = orders.get(ref)
    if o is None:
        errors['unknown_ref'] += 1
        return None
    if n > o[3]:
        errors[too_large] += 1
        n = o[3]
    o[3] -= n
    if o[3] == 0:
        del orders[ref]
    return o[0]


def apply(m):
    global orders, symbols, known, saved
    t = m['message_type']
    touched = None
    if t == 'R':
        symbol(m['stock'])
    elif t == 'S' and m['event_code'] == 'C':
        saved = tops()
        orders, symbols, known = {}, [], set()
    elif t in 'AF':
        symbol(m['stock'])
        ref = m['order_reference_number']
        if ref in orders:
            errors['duplicate_ref'] += 1
        else:
            orders[ref] = [m['stock'], m['buy_sell_indicator'], m['price'], m['shares']]
            touched = m['stock']
    elif t in 'EC':
        touched = reduce(m['order_reference_number'], m['executed_shares'], 'exec_too_large')
    elif t == 'X':
        touched = reduce(m['order_reference_number'], m['cancelled_shares'], 'cancel_too_large')
    elif t == 'D':
        o = orders.pop(m['order_reference_number'], None)
        if o is None:
            errors['unknown_ref'] += 1
    elif t == 'U':
        o = orders.pop(m['original_order_reference_number'], None)
        new = m['new_order_reference_number']
        if o is None:
            errors['replace_missing'] += 1
        elif new in orders:
            errors['duplicate_ref'] += 1
        else:
            orders[new] = [o[0], o[1], m['price'], m['shares']]
            touched = o[0]
    if touched is not None and crossed(touched):
        errors['crossed'] += 1


for line in sys.stdin:
    msg = json.loads(line)
    if msg.get('message_type'):
        apply(msg)
top = tops() if orders or saved is None else saved
print(json.dumps(dict(top=top, orders_live=len(orders), errors=errors), sort_keys=True))
