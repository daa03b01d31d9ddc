// SPDX-License-Identifier: GPL-2.0
/*
 * The data_fd save and restore paths, built for userspace from the
 * driver's sources, against the least work an integrity-checked copy of
 * the same bytes needs: memcpy() plus their CRC32C, computed as the
 * kernel's crc32c-intel computes it (the shim's crc32c(), three crc32q
 * streams combined with PCLMULQDQ).  A benchmark, not a test: it prints a
 * table and fails only if a save or a restore does.
 *
 * save: an amd-gfx9 device, stopped, holding BENCH_BYTES (1 GiB) of
 *   random VRAM, saved into one user buffer in 64 MiB reads, each read
 *   done as ctxmig_save_read() does it: the writer's bytes copied out,
 *   and, while the writer is empty and the read has room for a whole
 *   record, the next run of data pages sent by reference
 *   (ctxmig_save_vram_pages(), ctxmig_ir_send_vram_pages() with memcpy()
 *   for copy_to_user()), else a ctxmig_save_step().
 *   Baseline: every VRAM page memcpy()d into the same buffer, and the
 *   CRC32C of the bytes.
 * restore: that stream written in 64 MiB writes to a new nv-ampere device,
 *   each write done as ctxmig_resume_write() does it: 64 KiB at a time,
 *   each run of bytes memcpy()d (copy_from_user()) where
 *   ctxmig_restore_dest() says and given to ctxmig_restore_commit(); then
 *   ctxmig_restore_finish().  The device is created before the clock
 *   starts, as the VM bench creates it before RESUMING; its VRAM is
 *   compared with the source's afterwards.  Pages come from the shim's
 *   free lists (CTXMIG_SHIM_PAGE_LISTS, linux/gfp.h), as the kernel's
 *   come from its per-CPU lists.
 *   Baseline: each byte of the stream memcpy()d to where the restore puts
 *   it, a VRAM record's data at its VRAM offset in a page-aligned buffer
 *   written before, the rest at its stream offset in another, and the
 *   CRC32C of the bytes.  Info: the same against the stream memcpy()d in
 *   64 KiB pieces to its own offsets (each copy's source and destination
 *   aligned alike, which no copy into page-aligned VRAM can be: VRAM data
 *   starts 24 bytes into its record), and against memcpy() into newly
 *   allocated pages.
 *
 * Each baseline is the fastest of three ways to do it: memcpy() and CRC
 * a page (4 KiB) at a time, a 64 KiB chunk at a time, or all the copies
 * and then one CRC over the whole; the table names the one it took.
 * Every buffer is written before it is timed, so no baseline pays for
 * page faults; every figure is the best of BENCH_RUNS (5) runs, the run
 * least disturbed by the rest of a shared machine, save, restore and the
 * baselines taking turns.  The CRC32C alone, three streams and one, is
 * printed for reference, and so is the restore against the least it
 * cannot do without, which the baseline leaves out: the stream copied into
 * newly allocated pages (__get_free_page()), one per page it fills, plus
 * their CRC32C.
 */
#include <linux/crc32c.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../host/gpu_util.h"
#include "bench_env.h"
#include "ctxmig_gpu.h"
#include "ctxmig_ir.h"
#include "ctxmig_ir_policy.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"

#define PAGE		CTXMIG_VRAM_PAGE_SIZE
#define CHUNK		CTXMIG_IR_VRAM_CHUNK_MAX
#define IO_BYTES	(64ULL << 20)	/* one read() or write() */
#define WRITE_CHUNK	(64U << 10)	/* ctxmig_vfio_mig.c's CTXMIG_MIGF_CHUNK */
#define DEFAULT_BYTES	BIT_ULL(30)
#define DEFAULT_RUNS	5
#define SRC_MODEL	"amd-gfx9"
#define DST_MODEL	"nv-ampere"

enum { WAY_PAGE, WAY_CHUNK, WAY_WHOLE, WAYS };
static const char *const way_names[WAYS] = {
	"per 4 KiB", "per 64 KiB", "copy all, then CRC",
};

static volatile u32 crc_sink;

/* The shim's page lists (linux/gfp.h), as the kernel's per-CPU lists. */
struct shim_page *shim_free_pages;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err, const char *reason)
{
	fprintf(stderr, "path_bench: %s failed: %d%s%s\n", what, err,
		reason && *reason ? ": " : "", reason ? reason : "");
	exit(1);
}

static const struct ctxmig_model *model(const char *name)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for (i = 0; (m = ctxmig_model_at(i)); i++)
		if (!strcmp(m->name, name))
			return m;
	die("finding a model", -ENOENT, name);
	return NULL;
}

static void *touched(u64 bytes)
{
	void *p = malloc(bytes);

	if (!p)
		die("allocating", -ENOMEM, NULL);
	memset(p, 0x5a, bytes);
	return p;
}

/* ----------------------------------------------------------- save */

/* ctxmig_ir_send_vram_pages()'s copy, copy_to_user() in the driver. */
static int copy_out(void *ctx, u32 at, const void *src, u32 len)
{
	memcpy((u8 *)ctx + at, src, len);
	return 0;
}

struct saver {
	struct ctxmig_save s;
	struct ctxmig_ir_writer w;
	bool done;
};

/* One read() of a saving data_fd, as ctxmig_save_read() does it. */
static u64 save_read(struct saver *sv, u8 *buf, u64 len)
{
	const void *pages[CHUNK / PAGE];
	u64 done = 0, off;
	int ret;
	u32 n;

	while (len) {
		const void *p = ctxmig_ir_peek(&sv->w, &n);

		if (n) {
			n = min_t(u64, n, len);
			memcpy(buf, p, n);
			ctxmig_ir_consume(&sv->w, n);
			buf += n;
			len -= n;
			done += n;
			continue;
		}
		if (sv->done)
			break;
		if (len >= CTXMIG_IR_VRAM_HDR_BYTES + CHUNK) {
			n = ctxmig_save_vram_pages(&sv->s, &off, pages);
			if (n) {
				ret = ctxmig_ir_send_vram_pages(&sv->w, off,
								pages, n,
								copy_out, buf);
				if (ret < 0)
					die("sending pages", ret,
					    sv->w.error.reason);
				buf += ret;
				len -= ret;
				done += ret;
				continue;
			}
		}
		ret = ctxmig_save_step(&sv->s, &sv->w);
		if (ret < 0)
			die("saving", ret, sv->s.error.err ?
			    sv->s.error.reason : sv->w.error.reason);
		sv->done = ret == CTXMIG_SAVE_DONE;
	}
	return done;
}

/* Save @gpu into @buf; returns the stream's length. */
static u64 run_save(struct ctxmig_gpu *gpu, u8 *buf, u64 cap, double *secs)
{
	struct saver *sv = calloc(1, sizeof(*sv));
	u64 len = 0, n;
	double t0;
	int ret;

	if (!sv)
		die("allocating", -ENOMEM, NULL);
	t0 = now();
	ret = ctxmig_ir_writer_init(&sv->w, CTXMIG_IR_WRITER_MIN_BUF);
	if (!ret)
		ret = ctxmig_save_init(&sv->s, gpu);
	if (ret)
		die("starting the save", ret, sv->s.error.reason);
	do {
		if (len == cap)
			die("saving: buffer full", -ENOSPC, NULL);
		n = save_read(sv, buf + len, min_t(u64, IO_BYTES, cap - len));
		len += n;
	} while (n);
	ctxmig_save_fini(&sv->s);
	ctxmig_ir_writer_fini(&sv->w);
	*secs = now() - t0;
	free(sv);
	return len;
}

/* The save's baseline: @npages pages copied into @buf, and their CRC. */
static double base_save(const void *const *pages, u64 npages, u8 *buf,
			int way)
{
	const u64 per = CHUNK / PAGE;
	double t0 = now();
	u32 crc = ~0U;
	u64 i, j;

	switch (way) {
	case WAY_PAGE:
		for (i = 0; i < npages; i++) {
			memcpy(buf + i * PAGE, pages[i], PAGE);
			crc = crc32c(crc, buf + i * PAGE, PAGE);
		}
		break;
	case WAY_CHUNK:
		for (i = 0; i < npages; i += per) {
			u64 k = min(per, npages - i);

			for (j = 0; j < k; j++)
				memcpy(buf + (i + j) * PAGE, pages[i + j], PAGE);
			crc = crc32c(crc, buf + i * PAGE, k * PAGE);
		}
		break;
	default:
		for (i = 0; i < npages; i++)
			memcpy(buf + i * PAGE, pages[i], PAGE);
		for (i = 0; i < npages; i += per)
			crc = crc32c(crc, buf + i * PAGE,
				     min(per, npages - i) * PAGE);
		break;
	}
	crc_sink = crc;
	return now() - t0;
}

/* -------------------------------------------------------- restore */

/* Restore @len bytes of @stream into a new device; checked against @src. */
static double run_restore(const struct ctxmig_model *m, u64 vram_size,
			  const u8 *stream, u64 len,
			  struct ctxmig_gpu *src)
{
	struct ctxmig_restore *rs = calloc(1, sizeof(*rs));
	struct ctxmig_gpu *gpu = calloc(1, sizeof(*gpu));
	u64 off, io, pfn = 0;
	const void *page;
	double t0, t;
	int ret;

	if (!rs || !gpu)
		die("allocating", -ENOMEM, NULL);
	ret = ctxmig_gpu_init(gpu, m, vram_size);
	if (ret)
		die("creating the target", ret, NULL);
	t0 = now();
	ret = ctxmig_restore_init(rs, gpu);
	for (io = 0; !ret && io < len; io += IO_BYTES) {
		u64 end = min(io + IO_BYTES, len);

		/* One write(), as ctxmig_resume_copy() takes it. */
		for (off = io; !ret && off < end; off += WRITE_CHUNK)
			ret = gu_feed_in_place(rs, stream + off,
					       min_t(u64, WRITE_CHUNK, end - off),
					       NULL);
	}
	if (!ret)
		ret = ctxmig_restore_finish(rs);
	t = now() - t0;
	if (ret)
		die("restoring", ret, ctxmig_restore_error(rs)->reason);
	ctxmig_restore_fini(rs);
	/* Every source page arrived. */
	while ((page = ctxmig_vram_next(&src->vram, &pfn, false))) {
		const void *got = ctxmig_vram_page(&gpu->vram, pfn);

		if (!got || memcmp(got, page, PAGE))
			die("checking the restored VRAM", -EIO, NULL);
		pfn++;
	}
	ctxmig_gpu_fini(gpu);
	free(gpu);
	free(rs);
	return t;
}

/*
 * Where a restore puts the bytes of a stream: a VRAM record's data at its
 * VRAM offset, page aligned as VRAM pages are; the rest (preamble, record
 * headers, other records, padding) at its own stream offset in a second
 * buffer.  Made once, before any clock runs.
 */
struct place {
	u64 src;	/* stream offset */
	u64 dst;	/* VRAM offset, or stream offset in the other buffer */
	u32 len;
	bool vram;
};

static struct place *plan_places(const u8 *stream, u64 len, u64 *count)
{
	const struct ctxmig_ir_preamble *pre = (const void *)stream;
	u64 off = le32_to_cpu(pre->preamble_len), n = 0, cap = 1024;
	struct place *pl = malloc(cap * sizeof(*pl));

	if (!pl)
		die("allocating", -ENOMEM, NULL);
	pl[n++] = (struct place){ 0, 0, off, false };
	while (off < len) {
		const struct ctxmig_ir_rec *rec = (const void *)(stream + off);
		const struct ctxmig_ir_policy *pol;
		u16 type = le16_to_cpu(rec->type);
		u32 rlen = le32_to_cpu(rec->len);
		u64 hdr = sizeof(*rec), padded = ALIGN((u64)rlen, CTXMIG_IR_ALIGN);

		if (n + 3 > cap) {
			cap *= 2;
			pl = realloc(pl, cap * sizeof(*pl));
			if (!pl)
				die("allocating", -ENOMEM, NULL);
		}
		pol = ctxmig_ir_policy_get(type);
		if (pol && (pol->flags & CTXMIG_IR_F_CONTAINER)) {
			pl[n++] = (struct place){ off, off, hdr, false };
			off += hdr;
			continue;
		}
		if (type == CTXMIG_IR_VRAM) {
			const struct ctxmig_ir_vram *v = (const void *)(rec + 1);
			u64 head = hdr + sizeof(*v);

			pl[n++] = (struct place){ off, off, head, false };
			pl[n++] = (struct place){ off + head,
						  le64_to_cpu(v->offset),
						  rlen - sizeof(*v), true };
			if (padded > rlen)
				pl[n++] = (struct place){ off + hdr + rlen,
							  off + hdr + rlen,
							  padded - rlen, false };
		} else {
			pl[n++] = (struct place){ off, off, hdr + padded, false };
		}
		off += hdr + padded;
	}
	*count = n;
	return pl;
}

/*
 * The restore's baseline: each byte of @stream copied to where the restore
 * puts it (plan_places(); @vram page aligned), and the CRC32C of them all.
 */
static double base_restore(const u8 *stream, const struct place *pl, u64 n,
			   u8 *vram, u8 *other, int way)
{
	double t0 = now();
	u32 crc = ~0U;
	u64 i, p;

	for (i = 0; i < n; i++) {
		u8 *to = (pl[i].vram ? vram : other) + pl[i].dst;
		const u8 *from = stream + pl[i].src;

		switch (way) {
		case WAY_PAGE:
			for (p = 0; p < pl[i].len; p += PAGE) {
				u32 k = min_t(u64, PAGE, pl[i].len - p);

				memcpy(to + p, from + p, k);
				crc = crc32c(crc, to + p, k);
			}
			break;
		case WAY_CHUNK:
			memcpy(to, from, pl[i].len);
			crc = crc32c(crc, to, pl[i].len);
			break;
		default:
			memcpy(to, from, pl[i].len);
			break;
		}
	}
	for (i = 0; way == WAY_WHOLE && i < n; i++)
		crc = crc32c(crc, (pl[i].vram ? vram : other) + pl[i].dst,
			     pl[i].len);
	crc_sink = crc;
	return now() - t0;
}

/*
 * An info baseline: @stream copied into @dst at its own offsets in 64 KiB
 * pieces, each byte where it was in the stream, so source and destination
 * are aligned alike, which no copy into page-aligned VRAM can be.
 */
static double base_restore_flat(const u8 *stream, u64 len, u8 *dst, int way)
{
	double t0 = now();
	u32 crc = ~0U;
	u64 off, p;

	switch (way) {
	case WAY_PAGE:
		for (off = 0; off < len; off += WRITE_CHUNK) {
			u64 n = min_t(u64, WRITE_CHUNK, len - off);

			for (p = 0; p < n; p += PAGE) {
				u64 k = min_t(u64, PAGE, n - p);

				memcpy(dst + off + p, stream + off + p, k);
				crc = crc32c(crc, dst + off + p, k);
			}
		}
		break;
	case WAY_CHUNK:
		for (off = 0; off < len; off += WRITE_CHUNK) {
			u64 n = min_t(u64, WRITE_CHUNK, len - off);

			memcpy(dst + off, stream + off, n);
			crc = crc32c(crc, dst + off, n);
		}
		break;
	default:
		for (off = 0; off < len; off += WRITE_CHUNK)
			memcpy(dst + off, stream + off,
			       min_t(u64, WRITE_CHUNK, len - off));
		for (off = 0; off < len; off += WRITE_CHUNK)
			crc = crc32c(crc, dst + off,
				     min_t(u64, WRITE_CHUNK, len - off));
		break;
	}
	crc_sink = crc;
	return now() - t0;
}

/*
 * What a restore cannot do without: the stream's bytes copied into newly
 * allocated pages, as many as the restore allocates, and their CRC.  An
 * info figure next to the restore's baseline: the gap between the two is
 * the allocation, the rest of the restore's time is its own.
 */
static double base_restore_pages(const u8 *stream, u64 len, void **pages)
{
	double t0 = now(), t;
	u32 crc = ~0U;
	u64 off, i = 0, n;

	for (off = 0; off < len; off += n, i++) {
		n = min_t(u64, PAGE, len - off);
		pages[i] = (void *)__get_free_page(GFP_KERNEL);
		if (!pages[i])
			die("allocating", -ENOMEM, NULL);
		memcpy(pages[i], stream + off, n);
		crc = crc32c(crc, pages[i], n);
	}
	t = now() - t0;
	crc_sink = crc;
	while (i--)
		free_page((unsigned long)pages[i]);
	return t;
}

/* ------------------------------------------------------------ main */

static double crc_rate(u32 (*fn)(u32, const void *, unsigned int),
		       const u8 *buf, unsigned int runs)
{
	double best = 1e30, t0;
	unsigned int r, i;
	u32 crc = 0;

	for (r = 0; r < runs; r++) {
		t0 = now();
		for (i = 0; i < 1024; i++)
			crc = fn(crc, buf, CHUNK);
		best = min(best, now() - t0);
	}
	crc_sink = crc;
	return 1024.0 * CHUNK / best / (1 << 30);
}

static void row(const char *name, u64 bytes, double secs, double base,
		int way)
{
	printf("%-12s %12llu %9.3f %8.2f %9.3f %8.2f %10.2f  %s\n", name,
	       (unsigned long long)bytes, secs, bytes / secs / (1 << 30), base,
	       bytes / base / (1 << 30), base / secs, way_names[way]);
}

int main(void)
{
	u64 bytes = bench_env_u64("BENCH_BYTES", DEFAULT_BYTES);
	unsigned int runs = bench_env_u64("BENCH_RUNS", DEFAULT_RUNS), r;
	double t, save_s = 1e30, restore_s = 1e30;
	double bsave[WAYS], brestore[WAYS], bflat[WAYS], bpages = 1e30;
	void **fresh;
	u64 vram_size, npages, i, cap, len = 0, pfn, seed = 1;
	struct ctxmig_gpu *src = calloc(1, sizeof(*src));
	const struct ctxmig_model *dm = model(DST_MODEL);
	const void **pages;
	u8 *buf, *dst, *vdst, *page;
	struct place *places = NULL;
	int bs = 0, br = 0, bf = 0, w;
	u64 nplaces = 0;

	/*
	 * Freed VRAM pages stay in the process for the next run, as freed
	 * pages stay in the kernel's free lists: a restore then allocates
	 * without page faults, as the driver's does.  (-1: never trim.)
	 */
	mallopt(M_TRIM_THRESHOLD, -1);
	bytes = max_t(u64, bytes - bytes % CHUNK, CHUNK);
	npages = bytes / PAGE;
	/* Twice the data: the guest's part (below the reserved area) holds it. */
	vram_size = 2 * bytes;
	if (!src || ctxmig_gpu_init(src, model(SRC_MODEL), vram_size))
		die("creating the source", -ENOMEM, NULL);
	page = malloc(PAGE);
	pages = malloc(npages * sizeof(*pages));
	if (!page || !pages)
		die("allocating", -ENOMEM, NULL);
	for (i = 0; i < npages; i++) {
		u64 *q = (u64 *)page, k;

		/* xorshift64*: no page of it is zero, so nothing is elided. */
		for (k = 0; k < PAGE / 8; k++) {
			seed ^= seed >> 12;
			seed ^= seed << 25;
			seed ^= seed >> 27;
			q[k] = seed * 0x2545f4914f6cdd1dULL;
		}
		if (ctxmig_vram_write(&src->vram, i * PAGE, page, PAGE))
			die("writing VRAM", -ENOMEM, NULL);
	}
	for (i = 0, pfn = 0; i < npages; i++, pfn++)
		pages[i] = ctxmig_vram_next(&src->vram, &pfn, false);

	cap = bytes + bytes / 64 + (1 << 20);
	fresh = malloc((cap / PAGE + 1) * sizeof(*fresh));
	if (!fresh)
		die("allocating", -ENOMEM, NULL);
	buf = touched(cap);
	dst = touched(cap);
	vdst = aligned_alloc(PAGE, vram_size);
	if (!vdst)
		die("allocating", -ENOMEM, NULL);
	memset(vdst, 0x5a, vram_size);

	for (w = 0; w < WAYS; w++) {
		bsave[w] = 1e30;
		brestore[w] = 1e30;
		bflat[w] = 1e30;
	}
	for (r = 0; r < runs; r++) {
		len = run_save(src, buf, cap, &t);
		save_s = min(save_s, t);
		t = run_restore(dm, vram_size, buf, len, src);
		restore_s = min(restore_s, t);
		if (!places)
			places = plan_places(buf, len, &nplaces);
		for (w = 0; w < WAYS; w++) {
			bsave[w] = min(bsave[w], base_save(pages, npages, dst, w));
			brestore[w] = min(brestore[w],
					  base_restore(buf, places, nplaces,
						       vdst, dst, w));
			bflat[w] = min(bflat[w],
				       base_restore_flat(buf, len, dst, w));
		}
		bpages = min(bpages, base_restore_pages(buf, len, fresh));
	}
	for (w = 1; w < WAYS; w++) {
		if (bsave[w] < bsave[bs])
			bs = w;
		if (brestore[w] < brestore[br])
			br = w;
		if (bflat[w] < bflat[bf])
			bf = w;
	}

	printf("ctxmig data_fd paths on the host: %llu MiB of random VRAM, %s -> %s, best of %u runs\n",
	       (unsigned long long)(bytes >> 20), SRC_MODEL, DST_MODEL, runs);
	printf("crc32c three streams %.2f GiB/s, one stream %.2f GiB/s (64 KiB buffers; three streams as crc32c-intel, which the shim does)\n",
	       crc_rate(crc32c, buf, runs), crc_rate(crc32c_1way, buf, runs));
	printf("baseline: memcpy() + crc32c() of the same bytes, the fastest of:");
	for (w = 0; w < WAYS; w++)
		printf(" %s save %.3f s restore %.3f s%s", way_names[w],
		       bsave[w], brestore[w], w + 1 < WAYS ? ";" : "\n");
	printf("%-12s %12s %9s %8s %9s %8s %10s  %s\n", "path", "bytes",
	       "seconds", "GiB/s", "base s", "GiB/s", "vs base", "baseline");
	row("path-save", len, save_s, bsave[bs], bs);
	row("path-restore", len, restore_s, brestore[br], br);
	printf("%-12s %12llu %9.3f %8.2f %9.3f %8.2f %10.2f  %s (%s)\n",
	       "restore-flat", (unsigned long long)len, restore_s,
	       len / restore_s / (1 << 30), bflat[bf],
	       len / bflat[bf] / (1 << 30), bflat[bf] / restore_s,
	       "memcpy to the stream's own offsets", way_names[bf]);
	printf("%-12s %12llu %9.3f %8.2f %9.3f %8.2f %10.2f  %s\n",
	       "restore-new", (unsigned long long)len, restore_s,
	       len / restore_s / (1 << 30), bpages, len / bpages / (1 << 30),
	       bpages / restore_s, "memcpy into new pages");

	ctxmig_gpu_fini(src);
	free(src);
	free(pages);
	free(page);
	free(buf);
	free(dst);
	free(vdst);
	free(places);
	free(fresh);
	return 0;
}
