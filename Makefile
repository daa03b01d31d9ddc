# SPDX-License-Identifier: GPL-2.0
#
# ctxmig top-level Makefile.
#
# When kbuild descends here (make -C <kdir> M=<this dir>) only the Kbuild
# file matters; everything below is for a developer or CI at the top of the
# checkout.  "make help" lists the targets.

# Where downloads, the extracted kernel source, kernel builds and the VM
# images are cached, outside the checkout so that a fresh clone reuses them.
CTXMIG_CACHE ?= $(HOME)/.cache/ctxmig
export CTXMIG_CACHE

# Debian's 6.12 headers: linux-headers-6.12-amd64 names the newest version.
KVER ?= $(shell tools/testing/ctxmig/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
export KVER KDIR

FUZZ_SECONDS ?= 60
export FUZZ_SECONDS

HOST_BUILD := $(CTXMIG_CACHE)/host-build
HOST := tools/testing/ctxmig

.PHONY: all modules deps check check-host check-kunit check-vm check-debug \
	check-qemu \
	fuzz bench \
	demo dump checkpatch sparse clean help

all: modules

deps:
	@$(HOST)/deps.sh

modules: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_CTXMIG=m CONFIG_CTXMIG_VFIO=y W=1 modules

# The test tiers.  Each prints "<tier>: N passed, N failed[, N skipped]";
# check.sh runs them all and sums.
check: deps
	@$(HOST)/check.sh

check-host: deps
	@$(MAKE) -s -f $(HOST)/host.mk OUT=$(HOST_BUILD) check-host

check-kunit: deps
	@$(HOST)/kunit.sh

check-vm: modules
	@$(HOST)/vm/run.sh

check-debug: deps
	@$(HOST)/debug.sh

check-qemu: modules
	@$(HOST)/qemu/run.sh

fuzz: deps
	@$(MAKE) -s -f $(HOST)/host.mk OUT=$(HOST_BUILD) fuzz

bench: modules
	@$(HOST)/bench/bench.sh

dump: deps
	@$(MAKE) -s -f $(HOST)/host.mk OUT=$(HOST_BUILD) dump

demo: modules
	@$(HOST)/demo.sh

checkpatch: deps
	@$(HOST)/checkpatch.sh

sparse: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_CTXMIG=m CONFIG_CTXMIG_VFIO=y \
		C=2 CF=-D__CHECK_ENDIAN__ modules

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(HOST_BUILD)

help:
	@echo 'ctxmig targets:'
	@echo '  make              build ctxmig.ko out of tree against Debian 6.12 headers (W=1)'
	@echo '  make deps         install missing Debian packages (called by the others)'
	@echo '  make check        all test tiers: host, kunit, vm, debug, qemu; ends "N passed, N failed"'
	@echo '  make check-host   host tier: codec, model, translator and differential migration tests (ASan+UBSan), bounded fuzz run'
	@echo '  make check-kunit  KUnit tier: kunit.py (UML) from linux-source-6.12'
	@echo '  make check-vm     VM tier: kselftests in QEMU on Debian'"'"'s 6.12 kernel'
	@echo '  make check-debug  debug tier: kselftests and KUnit in QEMU on a KASAN+lockdep+kmemleak 6.12 kernel'
	@echo '  make check-qemu   qemu tier: QEMU 10 live-migrates a vGPU between two VM hosts (QEMU_PAIRS=all: every pair)'
	@echo '  make fuzz         libFuzzer on the IR reader, then on the restore path, FUZZ_SECONDS=$(FUZZ_SECONDS) each'
	@echo '  make bench        host codec and translator, then data_fd, sparse and pre-copy in the VM, each'
	@echo '                    against its baseline: one table with targets (a benchmark, not a test)'
	@echo '  make dump         build tools/ctxmig/ctxmig-dump into $(HOST_BUILD)'
	@echo '  make demo         the main job: QEMU 10 live-migrates a VM with a working vGPU from one VM host'
	@echo '                    to another, amd-gfx9 to nv-ampere, and reports (see README)'
	@echo '  make checkpatch   scripts/checkpatch.pl --strict on the kernel sources'
	@echo '  make sparse       sparse with endianness checks'
	@echo '  make clean        remove build products'
	@echo 'Cache: CTXMIG_CACHE=$(CTXMIG_CACHE); kernel: KVER=$(KVER)'
