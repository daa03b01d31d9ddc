# SPDX-License-Identifier: GPL-2.0
#
# Fuzzer, benchmark and ctxmig-dump builds on top of host.mk, which includes
# this file and provides CC, T, OUT, HOST_CFLAGS, SAN_CFLAGS, CODEC_SRCS,
# CODEC_DEPS and LOGIC_SRCS.  Run from the top of the checkout:
#
#   make -f tools/testing/ctxmig/host.mk OUT=<dir> <target>
#
#   dump         build <OUT>/ctxmig-dump (-O2, no sanitizers), print its path
#   fuzz-build   build <OUT>/ir_reader_fuzz (libFuzzer + ASan + UBSan)
#   check-fuzz   bounded fuzz run, CHECK_FUZZ_SECONDS (20); ends
#                "fuzz: N passed, N failed"
#   fuzz         fuzz campaign of FUZZ_SECONDS (60); the corpus grows in
#                <OUT>/fuzz-corpus across runs
#   fuzz-corpus  regenerate the generated seeds in tools/testing/ctxmig/fuzz/corpus
#                (07-misaligned-writes.ir is a kept regression input)
#   bench        build and run <OUT>/ir_bench (-O2); BENCH_BYTES (1 GiB),
#                BENCH_RUNS (3, the best is shown); then <OUT>/xlate_bench,
#                page-table translation for every pair of models against
#                streaming the memory mapped, BENCH_MAP_BYTES (1 GiB);
#                the host half of "make bench" (bench/bench.sh)
#   check-dump   ctxmig-dump on every seed and on a truncated copy of each;
#                ends "dump: N passed, N failed"
#   check-tools  check-fuzz and check-dump; ends "tools: N passed, N failed"
#
# The seed corpus in the tree is only read: fuzzing copies it into
# <OUT>/fuzz-corpus, which is where libFuzzer writes.  Crash, leak and
# timeout reproducers go to <OUT>/fuzz-artifacts/.

FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 20
BENCH_BYTES ?=
BENCH_RUNS ?=
export BENCH_BYTES BENCH_RUNS

FUZZ_SRC_DIR := $(T)/fuzz
SEED_CORPUS := $(FUZZ_SRC_DIR)/corpus
FUZZ_CORPUS := $(OUT)/fuzz-corpus
FUZZ_ARTIFACTS := $(OUT)/fuzz-artifacts
# One largest VRAM record behind a preamble, DEVICE and ENGINEs, plus the
# control trailer.
FUZZ_MAX_LEN := 69632
FUZZ_OPTS := -rss_limit_mb=2048 -timeout=10 -max_len=$(FUZZ_MAX_LEN) \
	-print_final_stats=1 -artifact_prefix=$(FUZZ_ARTIFACTS)/
OPT_CFLAGS := $(HOST_CFLAGS) -O2
# e.g. -DCTXMIG_FUZZ_BOUNCE=0 (see ir_reader_fuzz.c); rebuild after changing.
FUZZ_CFLAGS ?=

.PHONY: dump fuzz-build check-fuzz fuzz fuzz-corpus bench check-dump \
	check-tools

# ---------------------------------------------------------------- dump

$(OUT)/ctxmig-dump: tools/ctxmig/ctxmig-dump.c $(CODEC_DEPS) | $(OUT)
	$(CC) $(OPT_CFLAGS) -o $@ $< $(CODEC_SRCS)

dump: $(OUT)/ctxmig-dump
	@echo $(OUT)/ctxmig-dump

# ---------------------------------------------------------------- fuzz

$(OUT)/ir_reader_fuzz: $(FUZZ_SRC_DIR)/ir_reader_fuzz.c $(CODEC_DEPS) | $(OUT)
	$(CC) $(HOST_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer $(FUZZ_CFLAGS) \
		-o $@ $< $(CODEC_SRCS)

fuzz-build: $(OUT)/ir_reader_fuzz

# $(call run_fuzz,<seconds>,<log>): fuzz over $(FUZZ_CORPUS), seeded from
# the tree without overwriting what earlier runs found; report the exec
# count and "fuzz: 1 passed, 0 failed", or the crash and a failure.
define run_fuzz
	@mkdir -p $(FUZZ_CORPUS) $(FUZZ_ARTIFACTS); \
	cp -n $(SEED_CORPUS)/* $(FUZZ_CORPUS)/; \
	$(OUT)/ir_reader_fuzz $(FUZZ_OPTS) -max_total_time=$(1) \
		$(FUZZ_CORPUS) >$(2) 2>&1; \
	rc=$$?; \
	done=$$(grep -E '^Done [0-9]+ runs in [0-9]+ second' $(2) | tail -n1); \
	if [ $$rc -eq 0 ] && [ -n "$$done" ]; then \
		grep -E '^#[0-9]+[[:space:]]+DONE' $(2) | tail -n1; \
		echo "fuzz: ir_reader_fuzz: $$done, $$(ls $(FUZZ_CORPUS) | wc -l) files in $(FUZZ_CORPUS)"; \
		echo "fuzz: 1 passed, 0 failed"; \
	else \
		tail -n 60 $(2); \
		echo "fuzz: ir_reader_fuzz exited $$rc, log $(2), reproducers in $(FUZZ_ARTIFACTS)/"; \
		echo "fuzz: 0 passed, 1 failed"; \
		exit 1; \
	fi
endef

check-fuzz: $(OUT)/ir_reader_fuzz
	$(call run_fuzz,$(CHECK_FUZZ_SECONDS),$(OUT)/check-fuzz.log)

fuzz: $(OUT)/ir_reader_fuzz
	$(call run_fuzz,$(FUZZ_SECONDS),$(OUT)/fuzz.log)

$(OUT)/gen_corpus: $(FUZZ_SRC_DIR)/gen_corpus.c $(CODEC_DEPS) | $(OUT)
	$(CC) $(HOST_CFLAGS) $(SAN_CFLAGS) -o $@ $< $(CODEC_SRCS)

fuzz-corpus: $(OUT)/gen_corpus
	@mkdir -p $(SEED_CORPUS)
	@$(OUT)/gen_corpus $(SEED_CORPUS)

# ---------------------------------------------------------------- bench

$(OUT)/ir_bench: $(T)/bench/ir_bench.c $(CODEC_DEPS) | $(OUT)
	$(CC) $(OPT_CFLAGS) -o $@ $< $(CODEC_SRCS)

$(OUT)/xlate_bench: $(T)/bench/xlate_bench.c $(CODEC_DEPS) $(LOGIC_SRCS) | $(OUT)
	$(CC) $(OPT_CFLAGS) -o $@ $< $(LOGIC_SRCS)

bench: $(OUT)/ir_bench $(OUT)/xlate_bench
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

# ---------------------------------------------------------- check-tools

# Both checks above as one command with one result line, for host/run.sh.
check-tools:
	@p=0; f=0; log=$(OUT)/check-tools.log; mkdir -p $(OUT); \
	for t in check-fuzz check-dump; do \
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
