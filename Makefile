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

# Debian's 6.12 headers: linux-headers-6.12-amd64 names the newest version;
# without that package, the running kernel.
KVER ?= $(or $(shell tools/testing/ctxmig/kver.sh 2>/dev/null),$(shell uname -r))
KDIR ?= /lib/modules/$(KVER)/build
export KVER KDIR

# The release (MODULE_VERSION, DKMS, the Debian packages).
VERSION := $(shell cat VERSION)

# make install: DESTDIR as usual (then no depmod here); the module goes to
# /lib/modules/$(KVER)/updates whatever PREFIX is.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
# An admin's udev rules; a package's go to /lib/udev/rules.d.
UDEVDIR ?= /etc/udev/rules.d
UDEV_RULES := tools/ctxmig/61-ctxmig-mdevctl.rules
MODDIR := /lib/modules/$(KVER)/updates/drivers/gpu/ctxmig
# The installed tools are built with the system compiler, without
# sanitizers, here.
TOOLS_CC ?= cc
TOOLS_OUT ?= $(CURDIR)/.tools-build
# make deb builds the packages here.
DEB_OUT ?= $(CURDIR)/.deb-build
MAN_PAGES := Documentation/man/ctxmig-dump.1 Documentation/man/ctxmig.4
# The module's source as DKMS builds it: what kbuild reads.
DKMS_SRC := /usr/src/ctxmig-$(VERSION)
DKMS_FILES := Kbuild VERSION include/uapi/linux/ctxmig.h \
	drivers/gpu/ctxmig/Kconfig drivers/gpu/ctxmig/Makefile \
	$(wildcard drivers/gpu/ctxmig/*.[ch] drivers/gpu/ctxmig/tests/*.c)

KBUILD := $(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_CTXMIG=m CONFIG_CTXMIG_VFIO=y

FUZZ_SECONDS ?= 60
export FUZZ_SECONDS

HOST_BUILD := $(CTXMIG_CACHE)/host-build
HOST := tools/testing/ctxmig

.PHONY: all modules deps check check-host check-kunit check-vm check-debug \
	check-qemu check-pkg \
	fuzz bench \
	demo dump checkpatch sparse clean help \
	tools install install-module install-tools install-src install-udev \
	uninstall \
	dkms dkms-remove deb

all: modules

deps:
	@$(HOST)/deps.sh

modules: deps
	$(KBUILD) W=1 modules

# ------------------------------------------------------------ installing

install: install-module install-tools install-udev

# kbuild installs into updates/, unsigned (Debian's headers carry no
# signing key: a host that enforces signatures signs with its own, as DKMS
# does), then depmod, which kbuild skips without the kernel's System.map.
install-module:
	$(KBUILD) modules
	$(KBUILD) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		CONFIG_MODULE_SIG_ALL= modules_install
	$(if $(DESTDIR),,depmod -a $(KVER))

tools:
	@$(MAKE) -s -f $(HOST)/host.mk OUT=$(TOOLS_OUT) CC=$(TOOLS_CC) dump >/dev/null

install-tools: tools
	install -D -m 0755 $(TOOLS_OUT)/ctxmig-dump $(DESTDIR)$(BINDIR)/ctxmig-dump
	install -D -m 0644 include/uapi/linux/ctxmig.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/ctxmig.h
	install -D -m 0644 Documentation/man/ctxmig-dump.1 \
		$(DESTDIR)$(MANDIR)/man1/ctxmig-dump.1
	install -D -m 0644 Documentation/man/ctxmig.4 \
		$(DESTDIR)$(MANDIR)/man4/ctxmig.4

# mdevctl's auto-start of ctxmig's defined vGPUs where Debian 12's
# mdevctl rule cannot (the rule says why).
install-udev:
	install -D -m 0644 $(UDEV_RULES) $(DESTDIR)$(UDEVDIR)/$(notdir $(UDEV_RULES))

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/ctxmig.ko*
	rm -f $(DESTDIR)$(UDEVDIR)/$(notdir $(UDEV_RULES))
	-rmdir -p --ignore-fail-on-non-empty $(DESTDIR)$(MODDIR) 2>/dev/null
	$(if $(DESTDIR),,depmod -a $(KVER))
	rm -f $(DESTDIR)$(BINDIR)/ctxmig-dump \
		$(DESTDIR)$(INCLUDEDIR)/linux/ctxmig.h \
		$(DESTDIR)$(MANDIR)/man1/ctxmig-dump.1 \
		$(DESTDIR)$(MANDIR)/man4/ctxmig.4

# The DKMS source tree, /usr/src/ctxmig-$(VERSION), with dkms.conf.
install-src:
	@for f in $(DKMS_FILES); do \
		install -D -m 0644 $$f $(DESTDIR)$(DKMS_SRC)/$$f || exit 1; \
	done
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf \
		>$(DESTDIR)$(DKMS_SRC)/dkms.conf

# dkms 3: add (again, if this release was added before), build and
# install for $(KVER); DKMS rebuilds it for every 6.12 kernel installed
# later.
dkms:
	@if dkms status -m ctxmig -v $(VERSION) | grep -q .; then \
		dkms remove ctxmig/$(VERSION) --all; \
	fi
	rm -rf $(DKMS_SRC)
	$(MAKE) --no-print-directory install-src DESTDIR=
	dkms add ctxmig/$(VERSION)
	dkms build ctxmig/$(VERSION) -k $(KVER)
	dkms install ctxmig/$(VERSION) -k $(KVER)

dkms-remove:
	dkms remove ctxmig/$(VERSION) --all
	rm -rf $(DKMS_SRC)

# The Debian source package and ctxmig-dkms, ctxmig-tools, built from the
# checkout's tracked files in $(DEB_OUT).  dpkg-buildpackage names the
# build dependencies missing (debhelper, dh-dkms).
deb:
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_OUT)/ctxmig-$(VERSION)
	git ls-files -z | xargs -0 cp -a --parents -t $(DEB_OUT)/ctxmig-$(VERSION)
	cd $(DEB_OUT)/ctxmig-$(VERSION) && dpkg-buildpackage -us -uc
	@ls $(DEB_OUT)/*.deb

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

check-pkg: deps
	@$(HOST)/pkg/run.sh

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
	rm -rf $(HOST_BUILD) $(TOOLS_OUT) $(DEB_OUT)

help:
	@echo 'ctxmig targets:'
	@echo '  make              build ctxmig.ko out of tree against Debian 6.12 headers (W=1)'
	@echo '  make deps         install missing Debian packages (called by the others)'
	@echo '  make check        all test tiers: host, kunit, vm, debug, qemu, pkg; ends "N passed, N failed"'
	@echo '  make check-host   host tier: codec, model, translator and differential migration tests (ASan+UBSan), bounded fuzz run'
	@echo '  make check-kunit  KUnit tier: kunit.py (UML) from linux-source-6.12'
	@echo '  make check-vm     VM tier: kselftests in QEMU on Debian'"'"'s 6.12 kernel'
	@echo '  make check-debug  debug tier: kselftests and KUnit in QEMU on a KASAN+lockdep+kmemleak 6.12 kernel'
	@echo '  make check-qemu   qemu tier: QEMU 10 live-migrates a vGPU between two VM hosts (QEMU_PAIRS=all: every pair)'
	@echo '  make check-pkg    pkg tier: make install, make dkms and the .debs on a Debian 12 system, booted with'
	@echo '                    systemd: modprobe, mdevctl, a migration, a kernel upgrade, a reboot'
	@echo '  make fuzz         libFuzzer on the IR reader, then on the restore path, FUZZ_SECONDS=$(FUZZ_SECONDS) each'
	@echo '  make bench        host save/restore paths, codec and translator, then data_fd, sparse and'
	@echo '                    pre-copy in the VM, each against its baseline (copy + CRC32C for the data'
	@echo '                    paths), QEMU'"'"'s query-migrate for a VM with a vGPU against one without:'
	@echo '                    one table with targets (a benchmark, not a test)'
	@echo '  make dump         build tools/ctxmig/ctxmig-dump into $(HOST_BUILD)'
	@echo '  make demo         the main job: QEMU 10 live-migrates a VM with a working vGPU from one VM host'
	@echo '                    to another, amd-gfx9 to nv-ampere, and reports (see README)'
	@echo '  make checkpatch   scripts/checkpatch.pl --strict on the kernel sources'
	@echo '  make sparse       sparse with endianness checks'
	@echo '  make clean        remove build products'
	@echo 'Installing (release $(VERSION); see README, "Installing"):'
	@echo '  make install      ctxmig.ko into /lib/modules/$(KVER)/updates (then depmod), ctxmig-dump,'
	@echo '                    <linux/ctxmig.h> and the man pages under PREFIX=$(PREFIX), the udev rule'
	@echo '                    that starts mdevctl-defined vGPUs in UDEVDIR=$(UDEVDIR); DESTDIR honoured'
	@echo '  make uninstall    remove what make install installed'
	@echo '  make dkms         the module through DKMS (dkms add, build, install for $(KVER)),'
	@echo '                    rebuilt by DKMS for every 6.12 kernel installed later'
	@echo '  make dkms-remove  remove it from DKMS'
	@echo '  make deb          ctxmig-dkms and ctxmig-tools .debs and the source package, in DEB_OUT=$(DEB_OUT)'
	@echo '  make tools        build ctxmig-dump as installed (TOOLS_CC=$(TOOLS_CC)) into TOOLS_OUT'
	@echo 'Cache: CTXMIG_CACHE=$(CTXMIG_CACHE); kernel: KVER=$(KVER)'
