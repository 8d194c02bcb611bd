/* registry.c - the live-block registry: slots in per-thread chunks, found through block headers */
/*
 * With glibc's allocator behind the interposer, every block the program gets from malloc,
 * calloc and realloc carries a 16-byte header in front of it (interpose.c): the real allocation
 * is 16 bytes larger, the program's pointer is 16 bytes in, so its alignment stays 16. The
 * header (layout in preload.h) holds the block's size, its tag and its slot in this registry,
 * and a magic number in the low 15 bits of its second word. That word tells header blocks from
 * all others exactly: the word before any block glibc returns is its chunk's size field, whose
 * bit 3 is always clear (chunk sizes are multiples of 16), and the magic number has it set.
 * Blocks of 2^37 bytes or more, and the aligned allocators' blocks, get no header: the
 * live-block table (table.c) keeps them.
 *
 * The registry lists the live header blocks, one pointer per slot, for the leak scan (which
 * reads size and tag from the headers). Slots live in chunks of CHUNK slots inside one
 * reservation mapped at start (MAX_CHUNKS chunks; pages committed when touched, on huge pages
 * where the kernel gives them). Each thread fills its own chunk slot after slot (no lock, no
 * atomic read-modify-write: one store); the slot number goes into the block's header, so a free,
 * from any thread, finds its slot directly: it clears the slot and counts one more freed slot in
 * its chunk (one atomic add). The free that makes a chunk's count reach CHUNK puts the chunk on
 * the free list, from which a thread takes its next chunk. A chunk that a thread left half
 * filled (the thread ended) is not reused.
 *
 * Compared with a hash table keyed by address, an allocation costs a sequential store and a
 * free a store into a slot written when the block was allocated: no lock, no probing, no growth,
 * and 8 bytes per block. The header costs 16 bytes of heap per block.
 */
#include "preload.h"

#include <string.h>
#include <sys/mman.h>

#define CHUNK_SHIFT 10
#define CHUNK       (1u << CHUNK_SHIFT)
#define MAX_CHUNKS  (1u << 17) /* 128 Mi slots (the header has 27 bits): 1 GiB reserved */

static uintptr_t *slots;    /* MAX_CHUNKS * CHUNK, mapped with MAP_NORESERVE */
static atomic_uint nchunks; /* chunks handed out so far (never reused: see free_list) */
static _Atomic uint32_t freed[MAX_CHUNKS];
static uint32_t free_list[MAX_CHUNKS];
static size_t nfree;
static atomic_int free_lock;

int rt__reg_init(void)
{
    size_t len = (size_t)MAX_CHUNKS * CHUNK * sizeof *slots;
    void *p = rt__map_flags(len, MAP_NORESERVE);
    if (!p) return -1;
    madvise(p, len, MADV_HUGEPAGE); /* one fault per 2 MiB of slots, not per 4 KiB */
    slots = p;
    return 0;
}

/* Gives the calling thread a new chunk; @return 0, or -1 when the reservation is full. */
static int next_chunk(void)
{
    uint32_t c = UINT32_MAX;
    rt__lock(&free_lock);
    if (nfree) c = free_list[--nfree];
    rt__unlock(&free_lock);
    if (c == UINT32_MAX) {
        c = atomic_fetch_add_explicit(&nchunks, 1, memory_order_relaxed);
        if (c >= MAX_CHUNKS) {
            atomic_store_explicit(&nchunks, MAX_CHUNKS, memory_order_relaxed);
            return -1;
        }
    }
    atomic_store_explicit(&freed[c], 0, memory_order_relaxed);
    rt__tls.reg_chunk = c;
    rt__tls.reg_next = 0;
    rt__tls.reg_have = 1;
    return 0;
}

uint64_t rt__reg_add(uintptr_t p)
{
    if (rt__unlikely(!rt__tls.reg_have || rt__tls.reg_next == CHUNK) && next_chunk())
        return RT__NO_SLOT;
    uint64_t id = (uint64_t)rt__tls.reg_chunk << CHUNK_SHIFT | rt__tls.reg_next++;
    __atomic_store_n(&slots[id], p, __ATOMIC_RELEASE);
    return id;
}

int rt__reg_remove(uint64_t id, uintptr_t p)
{
    if (id >= (uint64_t)atomic_load_explicit(&nchunks, memory_order_relaxed) << CHUNK_SHIFT ||
        slots[id] != p)
        return 0; /* not registered (the registry was full) */
    __atomic_store_n(&slots[id], 0, __ATOMIC_RELAXED);
    uint32_t c = (uint32_t)(id >> CHUNK_SHIFT);
    if (atomic_fetch_add_explicit(&freed[c], 1, memory_order_acq_rel) + 1 == CHUNK) {
        rt__lock(&free_lock);
        free_list[nfree++] = c;
        rt__unlock(&free_lock);
    }
    return 1;
}

size_t rt__reg_copy(struct rt__block *out, size_t max)
{
    size_t n = 0, end = (size_t)atomic_load_explicit(&nchunks, memory_order_acquire) * CHUNK;
    for (size_t i = 0; slots && i < end && n < max; i++) {
        uintptr_t p = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
        if (p) rt__hdr_read((const void *)p, &out[n++]);
    }
    return n;
}

size_t rt__reg_count(void)
{
    size_t n = 0, end = (size_t)atomic_load_explicit(&nchunks, memory_order_acquire) * CHUNK;
    for (size_t i = 0; slots && i < end; i++)
        n += __atomic_load_n(&slots[i], __ATOMIC_RELAXED) != 0;
    return n;
}

void rt__reg_lock(void)
{
    rt__lock(&free_lock);
}

void rt__reg_unlock(void)
{
    rt__unlock(&free_lock);
}
