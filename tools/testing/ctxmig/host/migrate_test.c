// SPDX-License-Identifier: GPL-2.0
/*
 * Differential migration tests on the host: random workloads migrated
 * between every ordered pair of models (X -> Y -> X -> Y) and along every
 * chain X -> Y -> Z -> X, each compared with a run without migration;
 * then the same with the guest writing what the real drivers write.
 * Ends with how many migrations were checked.
 *
 * MIGRATE_RUNS scales the number of runs per chain (default 1); a failure
 * prints the seed and chain that replay it.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <stdlib.h>

#include "ctxmig_gpu.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"
#include "harness.h"

#include "../../../../drivers/gpu/ctxmig/tests/ctxmig_diff.c"

static struct diff_stats stats;

static unsigned int runs_scale(void)
{
	const char *s = getenv("MIGRATE_RUNS");

	return s && atoi(s) > 0 ? atoi(s) : 1;
}

static unsigned int nmodels(void)
{
	unsigned int n = 0;

	while (ctxmig_model_at(n))
		n++;
	return n;
}

static struct diff_stats real_stats;

static void run_chain_as(const struct ctxmig_model *const *chain, u32 n,
			 u32 runs, u64 seed0, bool real)
{
	char why[256];
	u32 i;

	for (i = 0; i < runs; i++) {
		u64 seed = seed0 * 1000003 + i;
		int ret = real ? diff_run_real(seed, chain, n, &real_stats, why,
					       sizeof(why)) :
				 diff_run(seed, chain, n, &stats, why,
					  sizeof(why));

		CHECK(!ret, "%sseed %llu chain %s -> %s%s%s: %s",
		      real ? "real drivers, " : "",
		      (unsigned long long)seed, chain[0]->name, chain[1]->name,
		      n > 2 ? " -> " : "", n > 2 ? chain[2]->name : "", why);
		if (ret)
			return;
	}
}

static void run_chain(const struct ctxmig_model *const *chain, u32 n,
		      u32 runs, u64 seed0)
{
	run_chain_as(chain, n, runs, seed0, false);
}

/* X -> Y -> X -> Y for every ordered pair, X == Y included. */
TEST(every_ordered_pair)
{
	unsigned int n = nmodels(), x, y;

	for (x = 0; x < n; x++)
		for (y = 0; y < n; y++) {
			const struct ctxmig_model *chain[] = {
				ctxmig_model_at(x), ctxmig_model_at(y),
				ctxmig_model_at(x), ctxmig_model_at(y),
			};

			run_chain(chain, ARRAY_SIZE(chain), 40 * runs_scale(),
				  x * 16 + y + 1);
		}
}

/* X -> Y -> Z -> X for every chain of three. */
TEST(every_chain_of_three)
{
	unsigned int n = nmodels(), x, y, z;

	for (x = 0; x < n; x++)
		for (y = 0; y < n; y++)
			for (z = 0; z < n; z++) {
				const struct ctxmig_model *chain[] = {
					ctxmig_model_at(x), ctxmig_model_at(y),
					ctxmig_model_at(z), ctxmig_model_at(x),
				};

				run_chain(chain, ARRAY_SIZE(chain),
					  20 * runs_scale(),
					  1000 + x * 256 + y * 16 + z);
			}
}

/*
 * The real drivers' own words: amdgpu, Mesa, xe, nouveau and UVM
 * sequences (tests/ctxmig_vectors.c) pending at the migrations, X -> Y ->
 * X -> Y for every ordered pair and X -> Y -> Z -> X for every chain.
 */
TEST(real_driver_vectors)
{
	unsigned int n = nmodels(), x, y, z;

	for (x = 0; x < n; x++)
		for (y = 0; y < n; y++) {
			const struct ctxmig_model *chain[] = {
				ctxmig_model_at(x), ctxmig_model_at(y),
				ctxmig_model_at(x), ctxmig_model_at(y),
			};

			run_chain_as(chain, ARRAY_SIZE(chain),
				     20 * runs_scale(), 5000 + x * 16 + y,
				     true);
		}
	for (x = 0; x < n; x++)
		for (y = 0; y < n; y++)
			for (z = 0; z < n; z++) {
				const struct ctxmig_model *chain[] = {
					ctxmig_model_at(x), ctxmig_model_at(y),
					ctxmig_model_at(z), ctxmig_model_at(x),
				};

				run_chain_as(chain, ARRAY_SIZE(chain),
					     4 * runs_scale(),
					     9000 + x * 256 + y * 16 + z, true);
			}
	CHECK(real_stats.real_pending > 0, "no migration had commands pending");
}

static void report(void)
{
	printf("# migrate_test: %llu runs, %llu migrations (%llu with commands "
	       "pending, %llu inside a half-executed indirect buffer, %llu "
	       "through pre-copy), %llu stream bytes, %llu of them after "
	       "a pre-copy source stopped\n",
	       (unsigned long long)stats.runs,
	       (unsigned long long)stats.migrations,
	       (unsigned long long)stats.with_pending,
	       (unsigned long long)stats.mid_ib,
	       (unsigned long long)stats.precopy,
	       (unsigned long long)stats.bytes,
	       (unsigned long long)stats.stop_bytes);
	printf("# migrate_test: real-driver vectors: %llu runs, %llu "
	       "migrations, %llu of them with real-driver commands pending "
	       "(%llu inside a half-executed indirect buffer)\n",
	       (unsigned long long)real_stats.runs,
	       (unsigned long long)real_stats.migrations,
	       (unsigned long long)real_stats.real_pending,
	       (unsigned long long)real_stats.mid_ib);
}

int main(void)
{
	host_epilogue = report;
	return host_main("migrate_test");
}
