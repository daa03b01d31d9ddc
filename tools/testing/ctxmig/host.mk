# SPDX-License-Identifier: GPL-2.0
#
# Host builds of ctxmig's pure logic: the kernel sources compiled unchanged
# in userspace through the shim headers in include/.  Run from the top of
# the checkout as "make -f tools/testing/ctxmig/host.mk OUT=<dir> <target>";
# the top-level Makefile does that for check-host, fuzz, bench and dump.

OUT ?= $(CURDIR)/.host-build
CC := clang
T := tools/testing/ctxmig

HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers \
	-I$(T)/include -Iinclude/uapi -Idrivers/gpu/ctxmig
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# The kernel sources of the pure logic, and the shim's one implementation.
CODEC_SRCS := drivers/gpu/ctxmig/ctxmig_ir.c \
	drivers/gpu/ctxmig/ctxmig_ir_policy.c \
	$(T)/crc32c.c
# Everything else of the pure logic, with the shim's implementations.
LOGIC_SRCS := $(CODEC_SRCS) \
	$(filter-out drivers/gpu/ctxmig/ctxmig_main.c \
		$(wildcard drivers/gpu/ctxmig/ctxmig_vfio*.c) $(CODEC_SRCS), \
		$(wildcard drivers/gpu/ctxmig/ctxmig_*.c)) \
	$(T)/xarray.c
CODEC_DEPS := $(CODEC_SRCS) $(wildcard drivers/gpu/ctxmig/*.h) \
	$(wildcard $(T)/include/*/*.h) include/uapi/linux/ctxmig.h

HOST_TESTS := $(addprefix $(OUT)/, crc_test ir_test vram_test gpu_test amd_test \
	intel_test nv_test migrate_test bounds_test estimate_test spec_test)

.PHONY: check-host host-tests

$(OUT):
	@mkdir -p $@

$(OUT)/%_test: $(T)/host/%_test.c $(wildcard $(T)/host/*.h) $(CODEC_DEPS) \
		$(LOGIC_SRCS) $(wildcard drivers/gpu/ctxmig/tests/*.c) | $(OUT)
	$(CC) $(HOST_CFLAGS) $(SAN_CFLAGS) -o $@ $< $(LOGIC_SRCS)

host-tests: $(HOST_TESTS)

# Unit tests under ASan+UBSan, then a bounded fuzz run of the reader.
check-host: host-tests
	@$(T)/host/run.sh $(HOST_TESTS) -- $(MAKE) -s -f $(T)/host.mk OUT=$(OUT) check-tools

-include $(T)/tools.mk
