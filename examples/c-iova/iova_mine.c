/*
 * A small IOVA allocator written only from Native/include/dmaverify_iova.h: a sorted array of
 * occupied ranges, a top-down highest-fit search (as Linux's iova.c), and a per-size cache in
 * front for dv_iova_alloc_fast/dv_iova_free_fast (as Linux's rcache). O(n) per call: an
 * example, not a fast allocator.
 *
 * Planted slips for the tests and the guide, one compiler flag each (see the Makefile):
 *   PLANT_LIMIT_OFF_BY_ONE   the search treats limit_pfn as one past the end
 *   PLANT_RESERVE_IGNORED    dv_iova_reserve says yes and records nothing
 *   PLANT_ALIGNMENT_IGNORED  dv_iova_alloc_fast does not size-align
 *   PLANT_FREE_WRONG_RANGE   dv_iova_free's lookup is off by one and frees the next range
 *   PLANT_SEGFAULT           a full cache spills through a pointer that was never set
 *   PLANT_HANG               a failed dv_iova_alloc_fast retries for ever
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmaverify_iova.h"

#define CACHE_CLASSES 6 /* 1, 2, 4, 8, 16 and 32 pages, as Linux's IOVA_RANGE_CACHE_MAX_SIZE */
#define CACHE_DEPTH 4   /* ranges kept per size */

struct range {
	uint64_t lo, hi;
	uint32_t flags; /* DV_IOVA_RANGE_* ; 0 = allocated */
};

struct cache {
	uint64_t pfn[CACHE_DEPTH];
	unsigned count;
	struct cache *spill; /* only the planted segfault uses it */
};

struct dv_iova {
	uint64_t start_pfn, max_pfn;
	struct range *ranges; /* sorted by lo, disjoint */
	size_t count, capacity;
	struct cache cache[CACHE_CLASSES];
};

uint32_t dv_iova_abi_version(void)
{
	return DV_IOVA_ABI_VERSION;
}

dv_iova *dv_iova_create(uint64_t start_pfn, uint32_t granule_shift)
{
	if (granule_shift > 32)
		return NULL;
	dv_iova *iovad = calloc(1, sizeof(*iovad));
	if (!iovad)
		return NULL;
	iovad->max_pfn = UINT64_MAX >> granule_shift;
	if (iovad->max_pfn == UINT64_MAX)
		iovad->max_pfn = UINT64_MAX - 1;
	iovad->start_pfn = start_pfn ? start_pfn : 1;
	return iovad;
}

void dv_iova_destroy(dv_iova *iovad)
{
	free(iovad->ranges);
	free(iovad);
}

/* roundup_pow_of_two; 0 when it does not fit in 64 bits. */
static uint64_t pow2_up(uint64_t v)
{
	if (v <= 1)
		return 1;
	if (v > (1ull << 63))
		return 0;
	return 1ull << (64 - __builtin_clzll(v - 1));
}

/* Index of the first range whose lo is above pfn. */
static size_t upper_bound(const dv_iova *iovad, uint64_t pfn)
{
	size_t lo = 0, hi = iovad->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (iovad->ranges[mid].lo <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert(dv_iova *iovad, uint64_t lo, uint64_t hi, uint32_t flags)
{
	if (iovad->count == iovad->capacity) {
		size_t capacity = iovad->capacity ? 2 * iovad->capacity : 16;
		struct range *grown = realloc(iovad->ranges, capacity * sizeof(*grown));
		if (!grown)
			return 0;
		iovad->ranges = grown;
		iovad->capacity = capacity;
	}
	size_t at = upper_bound(iovad, lo);
	memmove(&iovad->ranges[at + 1], &iovad->ranges[at], (iovad->count - at) * sizeof(struct range));
	iovad->ranges[at] = (struct range){ lo, hi, flags };
	iovad->count++;
	return 1;
}

static void erase(dv_iova *iovad, size_t at)
{
	memmove(&iovad->ranges[at], &iovad->ranges[at + 1], (iovad->count - at - 1) * sizeof(struct range));
	iovad->count--;
}

/* The highest free range of `pages` PFNs in [start_pfn, limit], its start a multiple of
 * `align` (a power of two); 0 when there is none. Walks the gaps from the limit down. */
static uint64_t find_highest(const dv_iova *iovad, uint64_t pages, uint64_t limit, uint64_t align)
{
#ifdef PLANT_LIMIT_OFF_BY_ONE
	limit++;
#endif
	size_t i = upper_bound(iovad, limit); /* ranges[i - 1] is the highest starting at or below limit */
	uint64_t top = limit;                 /* the highest free candidate PFN of the current gap */
	for (;;) {
		uint64_t floor = iovad->start_pfn;
		if (i > 0 && iovad->ranges[i - 1].hi + 1 > floor)
			floor = iovad->ranges[i - 1].hi + 1;
		if (top >= floor && top - floor + 1 >= pages) {
			uint64_t start = (top - (pages - 1)) & ~(align - 1);
			if (start >= floor)
				return start;
		}
		if (i == 0 || iovad->ranges[i - 1].lo <= iovad->start_pfn)
			return 0;
		top = iovad->ranges[i - 1].lo - 1;
		i--;
	}
}

uint64_t dv_iova_alloc(dv_iova *iovad, uint64_t pages, uint64_t limit_pfn, int size_aligned)
{
	uint64_t align = size_aligned ? pow2_up(pages) : 1;
	if (pages == 0 || align == 0 || limit_pfn > iovad->max_pfn)
		return 0;
	uint64_t pfn = find_highest(iovad, pages, limit_pfn, align);
	if (pfn && !insert(iovad, pfn, pfn + (pages - 1), 0))
		return 0;
	return pfn;
}

int dv_iova_free(dv_iova *iovad, uint64_t pfn)
{
	size_t i = upper_bound(iovad, pfn);
#ifdef PLANT_FREE_WRONG_RANGE
	if (i < iovad->count)
		i++;
#endif
	if (i == 0)
		return 0;
	struct range *r = &iovad->ranges[i - 1];
	if (r->flags != 0 || pfn > r->hi)
		return 0;
	erase(iovad, i - 1);
	return 1;
}

/* The size dv_iova_alloc_fast allocates for `pages`: below 32 rounded up to a power of two. */
static uint64_t fast_size(uint64_t pages)
{
	return pages < 32 ? pow2_up(pages) : pages;
}

/* The cache for ranges of `size` pages, or NULL when that size is not cached. */
static struct cache *cache_for(dv_iova *iovad, uint64_t size)
{
	for (int c = 0; c < CACHE_CLASSES; c++)
		if (size == (1ull << c))
			return &iovad->cache[c];
	return NULL;
}

static size_t index_of(const dv_iova *iovad, uint64_t pfn)
{
	return upper_bound(iovad, pfn) - 1;
}

void dv_iova_flush_caches(dv_iova *iovad)
{
	for (int c = 0; c < CACHE_CLASSES; c++) {
		struct cache *cache = &iovad->cache[c];
		for (unsigned k = 0; k < cache->count; k++)
			erase(iovad, index_of(iovad, cache->pfn[k]));
		cache->count = 0;
	}
}

uint64_t dv_iova_alloc_fast(dv_iova *iovad, uint64_t pages, uint64_t limit_pfn, int flush_rcache)
{
	uint64_t size = fast_size(pages);
	uint64_t align = pow2_up(size);
#ifdef PLANT_ALIGNMENT_IGNORED
	align = 1;
#endif
	if (size == 0 || align == 0 || limit_pfn > iovad->max_pfn)
		return 0;
	struct cache *cache = cache_for(iovad, size);
	if (cache) {
		for (unsigned k = cache->count; k-- > 0;) {
			uint64_t pfn = cache->pfn[k];
			if (pfn + (size - 1) > limit_pfn)
				continue;
			cache->pfn[k] = cache->pfn[--cache->count];
			iovad->ranges[index_of(iovad, pfn)].flags = 0;
			return pfn;
		}
	}
	for (;;) {
		uint64_t pfn = find_highest(iovad, size, limit_pfn, align);
		if (pfn)
			return insert(iovad, pfn, pfn + (size - 1), 0) ? pfn : 0;
		if (!flush_rcache)
			return 0;
		dv_iova_flush_caches(iovad);
#ifndef PLANT_HANG
		flush_rcache = 0; /* one retry after the flush */
#endif
	}
}

void dv_iova_free_fast(dv_iova *iovad, uint64_t pfn, uint64_t pages)
{
	struct cache *cache = cache_for(iovad, fast_size(pages));
	if (cache && cache->count == CACHE_DEPTH) {
#ifdef PLANT_SEGFAULT
		cache = cache->spill; /* "the spill cache is always there" */
		cache->count = 0;
#endif
	}
	if (!cache || cache->count == CACHE_DEPTH) {
		dv_iova_free(iovad, pfn);
		return;
	}
	iovad->ranges[index_of(iovad, pfn)].flags = DV_IOVA_RANGE_CACHED;
	cache->pfn[cache->count++] = pfn;
}

int dv_iova_reserve(dv_iova *iovad, uint64_t pfn_lo, uint64_t pfn_hi)
{
	if (pfn_lo > pfn_hi || pfn_hi > iovad->max_pfn)
		return 0;
#ifdef PLANT_RESERVE_IGNORED
	return 1;
#endif
	/* Cover the parts of [pfn_lo, pfn_hi] that no range holds yet. */
	uint64_t cursor = pfn_lo;
	size_t i = upper_bound(iovad, pfn_lo);
	if (i > 0 && iovad->ranges[i - 1].hi >= cursor) {
		if (iovad->ranges[i - 1].hi >= pfn_hi)
			return 1;
		cursor = iovad->ranges[i - 1].hi + 1;
	}
	while (i < iovad->count && iovad->ranges[i].lo <= pfn_hi) {
		struct range next = iovad->ranges[i];
		if (next.lo > cursor) {
			if (!insert(iovad, cursor, next.lo - 1, DV_IOVA_RANGE_RESERVED))
				return 0;
			i++; /* the hole just filled */
		}
		if (next.hi >= pfn_hi)
			return 1;
		cursor = next.hi + 1;
		i++;
	}
	return insert(iovad, cursor, pfn_hi, DV_IOVA_RANGE_RESERVED);
}

uint64_t dv_iova_ranges(const dv_iova *iovad, dv_iova_range *out, uint64_t capacity)
{
	for (size_t k = 0; k < iovad->count && k < capacity; k++)
		out[k] = (dv_iova_range){ iovad->ranges[k].lo, iovad->ranges[k].hi, iovad->ranges[k].flags, 0 };
	return iovad->count;
}
