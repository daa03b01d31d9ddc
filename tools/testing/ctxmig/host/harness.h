/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal test harness for the host builds: TEST() registers a function,
 * CHECK*() record a failure and carry on, main() runs everything and ends
 * with "<program>: N passed, N failed".  Output is KTAP-like so that a
 * failure reads the same as one in KUnit.
 */
#ifndef _CTXMIG_HOST_HARNESS_H
#define _CTXMIG_HOST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct host_test {
	const char *name;
	void (*fn)(void);
};

#define HOST_MAX_TESTS 256
static struct host_test host_tests[HOST_MAX_TESTS];
static unsigned int host_ntests;
static unsigned int host_failures;	/* within the running test */
/* Called after the tests, before the result line: figures to report. */
static void (*host_epilogue)(void);

#define TEST(name)							\
	static void name(void);						\
	__attribute__((constructor)) static void register_##name(void)	\
	{								\
		host_tests[host_ntests++] = (struct host_test){ #name, name }; \
	}								\
	static void name(void)

#define CHECK(cond, fmt, ...)						\
	do {								\
		if (!(cond)) {						\
			host_failures++;				\
			printf("    # %s:%d: CHECK(%s) failed: " fmt "\n", \
			       __FILE__, __LINE__, #cond, ##__VA_ARGS__); \
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	CHECK((a) == (b), "%lld != %lld", (long long)(a), (long long)(b))

static int host_main(const char *prog)
{
	unsigned int i, passed = 0, failed = 0;

	printf("KTAP version 1\n1..%u\n", host_ntests);
	for (i = 0; i < host_ntests; i++) {
		host_failures = 0;
		host_tests[i].fn();
		if (host_failures) {
			failed++;
			printf("not ok %u %s\n", i + 1, host_tests[i].name);
		} else {
			passed++;
			printf("ok %u %s\n", i + 1, host_tests[i].name);
		}
	}
	if (host_epilogue)
		host_epilogue();
	printf("%s: %u passed, %u failed\n", prog, passed, failed);
	return failed ? 1 : 0;
}

#endif
