// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig page tables: translate, walk and build any model's multi-level
 * page tables from its level table (&struct ctxmig_pt_level) and its entry
 * codec (&ctxmig_model.pte_decode, &ctxmig_model.pte_encode).
 *
 * Tables always live in VRAM and are little-endian.  A model with a dual
 * level (NVIDIA's PD0: one entry points at a big-page and a small-page
 * table) has nsubs == 2 there.  For a VA under both tables the big-page
 * entry decides, as the NVIDIA MMU reads them: a valid big page is the
 * translation; an invalid big entry marked so (CTXMIG_PTE_STOP: nouveau's
 * PRIV "invalid" LPTE, vmmgp100.c gp100_vmm_lpt_invalid(); UVM's
 * NO_VALID_4KB_PAGE, uvm_hopper_mmu.c unmapped_pte_hopper(); sparse)
 * means no translation, the small-page entries ignored; an all-zero big
 * entry lets the small-page entry decide (nouveau vmm.c
 * nvkm_vmm_ref_hwpt(), UVM uvm_mmu.h on unmapped and invalid big PTEs).
 * Walks, translations and builds follow that.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "ctxmig_gpu.h"
#include "ctxmig_vram.h"

/* Every table gets a whole page, whatever its size: simple and aligned. */
#define PT_TABLE_ALLOC	CTXMIG_VRAM_PAGE_SIZE

static u32 table_bytes(const struct ctxmig_pt_level *l)
{
	return (u32)l->entry_size << l->bits;
}

static int read_entry(struct ctxmig_gpu *gpu, u64 table, u32 level, u64 idx,
		      u64 *raw)
{
	const struct ctxmig_pt_level *l = &gpu->model->levels[level];
	u64 off = table + idx * l->entry_size;
	__le64 le[CTXMIG_PT_MAX_SUBS];
	int ret;

	if (!ctxmig_vram_range_ok(&gpu->vram, off, l->entry_size))
		return -EFAULT;
	ret = ctxmig_vram_read(&gpu->vram, off, le, l->entry_size);
	if (ret)
		return ret;
	raw[0] = le64_to_cpu(le[0]);
	raw[1] = l->entry_size > 8 ? le64_to_cpu(le[1]) : 0;
	return 0;
}

static int write_entry(struct ctxmig_gpu *gpu, u64 table, u32 level, u64 idx,
		       const u64 *raw)
{
	const struct ctxmig_pt_level *l = &gpu->model->levels[level];
	u64 off = table + idx * l->entry_size;
	__le64 le[CTXMIG_PT_MAX_SUBS] = {
		cpu_to_le64(raw[0]), cpu_to_le64(raw[1]),
	};

	if (!ctxmig_vram_range_ok(&gpu->vram, off, l->entry_size))
		return -EFAULT;
	return ctxmig_vram_write(&gpu->vram, off, le, l->entry_size);
}

/*
 * Translate @va from @table at @level: 0, -EFAULT where nothing maps it,
 * or -ENOENT where a CTXMIG_PTE_STOP entry says the smaller pages under it
 * are not to be looked at.
 */
static int xlate_level(struct ctxmig_gpu *gpu, u64 table, u32 level, u64 va,
		       struct ctxmig_xlate *x)
{
	const struct ctxmig_model *m = gpu->model;
	const struct ctxmig_pt_level *l = &m->levels[level];
	u64 raw[CTXMIG_PT_MAX_SUBS];
	u32 sub;
	int ret;

	ret = read_entry(gpu, table, level,
			 (va >> l->shift) & (BIT_ULL(l->bits) - 1), raw);
	if (ret)
		return ret;
	/* The big-page sub-entry first: where it maps or stops, it decides. */
	for (sub = 0; sub < l->nsubs; sub++) {
		struct ctxmig_pte pte;

		m->pte_decode(gpu, level, sub, raw, &pte);
		if (pte.kind == CTXMIG_PTE_LEAF && l->leaf) {
			x->addr = pte.addr & ~(BIT_ULL(l->shift) - 1);
			x->flags = pte.flags;
			x->cache = pte.cache;
			x->page_shift = l->shift;
			return 0;
		}
		if (pte.kind == CTXMIG_PTE_STOP)
			return -ENOENT;
		if (pte.kind == CTXMIG_PTE_TABLE && l->child[sub] >= 0) {
			ret = xlate_level(gpu, pte.addr, l->child[sub], va, x);
			if (ret == -ENOENT)
				return -EFAULT;	/* the small pages ignored */
			if (ret != -EFAULT)
				return ret;
		}
	}
	return -EFAULT;
}

/**
 * ctxmig_pt_translate() - translate a GPU VA through the device's tables
 * @gpu: device.
 * @va: GPU virtual address.
 * @x: the page's backing address and attributes.
 *
 * Return: 0; -ERANGE beyond the VA space; -EFAULT when not mapped (paging
 * off, an invalid entry, a table outside VRAM).
 */
int ctxmig_pt_translate(struct ctxmig_gpu *gpu, u64 va, struct ctxmig_xlate *x)
{
	u64 root;
	int ret;

	/* The guest's VA space, and ctxmig's window at the very top. */
	if (va >> gpu->va_bits && (va < gpu->window_va ||
				   va >> gpu->model->va_bits))
		return -ERANGE;
	root = gpu->model->pt_root(gpu);
	if (root == U64_MAX)
		return -EFAULT;
	ret = xlate_level(gpu, root, 0, va, x);
	return ret == -ENOENT ? -EFAULT : ret;
}

/*
 * Entries a walk may decode per page of VRAM present.  Tables that no two
 * entries share fill at most the pages present, at most 512 entries a
 * page, and a table in a page never written costs one; so twice that
 * leaves room for some sharing and refuses only a guest whose entries
 * point at the same tables over and over.
 */
#define PT_WALK_PER_PAGE	1024

/* A page-table walk: the tables being read and the run being gathered. */
struct pt_walk {
	struct ctxmig_gpu *gpu;
	const struct ctxmig_pt_walk_ops *ops;
	void *priv;
	__le64 *tables[CTXMIG_PT_MAX_LEVELS];
	struct ctxmig_mapping run;
	u64 budget;
};

/* Charge the decoding of @n entries: -ELOOP once the budget is spent. */
static int walk_charge(struct pt_walk *w, u64 n)
{
	if (n > w->budget)
		return -ELOOP;
	w->budget -= n;
	w->gpu->work += n;
	cond_resched();
	return 0;
}

/*
 * A table in a page never written reads as zero: where a zero entry is
 * invalid, as in every model, it holds nothing to decode.
 */
static bool walk_empty(struct pt_walk *w, u64 table, u32 bytes, u32 level)
{
	const struct ctxmig_pt_level *l = &w->gpu->model->levels[level];
	u64 raw[CTXMIG_PT_MAX_SUBS] = {};
	u32 sub;

	if (ctxmig_vram_page(&w->gpu->vram, table >> CTXMIG_VRAM_PAGE_SHIFT) ||
	    ctxmig_vram_page(&w->gpu->vram,
			     (table + bytes - 1) >> CTXMIG_VRAM_PAGE_SHIFT))
		return false;
	for (sub = 0; sub < l->nsubs; sub++) {
		struct ctxmig_pte pte;

		w->gpu->model->pte_decode(w->gpu, level, sub, raw, &pte);
		if (pte.kind != CTXMIG_PTE_INVALID)
			return false;
	}
	return true;
}

static int walk_flush(struct pt_walk *w)
{
	int ret = 0;

	if (w->run.size && w->ops->mapping)
		ret = w->ops->mapping(w->priv, &w->run);
	w->run.size = 0;
	return ret;
}

static int walk_leaf(struct pt_walk *w, u64 va, u32 shift,
		     const struct ctxmig_pte *pte)
{
	struct ctxmig_mapping *run = &w->run;
	u64 size = BIT_ULL(shift);
	u64 addr = pte->addr & ~(size - 1);
	int ret;

	/* The window is ctxmig's; beyond the guest's width is unreachable. */
	if (va >> w->gpu->va_bits)
		return 0;
	if (run->size && run->va + run->size == va &&
	    run->addr + run->size == addr && run->flags == pte->flags &&
	    run->cache == pte->cache && run->page_shift == shift) {
		run->size += size;
		return 0;
	}
	ret = walk_flush(w);
	if (ret)
		return ret;
	run->va = va;
	run->size = size;
	run->addr = addr;
	run->flags = pte->flags;
	run->cache = pte->cache;
	run->page_shift = shift;
	return 0;
}

static int walk_table(struct pt_walk *w, u64 table, u32 level, u64 va_base);

/*
 * Both halves of a dual entry are tables: per big page, the big entry's
 * page, nothing (CTXMIG_PTE_STOP), or the small pages under it; the runs
 * stay in VA order.  Only what the MMU would translate is reported.
 */
static int walk_dual(struct pt_walk *w, u32 level, u64 va_base,
		     const struct ctxmig_pte *big, const struct ctxmig_pte *small)
{
	const struct ctxmig_model *m = w->gpu->model;
	const struct ctxmig_pt_level *l = &m->levels[level];
	const struct ctxmig_pt_level *lb = &m->levels[l->child[0]];
	const struct ctxmig_pt_level *ls = &m->levels[l->child[1]];
	u64 nsmall = BIT_ULL(lb->shift - ls->shift);
	u64 i, j, raw[CTXMIG_PT_MAX_SUBS];
	int ret;

	if (w->ops->table) {
		ret = w->ops->table(w->priv, big->addr, table_bytes(lb));
		ret = ret ?: w->ops->table(w->priv, small->addr,
					   table_bytes(ls));
		if (ret)
			return ret;
	}
	ret = walk_charge(w, BIT_ULL(lb->bits) * (1 + nsmall));
	if (ret)
		return ret;
	for (i = 0; i < BIT_ULL(lb->bits); i++) {
		struct ctxmig_pte bp;

		ret = read_entry(w->gpu, big->addr, l->child[0], i, raw);
		if (ret)
			return ret;
		m->pte_decode(w->gpu, l->child[0], 0, raw, &bp);
		if (bp.kind == CTXMIG_PTE_LEAF) {
			ret = walk_leaf(w, va_base + (i << lb->shift),
					lb->shift, &bp);
			if (ret)
				return ret;
			continue;
		}
		if (bp.kind == CTXMIG_PTE_STOP)
			continue;
		for (j = 0; j < nsmall; j++) {
			u64 k = i * nsmall + j;
			struct ctxmig_pte sp;

			ret = read_entry(w->gpu, small->addr, l->child[1], k,
					 raw);
			if (ret)
				return ret;
			m->pte_decode(w->gpu, l->child[1], 0, raw, &sp);
			if (sp.kind != CTXMIG_PTE_LEAF)
				continue;
			ret = walk_leaf(w, va_base + (k << ls->shift),
					ls->shift, &sp);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int walk_table(struct pt_walk *w, u64 table, u32 level, u64 va_base)
{
	const struct ctxmig_model *m = w->gpu->model;
	const struct ctxmig_pt_level *l = &m->levels[level];
	u32 bytes = table_bytes(l);
	__le64 *raw = w->tables[level];
	u64 i;
	int ret;

	if (!ctxmig_vram_range_ok(&w->gpu->vram, table, bytes))
		return -EFAULT;
	if (w->ops->table) {
		ret = w->ops->table(w->priv, table, bytes);
		if (ret)
			return ret;
	}
	if (walk_empty(w, table, bytes, level))
		return walk_charge(w, 1);
	ret = walk_charge(w, BIT_ULL(l->bits));
	ret = ret ?: ctxmig_vram_read(&w->gpu->vram, table, raw, bytes);
	if (ret)
		return ret;

	for (i = 0; i < BIT_ULL(l->bits); i++) {
		u64 va = va_base + (i << l->shift);
		struct ctxmig_pte pte[CTXMIG_PT_MAX_SUBS];
		u64 e[CTXMIG_PT_MAX_SUBS];
		u32 sub, ntables = 0;

		e[0] = le64_to_cpu(raw[i * (l->entry_size / 8)]);
		e[1] = l->entry_size > 8 ? le64_to_cpu(raw[i * 2 + 1]) : 0;
		for (sub = 0; sub < l->nsubs; sub++) {
			m->pte_decode(w->gpu, level, sub, e, &pte[sub]);
			if (pte[sub].kind == CTXMIG_PTE_TABLE &&
			    l->child[sub] >= 0)
				ntables++;
		}
		if (l->nsubs == 2 && ntables == 2) {
			ret = walk_dual(w, level, va, &pte[0], &pte[1]);
			if (ret)
				return ret;
			continue;
		}
		/* Small before big: the lower VAs come first either way. */
		for (sub = l->nsubs; sub-- > 0;) {
			if (pte[sub].kind == CTXMIG_PTE_LEAF && l->leaf)
				ret = walk_leaf(w, va, l->shift, &pte[sub]);
			else if (pte[sub].kind == CTXMIG_PTE_TABLE &&
				 l->child[sub] >= 0)
				ret = walk_table(w, pte[sub].addr,
						 l->child[sub], va);
			else
				continue;
			if (ret)
				return ret;
			break;
		}
	}
	return 0;
}

/**
 * ctxmig_pt_walk() - report every mapping and every table of the device
 * @gpu: device.
 * @ops: callbacks.
 * @priv: passed to @ops.
 *
 * Mappings come in ascending VA order, adjacent pages with equal
 * attributes and contiguous backing merged into one run; translations in
 * the reserved window are left out.  A device with paging off has none.
 *
 * The guest writes the tables, and may point many entries at one table,
 * and that table's entries at another, so that a walk would decode
 * billions of entries from a few pages.  A walk decodes at most
 * PT_WALK_PER_PAGE entries per page of VRAM present (twice what those
 * pages can hold) and yields as it goes.
 *
 * Context: may sleep.
 * Return: 0, -ENOMEM, -EFAULT for a table outside VRAM, -ELOOP when the
 * tables hold more entries than that (tables shared by many entries), or
 * what a callback returned.
 */
int ctxmig_pt_walk(struct ctxmig_gpu *gpu, const struct ctxmig_pt_walk_ops *ops,
		   void *priv)
{
	const struct ctxmig_model *m = gpu->model;
	struct pt_walk w = {
		.gpu = gpu, .ops = ops, .priv = priv,
		.budget = PT_WALK_PER_PAGE * (gpu->vram.present + 1),
	};
	u64 root = m->pt_root(gpu);
	unsigned int i;
	int ret = -ENOMEM;

	if (root == U64_MAX)
		return 0;
	for (i = 0; i < m->nlevels; i++) {
		w.tables[i] = kmalloc(table_bytes(&m->levels[i]),
				      GFP_KERNEL_ACCOUNT);
		if (!w.tables[i])
			goto out;
	}
	ret = walk_table(&w, root, 0, 0);
	if (!ret)
		ret = walk_flush(&w);
out:
	for (i = 0; i < m->nlevels; i++)
		kfree(w.tables[i]);
	return ret;
}

static bool reaches(const struct ctxmig_model *m, int level, u32 target)
{
	u32 sub;

	if (level < 0)
		return false;
	if (level == (int)target)
		return true;
	for (sub = 0; sub < m->levels[level].nsubs; sub++)
		if (reaches(m, m->levels[level].child[sub], target))
			return true;
	return false;
}

/* The sub-entry of @level whose subtree holds leaves of level @target. */
static int path_sub(const struct ctxmig_model *m, u32 level, u32 target)
{
	const struct ctxmig_pt_level *l = &m->levels[level];
	int sub;

	for (sub = l->nsubs - 1; sub >= 0; sub--)
		if (reaches(m, l->child[sub], target))
			return sub;
	return -1;
}

/*
 * Small pages go under the dual entry @raw at @level, for @len bytes from
 * @va: the big-page entries there must let the MMU look at them.  A big
 * page would hide them (-EEXIST); a "no small pages here" mark is
 * cleared, as nouveau turns an invalid LPTE into an unmapped one when
 * SPTEs get mapped under it (vmm.c nvkm_vmm_ref_sptes()).  The range lies
 * in one dual entry's span.
 */
static int expose_small(struct ctxmig_gpu *gpu, u32 level, const u64 *raw,
			u64 va, u64 len)
{
	const struct ctxmig_model *m = gpu->model;
	u32 child = m->levels[level].child[0];
	const struct ctxmig_pt_level *lb = &m->levels[child];
	u64 first = (va >> lb->shift) & (BIT_ULL(lb->bits) - 1);
	u64 last = ((va + len - 1) >> lb->shift) & (BIT_ULL(lb->bits) - 1);
	struct ctxmig_pte big, none = { .kind = CTXMIG_PTE_INVALID };
	u64 e[CTXMIG_PT_MAX_SUBS], table, idx;
	int ret;

	m->pte_decode(gpu, level, 0, raw, &big);
	if (big.kind != CTXMIG_PTE_TABLE)
		return 0;
	table = big.addr;
	for (idx = first; idx <= last; idx++) {
		ret = read_entry(gpu, table, child, idx, e);
		if (ret)
			return ret;
		m->pte_decode(gpu, child, 0, e, &big);
		if (big.kind == CTXMIG_PTE_LEAF)
			return -EEXIST;
		if (big.kind != CTXMIG_PTE_STOP)
			continue;
		ret = m->pte_encode(gpu, child, 0, &none, e);
		ret = ret ?: write_entry(gpu, table, child, idx, e);
		if (ret)
			return ret;
	}
	gpu->work += last - first + 1;
	return 0;
}

/*
 * Write @n leaves of @level from entry @idx of @table on, the first one
 * @leaf, the next ones each a page further: one read and one write of
 * the entries (a table is at most a page, the size of @gpu->bounce).  A
 * leaf goes where there is none, or where a "no small pages here" mark
 * is (a big page replaces it).
 */
static int map_leaves(struct ctxmig_gpu *gpu, u64 table, u32 level, u64 idx,
		      u32 n, const struct ctxmig_pte *leaf)
{
	const struct ctxmig_model *m = gpu->model;
	const struct ctxmig_pt_level *l = &m->levels[level];
	u32 words = l->entry_size / 8, bytes = n * l->entry_size, i;
	u64 off = table + idx * l->entry_size;
	__le64 *e = (__le64 *)gpu->bounce;
	struct ctxmig_pte pte = *leaf;
	int ret;

	if (!ctxmig_vram_range_ok(&gpu->vram, off, bytes))
		return -EFAULT;
	ret = ctxmig_vram_read(&gpu->vram, off, e, bytes);
	for (i = 0; !ret && i < n; i++) {
		u64 raw[CTXMIG_PT_MAX_SUBS] = {
			le64_to_cpu(e[i * words]),
			words > 1 ? le64_to_cpu(e[i * words + 1]) : 0,
		};
		struct ctxmig_pte cur;

		m->pte_decode(gpu, level, 0, raw, &cur);
		if (cur.kind != CTXMIG_PTE_INVALID &&
		    cur.kind != CTXMIG_PTE_STOP)
			return -EEXIST;
		ret = m->pte_encode(gpu, level, 0, &pte, raw);
		e[i * words] = cpu_to_le64(raw[0]);
		if (words > 1)
			e[i * words + 1] = cpu_to_le64(raw[1]);
		pte.addr += BIT_ULL(l->shift);
	}
	gpu->work += n;
	return ret ?: ctxmig_vram_write(&gpu->vram, off, e, bytes);
}

/* Map @n pages of level @target from @va on, all in one table. */
static int map_pages(struct ctxmig_gpu *gpu, u64 root, u64 va,
		     const struct ctxmig_pte *leaf, u32 target, u32 n,
		     ctxmig_pt_alloc_t alloc, void *alloc_priv)
{
	const struct ctxmig_model *m = gpu->model;
	u64 table = root, raw[CTXMIG_PT_MAX_SUBS];
	u32 level = 0;
	int ret;

	for (;;) {
		const struct ctxmig_pt_level *l = &m->levels[level];
		u64 idx = (va >> l->shift) & (BIT_ULL(l->bits) - 1);
		struct ctxmig_pte pte;
		int sub = level == target ? 0 : path_sub(m, level, target);

		if (sub < 0)
			return -EINVAL;
		if (level == target)
			return map_leaves(gpu, table, level, idx, n, leaf);
		ret = read_entry(gpu, table, level, idx, raw);
		if (ret)
			return ret;
		m->pte_decode(gpu, level, sub, raw, &pte);
		if (pte.kind == CTXMIG_PTE_LEAF)
			return -EEXIST;
		if (l->nsubs == 2 && sub == 1) {
			ret = expose_small(gpu, level, raw, va,
					   (u64)n << m->levels[target].shift);
			if (ret)
				return ret;
		}
		if (pte.kind == CTXMIG_PTE_INVALID) {
			u64 t = alloc(alloc_priv, PT_TABLE_ALLOC);

			if (t == U64_MAX)
				return -ENOSPC;
			pte.kind = CTXMIG_PTE_TABLE;
			pte.addr = t;
			pte.flags = 0;
			pte.cache = 0;
			ret = m->pte_encode(gpu, level, sub, &pte, raw);
			ret = ret ?: write_entry(gpu, table, level, idx, raw);
			if (ret)
				return ret;
		}
		table = pte.addr;
		level = l->child[sub];
	}
}

/* The largest page @map may use: its own size if the model has it. */
static u8 map_max_shift(const struct ctxmig_model *m,
			const struct ctxmig_mapping *map)
{
	int i;

	for (i = 0; i < m->nlevels; i++)
		if (m->levels[i].leaf && m->levels[i].shift == map->page_shift)
			return map->page_shift;
	return CTXMIG_PT_LARGEST_PAGES;
}

/* The leaf level of the largest page that fits at @va -> @addr, or -1. */
static int leaf_level(const struct ctxmig_model *m, u64 va, u64 addr,
		      u64 left, u8 max_shift)
{
	int level, best = -1;

	for (level = 0; level < m->nlevels; level++) {
		const struct ctxmig_pt_level *l = &m->levels[level];
		u64 size = BIT_ULL(l->shift);

		if (!l->leaf || l->shift > max_shift ||
		    !IS_ALIGNED(va | addr, size) || left < size)
			continue;
		if (best < 0 || l->shift > m->levels[best].shift)
			best = level;
	}
	return best;
}

/*
 * How many pages of @level's size, from @va on, come before a larger page
 * would fit: where VA and address are aligned alike for a larger size
 * and enough is left, at that size's next boundary; else all that is left.
 */
static u64 leaf_run(const struct ctxmig_model *m, int level, u64 va, u64 addr,
		    u64 left, u8 max_shift)
{
	u32 shift = m->levels[level].shift;
	u64 n = left >> shift;
	int i;

	for (i = 0; i < m->nlevels; i++) {
		const struct ctxmig_pt_level *l = &m->levels[i];
		u64 size = BIT_ULL(l->shift), to = ALIGN(va, size) - va;

		if (!l->leaf || l->shift <= shift || l->shift > max_shift ||
		    ((va ^ addr) & (size - 1)) || !to || to >= left ||
		    left - to < size)
			continue;
		n = min(n, to >> shift);
	}
	return n;
}

/**
 * ctxmig_pt_map() - map a range in the device's own page-table format
 * @gpu: device.
 * @map: the range.  Each step uses the largest page the model has that
 *	VA, address and remaining size allow, and no larger than
 *	@map->page_shift if the model has pages of that size (so that a
 *	model restoring its own state rebuilds the same tables);
 *	CTXMIG_PT_LARGEST_PAGES sets no limit.
 * @alloc: where new tables come from.
 * @alloc_priv: passed to @alloc.
 *
 * Creates the root table if paging is off.  The leaves that go in one
 * table are written together, so that building costs the tables it
 * fills, a few entries each, not a walk from the root per page.
 *
 * Context: may sleep (long builds yield).
 * Return: 0; -ERANGE outside the VA space; -EEXIST if part of the range is
 * already mapped; -ENOSPC when @alloc runs out; -EOPNOTSUPP for attributes
 * the model cannot express; -EINVAL for a misaligned range.
 */
int ctxmig_pt_map(struct ctxmig_gpu *gpu, const struct ctxmig_mapping *map,
		  ctxmig_pt_alloc_t alloc, void *alloc_priv)
{
	const struct ctxmig_model *m = gpu->model;
	u64 va = map->va, addr = map->addr, left = map->size;
	u64 root = m->pt_root(gpu);
	u8 max_shift = map_max_shift(m, map);
	int ret;

	if (!IS_ALIGNED(va | addr | left, CTXMIG_VRAM_PAGE_SIZE) || !left)
		return -EINVAL;
	if (va + left < va || (va + left - 1) >> m->va_bits)
		return -ERANGE;
	if (root == U64_MAX) {
		root = alloc(alloc_priv, PT_TABLE_ALLOC);
		if (root == U64_MAX)
			return -ENOSPC;
		m->set_pt_root(gpu, root);
	}
	while (left) {
		struct ctxmig_pte leaf = {
			.kind = CTXMIG_PTE_LEAF,
			.addr = addr,
			.flags = map->flags,
			.cache = map->cache,
		};
		int best = leaf_level(m, va, addr, left, max_shift);
		const struct ctxmig_pt_level *l;
		u64 n, idx;

		if (best < 0)
			return -EINVAL;
		l = &m->levels[best];
		idx = (va >> l->shift) & (BIT_ULL(l->bits) - 1);
		n = min(leaf_run(m, best, va, addr, left, max_shift),
			BIT_ULL(l->bits) - idx);
		ret = map_pages(gpu, root, va, &leaf, best, n, alloc,
				alloc_priv);
		if (ret)
			return ret;
		va += n << l->shift;
		addr += n << l->shift;
		left -= n << l->shift;
		cond_resched();
	}
	return 0;
}

/**
 * ctxmig_pt_plan_init() - start counting what a page-table build takes
 * @plan: plan to set up.
 * @root: the build creates the root table (paging is off).
 */
void ctxmig_pt_plan_init(struct ctxmig_pt_plan *plan, bool root)
{
	memset(plan->last, 0xff, sizeof(plan->last));
	plan->tables = root;
}

/* Count the tables pages of @level at [@va, @va + @bytes) take. */
static int plan_range(const struct ctxmig_model *m,
		      struct ctxmig_pt_plan *plan, u32 target, u64 va,
		      u64 bytes)
{
	u32 level = 0;

	while (level != target) {
		const struct ctxmig_pt_level *l = &m->levels[level];
		int sub = path_sub(m, level, target);
		u64 first, last;
		u32 child;

		if (sub < 0)
			return -EINVAL;
		child = l->child[sub];
		first = va >> l->shift;
		last = (va + bytes - 1) >> l->shift;
		plan->tables += last - first + (plan->last[child] != first);
		plan->last[child] = last;
		level = child;
	}
	return 0;
}

/**
 * ctxmig_pt_plan_add() - count the table pages one mapping adds to a build
 * @m: the model that builds.
 * @plan: the count so far, of mappings in ascending VA order.
 * @map: the next mapping, as it will be given to ctxmig_pt_map().
 *
 * Takes the steps ctxmig_pt_map() takes, a run of equal pages at a time,
 * and counts the tables on their paths that no earlier mapping needed:
 * a build into empty tables takes exactly @plan->tables pages, and the
 * count costs a few steps per mapping, whatever its size.
 *
 * Return: 0, or -EINVAL for a range ctxmig_pt_map() refuses as misaligned.
 */
int ctxmig_pt_plan_add(const struct ctxmig_model *m,
		       struct ctxmig_pt_plan *plan,
		       const struct ctxmig_mapping *map)
{
	u64 va = map->va, addr = map->addr, left = map->size;
	u8 max_shift = map_max_shift(m, map);
	int ret;

	if (!IS_ALIGNED(va | addr | left, CTXMIG_VRAM_PAGE_SIZE) || !left ||
	    va + left < va)
		return -EINVAL;
	while (left) {
		int best = leaf_level(m, va, addr, left, max_shift);
		u64 bytes;

		if (best < 0)
			return -EINVAL;
		bytes = leaf_run(m, best, va, addr, left, max_shift) <<
			m->levels[best].shift;
		ret = plan_range(m, plan, best, va, bytes);
		if (ret)
			return ret;
		va += bytes;
		addr += bytes;
		left -= bytes;
	}
	return 0;
}
