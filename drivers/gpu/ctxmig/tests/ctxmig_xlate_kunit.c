// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the GPU models and translators, compiled into
 * ctxmig_xlate.c: the differential migration runs of
 * tools/testing/ctxmig/host/migrate_test.c, fewer of them, against the
 * kernel's own allocators, xarray and crc32c.
 */
#include <kunit/test.h>
#include <linux/sched.h>

#include "ctxmig_diff.c"

/* Runs per chain here; the host tier runs many more. */
#define KUNIT_PAIR_RUNS		4
#define KUNIT_CHAIN_RUNS	1

static unsigned int kunit_nmodels(void)
{
	unsigned int n = 0;

	while (ctxmig_model_at(n))
		n++;
	return n;
}

static void kunit_chain(struct kunit *test,
			const struct ctxmig_model *const *chain, u32 n,
			u32 runs, u64 seed0, struct diff_stats *st)
{
	char *why = kunit_kzalloc(test, 256, GFP_KERNEL);
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, why);
	for (i = 0; i < runs; i++) {
		u64 seed = seed0 * 1000003 + i;

		cond_resched();
		KUNIT_EXPECT_EQ_MSG(test, diff_run(seed, chain, n, st, why, 256),
				    0, "seed %llu %s -> %s: %s", seed,
				    chain[0]->name, chain[1]->name, why);
		/* Hundreds of migrations: a slow machine must not stall. */
		cond_resched();
	}
}

/* X -> Y -> X -> Y for every ordered pair of models. */
static void ctxmig_xlate_every_pair(struct kunit *test)
{
	unsigned int n = kunit_nmodels(), x, y;
	struct diff_stats st = {};

	for (x = 0; x < n; x++)
		for (y = 0; y < n; y++) {
			const struct ctxmig_model *chain[] = {
				ctxmig_model_at(x), ctxmig_model_at(y),
				ctxmig_model_at(x), ctxmig_model_at(y),
			};

			kunit_chain(test, chain, ARRAY_SIZE(chain),
				    KUNIT_PAIR_RUNS, x * 16 + y + 1, &st);
		}
	kunit_info(test, "%llu migrations (%llu with commands pending, %llu mid indirect buffer)\n",
		   st.migrations, st.with_pending, st.mid_ib);
	KUNIT_EXPECT_GT(test, st.migrations, 0);
}

/* X -> Y -> Z -> X for every chain of three models. */
static void ctxmig_xlate_every_chain(struct kunit *test)
{
	unsigned int n = kunit_nmodels(), x, y, z;
	struct diff_stats st = {};

	for (x = 0; x < n; x++)
		for (y = 0; y < n; y++)
			for (z = 0; z < n; z++) {
				const struct ctxmig_model *chain[] = {
					ctxmig_model_at(x), ctxmig_model_at(y),
					ctxmig_model_at(z), ctxmig_model_at(x),
				};

				kunit_chain(test, chain, ARRAY_SIZE(chain),
					    KUNIT_CHAIN_RUNS,
					    1000 + x * 256 + y * 16 + z, &st);
			}
	kunit_info(test, "%llu migrations\n", st.migrations);
	KUNIT_EXPECT_GT(test, st.migrations, 0);
}

/*
 * X -> Y -> X -> Y for every ordered pair, the guest writing what the
 * real drivers write (tests/ctxmig_vectors.c), migrated with those words
 * pending.
 */
static void ctxmig_xlate_real_drivers(struct kunit *test)
{
	unsigned int n = kunit_nmodels(), x, y, i;
	char *why = kunit_kzalloc(test, 256, GFP_KERNEL);
	struct diff_stats st = {};

	KUNIT_ASSERT_NOT_NULL(test, why);
	for (x = 0; x < n; x++)
		for (y = 0; y < n; y++) {
			const struct ctxmig_model *chain[] = {
				ctxmig_model_at(x), ctxmig_model_at(y),
				ctxmig_model_at(x), ctxmig_model_at(y),
			};

			for (i = 0; i < KUNIT_PAIR_RUNS; i++) {
				u64 seed = (5000 + x * 16 + y) * 1000003 + i;

				cond_resched();
				KUNIT_EXPECT_EQ_MSG(test,
						    diff_run_real(seed, chain,
								  ARRAY_SIZE(chain),
								  &st, why, 256),
						    0, "seed %llu %s -> %s: %s",
						    seed, chain[0]->name,
						    chain[1]->name, why);
			}
		}
	kunit_info(test, "%llu migrations, %llu with real-driver commands pending\n",
		   st.migrations, st.real_pending);
	KUNIT_EXPECT_GT(test, st.real_pending, 0);
}

/* The compatibility check answers from the preamble alone. */
static void ctxmig_xlate_compat(struct kunit *test)
{
	struct ctxmig_gpu *gpu = kunit_kzalloc(test, sizeof(*gpu), GFP_KERNEL);
	struct ctxmig_caps caps;
	char why[128];

	KUNIT_ASSERT_NOT_NULL(test, gpu);
	KUNIT_ASSERT_EQ(test, ctxmig_gpu_init(gpu, ctxmig_model_at(0),
					      64 << 20), 0);
	ctxmig_gpu_caps(gpu, &caps);
	KUNIT_EXPECT_EQ(test, ctxmig_compat(&caps, gpu, why, sizeof(why)), 0);
	caps.vram_size += 2 << 20;
	KUNIT_EXPECT_EQ(test, ctxmig_compat(&caps, gpu, why, sizeof(why)),
			-ENOSPC);
	ctxmig_gpu_caps(gpu, &caps);
	caps.va_bits++;
	KUNIT_EXPECT_EQ(test, ctxmig_compat(&caps, gpu, why, sizeof(why)),
			-ERANGE);
	ctxmig_gpu_fini(gpu);
}

static struct kunit_case ctxmig_xlate_test_cases[] = {
	KUNIT_CASE(ctxmig_xlate_compat),
	KUNIT_CASE_SLOW(ctxmig_xlate_every_pair),
	KUNIT_CASE_SLOW(ctxmig_xlate_every_chain),
	KUNIT_CASE_SLOW(ctxmig_xlate_real_drivers),
	{}
};

static struct kunit_suite ctxmig_xlate_test_suite = {
	.name = "ctxmig_xlate",
	.test_cases = ctxmig_xlate_test_cases,
};

kunit_test_suite(ctxmig_xlate_test_suite);
