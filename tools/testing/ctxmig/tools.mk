# SPDX-License-Identifier: GPL-2.0
#
# Fuzzer, benchmark and ctxmig-dump builds on top of host.mk, which includes
# this file and provides CC, T, OUT, HOST_CFLAGS, SAN_CFLAGS, CODEC_SRCS,
# CODEC_DEPS and LOGIC_SRCS.  Run from the top of the checkout:
#
#   make -f tools/testing/ctxmig/host.mk OUT=<dir> <target>
#
#   dump         build <OUT>/ctxmig-dump (-O2, no sanitizers), print its path;
#                "make install" and the Debian package build it with CC=cc
#   fuzz-build   build the libFuzzer targets (libFuzzer + ASan + UBSan):
#                <OUT>/ir_reader_fuzz, the IR reader alone, and
#                <OUT>/restore_fuzz, a stream restored into a device of
#                any model which then runs and is saved again
#   check-fuzz   bounded run of each target in turn, CHECK_FUZZ_SECONDS (20)
#                each; ends "fuzz: N passed, N failed"
#   fuzz         campaign of FUZZ_SECONDS (60) per target, one after the
#                other; each target's corpus grows in
#                <OUT>/fuzz-corpus-<target> across runs
#   fuzz-corpus  regenerate the generated seeds: fuzz/corpus (reader; its
#                07-misaligned-writes.ir is a kept regression input) and
#                fuzz/corpus-restore (restore: streams saved by every model,
#                *.bin; other names there are kept regression inputs)
#   bench        build and run <OUT>/ir_bench (-O2); BENCH_BYTES (1 GiB),
#                BENCH_RUNS (3, the best is shown); then <OUT>/xlate_bench,
#                page-table translation for every pair of models against
#                streaming the memory mapped, BENCH_MAP_BYTES (1 GiB);
#                the host half of "make bench" (bench/bench.sh)
#   check-dump   ctxmig-dump on every seed and on a truncated copy of each;
#                ends "dump: N passed, N failed"
#   check-man    each manual page of Documentation/man renders without a
#                warning (groff -ww, man --warnings) and lexgrog reads its
#                NAME; ends "man: N passed, N failed"
#   check-version  VERSION is a release number, debian/changelog and
#                ctxmig-dump --version say it too, dkms.conf takes it;
#                ends "version: N passed, N failed"
#   check-tools  check-fuzz, check-dump, check-man and check-version; ends
#                "tools: N passed, N failed"
#
# check-fuzz and fuzz print, per target, libFuzzer's exec count ("Done N
# runs in S second(s)") and the corpus size (fuzz/run.sh).  The seed
# corpora in the tree are only read: fuzzing copies them into
# <OUT>/fuzz-corpus-<target>, which is where libFuzzer writes.  Crash, leak
# and timeout reproducers go to <OUT>/fuzz-artifacts/<target>-*; a target
# that finds one fails the run, which prints the reproducer's path and the
# sanitizer report.

FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 20
BENCH_BYTES ?=
BENCH_RUNS ?=
export BENCH_BYTES BENCH_RUNS

FUZZ_SRC_DIR := $(T)/fuzz
SEED_CORPUS := $(FUZZ_SRC_DIR)/corpus
RESTORE_CORPUS := $(FUZZ_SRC_DIR)/corpus-restore
FUZZ_DEPS := $(FUZZ_SRC_DIR)/fuzz_util.h $(CODEC_DEPS)
# Reader: one largest VRAM record behind a preamble, DEVICE and ENGINEs,
# plus the control trailer.  Restore: the same behind its 2-byte header.
FUZZ_MAX_LEN := 69632
RESTORE_MAX_LEN := 69634
# BIN:SEEDS:MAXLEN for fuzz/run.sh, in the order they run.
FUZZ_TARGETS := $(OUT)/ir_reader_fuzz:$(SEED_CORPUS):$(FUZZ_MAX_LEN) \
	$(OUT)/restore_fuzz:$(RESTORE_CORPUS):$(RESTORE_MAX_LEN)
FUZZ_BINS := $(OUT)/ir_reader_fuzz $(OUT)/restore_fuzz
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
OPT_CFLAGS := $(HOST_CFLAGS) -O2
# e.g. -DCTXMIG_FUZZ_BOUNCE=0 (see ir_reader_fuzz.c); rebuild after changing.
FUZZ_CFLAGS ?=

.PHONY: dump fuzz-build check-fuzz fuzz fuzz-corpus bench check-dump \
	check-man check-version check-tools

# ---------------------------------------------------------------- dump

# CPPFLAGS, CFLAGS and LDFLAGS from the environment come last (a package
# build's hardening flags); the release is VERSION's.
$(OUT)/ctxmig-dump: tools/ctxmig/ctxmig-dump.c $(CODEC_DEPS) VERSION | $(OUT)
	$(CC) $(OPT_CFLAGS) -DCTXMIG_RELEASE='"$(shell cat VERSION)"' \
		$(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CODEC_SRCS)

dump: $(OUT)/ctxmig-dump
	@echo $(OUT)/ctxmig-dump

# ---------------------------------------------------------------- fuzz

$(OUT)/ir_reader_fuzz: $(FUZZ_SRC_DIR)/ir_reader_fuzz.c $(FUZZ_DEPS) | $(OUT)
	$(CC) $(HOST_CFLAGS) $(FUZZ_SAN) $(FUZZ_CFLAGS) -o $@ $< $(CODEC_SRCS)

$(OUT)/restore_fuzz: $(FUZZ_SRC_DIR)/restore_fuzz.c $(FUZZ_DEPS) \
		$(LOGIC_SRCS) | $(OUT)
	$(CC) $(HOST_CFLAGS) $(FUZZ_SAN) $(FUZZ_CFLAGS) -o $@ $< $(LOGIC_SRCS)

fuzz-build: $(FUZZ_BINS)

# Every target in turn, for the given seconds each.
check-fuzz: $(FUZZ_BINS)
	@$(FUZZ_SRC_DIR)/run.sh $(CHECK_FUZZ_SECONDS) $(OUT) $(FUZZ_TARGETS)

fuzz: $(FUZZ_BINS)
	@$(FUZZ_SRC_DIR)/run.sh $(FUZZ_SECONDS) $(OUT) $(FUZZ_TARGETS)

$(OUT)/gen_corpus: $(FUZZ_SRC_DIR)/gen_corpus.c $(CODEC_DEPS) | $(OUT)
	$(CC) $(HOST_CFLAGS) $(SAN_CFLAGS) -o $@ $< $(CODEC_SRCS)

$(OUT)/gen_restore_corpus: $(FUZZ_SRC_DIR)/gen_restore_corpus.c $(FUZZ_DEPS) \
		$(wildcard $(T)/host/*.h) $(LOGIC_SRCS) | $(OUT)
	$(CC) $(HOST_CFLAGS) $(SAN_CFLAGS) -o $@ $< $(LOGIC_SRCS)

fuzz-corpus: $(OUT)/gen_corpus $(OUT)/gen_restore_corpus
	@mkdir -p $(SEED_CORPUS) $(RESTORE_CORPUS)
	@$(OUT)/gen_corpus $(SEED_CORPUS)
	@$(OUT)/gen_restore_corpus $(RESTORE_CORPUS)

# ---------------------------------------------------------------- bench

$(OUT)/ir_bench: $(T)/bench/ir_bench.c $(T)/bench/bench_env.h $(CODEC_DEPS) | $(OUT)
	$(CC) $(OPT_CFLAGS) -o $@ $< $(CODEC_SRCS)

$(OUT)/xlate_bench: $(T)/bench/xlate_bench.c $(CODEC_DEPS) $(LOGIC_SRCS) | $(OUT)
	$(CC) $(OPT_CFLAGS) -o $@ $< $(LOGIC_SRCS)

# Pages from free lists, as the kernel allocates them (see linux/gfp.h's shim).
$(OUT)/path_bench: $(T)/bench/path_bench.c $(T)/bench/bench_env.h $(T)/host/gpu_util.h $(CODEC_DEPS) $(LOGIC_SRCS) | $(OUT)
	$(CC) $(OPT_CFLAGS) -DCTXMIG_SHIM_PAGE_LISTS -o $@ $< $(LOGIC_SRCS)

bench: $(OUT)/path_bench $(OUT)/ir_bench $(OUT)/xlate_bench
	@$(OUT)/path_bench
	@echo
	@$(OUT)/ir_bench
	@echo
	@$(OUT)/xlate_bench

# ----------------------------------------------------------- check-dump

# Every seed decodes (exit 0, text and JSON); the seed cut 8 bytes short
# is refused (exit 1) with an ENODATA message.  Seeds carrying a fuzzer
# control trailer (a length not a multiple of 8) are not plain streams.
check-dump: $(OUT)/ctxmig-dump
	@p=0; f=0; tmp=$(OUT)/check-dump.tmp; \
	for s in $(SEED_CORPUS)/*; do \
		n=$$(basename $$s); \
		[ $$(($$(wc -c <$$s) % 8)) -eq 0 ] || continue; \
		if $(OUT)/ctxmig-dump $$s >$$tmp.out 2>&1 && \
		   $(OUT)/ctxmig-dump -v --json $$s >$$tmp.out 2>&1; then \
			p=$$((p + 1)); \
		else \
			echo "dump: $$n: valid seed refused:"; cat $$tmp.out; \
			f=$$((f + 1)); \
		fi; \
		head -c $$(($$(wc -c <$$s) - 8)) $$s >$$tmp.cut; \
		$(OUT)/ctxmig-dump $$tmp.cut >/dev/null 2>$$tmp.err; rc=$$?; \
		if [ $$rc -eq 1 ] && grep -q 'ENODATA' $$tmp.err; then \
			p=$$((p + 1)); \
		else \
			echo "dump: $$n truncated: exit $$rc:"; cat $$tmp.err; \
			f=$$((f + 1)); \
		fi; \
	done; \
	rm -f $$tmp.out $$tmp.cut $$tmp.err; \
	echo "dump: $$p passed, $$f failed"; \
	[ $$f -eq 0 ]

# ------------------------------------------------------------ check-man

MAN_PAGES := $(wildcard Documentation/man/*.[1-9])

# Three checks a page: groff's own warnings (all of them, -ww), man-db's
# rendering at 80 columns with its warnings on, and lexgrog finding the
# NAME line that whatis and apropos index.
check-man:
	@p=0; f=0; tmp=$(OUT)/check-man.tmp; mkdir -p $(OUT); \
	for m in $(MAN_PAGES); do \
		groff -ww -z -man $$m >$$tmp 2>&1; \
		if [ ! -s $$tmp ]; then p=$$((p + 1)); else \
			echo "man: $$m: groff:"; cat $$tmp; f=$$((f + 1)); fi; \
		MANWIDTH=80 man --warnings -E UTF-8 -l $$m 2>$$tmp >/dev/null; \
		if [ ! -s $$tmp ]; then p=$$((p + 1)); else \
			echo "man: $$m: man -l:"; cat $$tmp; f=$$((f + 1)); fi; \
		if lexgrog $$m | grep -q ': "'"$$(basename $${m%.*})"' - '; then \
			p=$$((p + 1)); else \
			echo "man: $$m: lexgrog:"; lexgrog $$m; f=$$((f + 1)); fi; \
	done; \
	[ -n "$(MAN_PAGES)" ] || { echo "man: no pages"; f=1; }; \
	rm -f $$tmp; \
	echo "man: $$p passed, $$f failed"; \
	[ $$f -eq 0 ]

# -------------------------------------------------------- check-version

# The release is VERSION's, and every place that states it agrees: the
# Debian changelog (debian/rules refuses to build otherwise), ctxmig-dump
# and dkms.conf's placeholder, which make dkms and dh_dkms fill in.
check-version: $(OUT)/ctxmig-dump
	@p=0; f=0; v=$$(cat VERSION); \
	check() { if [ "$$2" = "$$3" ]; then p=$$((p + 1)); else \
		echo "version: $$1: '$$2', expected '$$3'"; f=$$((f + 1)); fi; }; \
	check "VERSION" "$$(echo "$$v" | grep -xE '[0-9]+\.[0-9]+\.[0-9]+')" "$$v"; \
	check "debian/changelog" \
		"$$(dpkg-parsechangelog -l debian/changelog -S Version)" "$$v"; \
	check "ctxmig-dump --version" "$$($(OUT)/ctxmig-dump --version | cut -d' ' -f2 | tr -d ,)" "$$v"; \
	check "dkms.conf" "$$(sed -n 's/^PACKAGE_VERSION=//p' dkms.conf)" '"#MODULE_VERSION#"'; \
	echo "version: $$p passed, $$f failed"; \
	[ $$f -eq 0 ]

# ---------------------------------------------------------- check-tools

# The checks above as one command with one result line, for host/run.sh.
check-tools:
	@p=0; f=0; log=$(OUT)/check-tools.log; mkdir -p $(OUT); \
	for t in check-fuzz check-dump check-man check-version; do \
		$(MAKE) -s -f $(T)/host.mk OUT=$(OUT) $$t >$$log 2>&1; rc=$$?; \
		cat $$log; \
		line=$$(grep -E '^[a-z_-]+: [0-9]+ passed, [0-9]+ failed' $$log | \
			tail -n1); \
		tp=$$(echo "$$line" | sed -nE 's/.*: ([0-9]+) passed.*/\1/p'); \
		tf=$$(echo "$$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p'); \
		[ -n "$$tp" ] || tp=0; [ -n "$$tf" ] || tf=0; \
		[ $$rc -ne 0 ] && [ $$tf -eq 0 ] && tf=1; \
		p=$$((p + tp)); f=$$((f + tf)); \
	done; \
	rm -f $$log; \
	echo "tools: $$p passed, $$f failed"; \
	[ $$f -eq 0 ]
