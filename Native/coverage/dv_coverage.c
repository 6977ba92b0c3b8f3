/*
 * dv_coverage.c - the coverage runtime for allocators compiled with clang's
 * -fsanitize-coverage=trace-pc-guard. Link it into the allocator's shared object (it is
 * itself not instrumented); DmaVerify finds dv_coverage_attach with dlsym and points it at
 * the fuzzer's edge map, so the allocator's edges guide `verify fuzz` like DmaVerify's own.
 *
 *     clang-14 -shared -fPIC -O2 -I Native/include -fsanitize-coverage=trace-pc-guard \
 *         mine.c Native/coverage/dv_coverage.c -o libmine.cov.so
 *
 * Each instrumented edge gets a guard index (1..n, in link order, so the same build gives
 * the same indexes) and a map slot spread over the 64 KiB map by a multiplicative hash.
 */
#include <stddef.h>
#include <stdint.h>

#define DV_COVERAGE_MAP_SIZE 65536u
#define DV_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#define DV_EXPORT __attribute__((visibility("default")))

static uint8_t dv_coverage_dummy[DV_COVERAGE_MAP_SIZE];
static uint8_t *dv_coverage_map = dv_coverage_dummy;
static uint32_t dv_coverage_guards;  /* edges instrumented */
static uint32_t dv_coverage_reached; /* edges hit at least once since load */
static uint8_t dv_coverage_seen[1u << 16]; /* per guard index (edges past 65535 count in the map only) */

/* Points the edge counters at `map` (DV_COVERAGE_MAP_SIZE bytes, kept alive by the caller),
 * or back at a private map when map is NULL. */
DV_EXPORT DV_NO_COVERAGE void dv_coverage_attach(uint8_t *map)
{
	dv_coverage_map = map ? map : dv_coverage_dummy;
}

/* How many edges the library has, and how many of them ran at least once since it loaded. */
DV_EXPORT DV_NO_COVERAGE uint32_t dv_coverage_edges(void)
{
	return dv_coverage_guards;
}

DV_EXPORT DV_NO_COVERAGE uint32_t dv_coverage_reached_edges(void)
{
	return dv_coverage_reached;
}

DV_NO_COVERAGE void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop)
{
	if (start == stop || *start)
		return; /* no edges, or this module is numbered already */
	for (uint32_t *guard = start; guard < stop; guard++)
		*guard = ++dv_coverage_guards;
}

DV_NO_COVERAGE void __sanitizer_cov_trace_pc_guard(uint32_t *guard)
{
	uint32_t index = *guard;
	if (index == 0)
		return;
	dv_coverage_map[(index * 2654435761u) >> 16]++;
	if (index < sizeof(dv_coverage_seen) && !dv_coverage_seen[index]) {
		dv_coverage_seen[index] = 1;
		dv_coverage_reached++;
	}
}
