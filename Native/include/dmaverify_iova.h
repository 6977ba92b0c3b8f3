/*
 * dmaverify_iova.h - the C ABI through which DmaVerify checks an IOVA allocator against its
 * reference model of Linux's IOMMU/DMA-mapping behaviour.
 *
 * Shaped after Linux's drivers/iommu/iova.c, so that a kernel allocator is wrapped in a few
 * lines: dv_iova_alloc is alloc_iova, dv_iova_free is free_iova (by PFN), dv_iova_alloc_fast
 * and dv_iova_free_fast are alloc_iova_fast and free_iova_fast, dv_iova_reserve is
 * reserve_iova. Build the wrapper and the allocator into one shared object:
 *
 *     gcc -shared -fPIC -O2 -I path/to/DmaVerify/Native/include mine.c -o libmine.so
 *     verify check --quick --allocator ./libmine.so
 *
 * Units. Every address is a page frame number (PFN) of 2^granule_shift bytes (granule_shift
 * is 12 for 4 KiB, 14 for 16 KiB, 16 for 64 KiB). Every range is inclusive: [pfn, pfn +
 * pages - 1], [pfn_lo, pfn_hi]. PFN 0 is never handed out: 0 is the failure value. The
 * highest PFN of a space is max_pfn = min(UINT64_MAX >> granule_shift, UINT64_MAX - 1).
 *
 * Calls. DmaVerify calls an allocator from one thread at a time (calls to different dv_iova
 * instances are serialised too, so global state in the library is safe) and only with
 * well-formed arguments: pages >= 1, start_pfn <= limit_pfn <= max_pfn, and a range of that
 * many pages fits in [start_pfn, limit_pfn]. Anything the allocator returns is checked: a
 * range that breaks a rule below is a finding, and so is a crash or a call that does not
 * return (by default DmaVerify runs the library in a separate process to survive both).
 *
 * The rules below are those of DmaVerify's model (docs/model-semantics.md): which range an
 * allocation gets is the allocator's choice (Linux takes the highest fit; any allowed range
 * passes), but it must be allowed, and a request may fail only when no allowed range exists.
 */
#ifndef DMAVERIFY_IOVA_H
#define DMAVERIFY_IOVA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DV_IOVA_ABI_VERSION 1

/* Opaque: the allocator's own state, one per IOVA space (one per IOMMU domain). */
typedef struct dv_iova dv_iova;

/* Returns DV_IOVA_ABI_VERSION as the library was compiled; DmaVerify refuses a library that
 * returns another number, before calling anything else. */
uint32_t dv_iova_abi_version(void);

/* A fresh, empty IOVA space whose lowest allocatable PFN is start_pfn (>= 1; Linux's
 * init_iova_domain start_pfn, dma-iommu's base_pfn) in granules of 2^granule_shift bytes
 * (0..32). NULL: refused (out of memory, or a granule the allocator does not support);
 * DmaVerify reports a refusal as a finding against the allocator. */
dv_iova *dv_iova_create(uint64_t start_pfn, uint32_t granule_shift);

/* Frees the space and everything in it; iovad is not used again. Live allocations may
 * remain (a domain may die with mappings). */
void dv_iova_destroy(dv_iova *iovad);

/* alloc_iova: a free range of exactly `pages` PFNs inside [start_pfn, limit_pfn] (both
 * inclusive), overlapping no allocated, cached or reserved range. With size_aligned != 0 its
 * first PFN is a multiple of roundup_pow_of_two(pages). Uses the tree only: no rounding of
 * `pages`, no caches. Returns the first PFN, or 0 when no such range exists. Completeness:
 * once the caches are empty (after dv_iova_flush_caches, or when the allocator keeps none),
 * 0 is allowed only when no allowed range exists at all. */
uint64_t dv_iova_alloc(dv_iova *iovad, uint64_t pages, uint64_t limit_pfn, int size_aligned);

/* free_iova: frees the allocated range that contains `pfn` (any PFN inside it), whether
 * dv_iova_alloc or dv_iova_alloc_fast made it. Returns 1 when a range was freed, 0 when no
 * allocated range contains pfn (then nothing changes). The range is free at once: the next
 * allocation may get it. DmaVerify never passes a PFN of a reserved or a cached range. */
int dv_iova_free(dv_iova *iovad, uint64_t pfn);

/* alloc_iova_fast: rounds `pages` below 32 up to a power of two (the size of the range it
 * returns; 32 pages and more are not rounded) and allocates that many PFNs size-aligned (the
 * first PFN a multiple of roundup_pow_of_two(size)) inside [start_pfn, limit_pfn]. It may
 * take a range from the allocator's per-size caches (Linux's rcache) if that range ends at
 * or below limit_pfn, else it allocates from the tree. If that fails and flush_rcache != 0,
 * it returns every cached range to the tree and tries once more. Returns the first PFN, or 0.
 * Completeness: with flush_rcache != 0, 0 is allowed only when no allowed range exists once
 * the caches are flushed. */
uint64_t dv_iova_alloc_fast(dv_iova *iovad, uint64_t pages, uint64_t limit_pfn, int flush_rcache);

/* free_iova_fast: gives back a range dv_iova_alloc_fast returned; `pages` is the count the
 * caller passed to dv_iova_alloc_fast (not rounded), so the allocator rounds it the same way.
 * The allocator may keep the range in a cache for a later dv_iova_alloc_fast of the same size
 * (it is then still unavailable to everything else) or free it into the tree. DmaVerify
 * calls it only with a live dv_iova_alloc_fast range. */
void dv_iova_free_fast(dv_iova *iovad, uint64_t pfn, uint64_t pages);

/* reserve_iova: marks [pfn_lo, pfn_hi] as never to be allocated (MSI windows, PCI host-bridge
 * windows, direct-mapped regions). The range may lie partly or wholly below start_pfn and may
 * overlap earlier reservations; DmaVerify reserves only where no allocation lives, and
 * flushes the caches first (dma-iommu reserves when it sets a domain up). Returns 1 when the
 * whole range is reserved, 0 for pfn_lo > pfn_hi or pfn_hi > max_pfn (nothing changes). */
int dv_iova_reserve(dv_iova *iovad, uint64_t pfn_lo, uint64_t pfn_hi);

/* ---- Optional symbols: looked up with dlsym; define them when the allocator can. ---- */

/* Returns every cached range to the tree (free_cpu_cached_iovas and the depot). Without it,
 * DmaVerify assumes the allocator keeps no caches. */
void dv_iova_flush_caches(dv_iova *iovad);

/* One occupied range, as dv_iova_ranges reports it. */
typedef struct dv_iova_range {
	uint64_t pfn_lo;   /* first PFN */
	uint64_t pfn_hi;   /* last PFN (inclusive) */
	uint32_t flags;    /* DV_IOVA_RANGE_* */
	uint32_t unused;   /* zero */
} dv_iova_range;

#define DV_IOVA_RANGE_RESERVED 1u /* made by dv_iova_reserve */
#define DV_IOVA_RANGE_CACHED   2u /* freed with dv_iova_free_fast, held in a cache */

/* The allocator's own view of its space: writes up to `capacity` occupied ranges (allocated,
 * cached and reserved), in increasing address order and not overlapping, into `out`, and
 * returns how many there are in all (call again with a larger buffer when that is more than
 * capacity; out may be NULL when capacity is 0). `verify show` prints them beside the DMA
 * layer's view, and findings quote them. */
uint64_t dv_iova_ranges(const dv_iova *iovad, dv_iova_range *out, uint64_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* DMAVERIFY_IOVA_H */
