// SPDX-License-Identifier: GPL-2.0
/*
 * Host implementation of the XArray subset in include/linux/xarray.h: a
 * radix tree of 64-slot nodes that grows in height as larger indices are
 * stored.  Each node keeps a bitmap of occupied slots and, per mark, a
 * bitmap of slots whose subtree holds a marked entry, so that ordered and
 * marked iteration skip empty subtrees as the kernel's does.
 */
#include <linux/errno.h>
#include <linux/xarray.h>

#define XA_SHIFT	6
#define XA_SLOTS	(1U << XA_SHIFT)
#define XA_MASK		(XA_SLOTS - 1)
#define XA_NMARKS	(XA_MARK_MAX + 1)
#define XA_LEVELS	11	/* 64 bits of index in 6-bit levels */

struct xa_node {
	void *slots[XA_SLOTS];
	u64 present;
	u64 marks[XA_NMARKS];
};

static unsigned int slot_of(unsigned long index, unsigned int level)
{
	unsigned int shift = level * XA_SHIFT;

	return shift >= 64 ? 0 : (index >> shift) & XA_MASK;
}

/* Largest index a tree of @height levels holds. */
static unsigned long xa_max(unsigned int height)
{
	unsigned int bits = height * XA_SHIFT;

	return bits >= 64 ? ULONG_MAX : (1UL << bits) - 1;
}

/* Fill @path[level] with the nodes on @index's path; false if absent. */
static bool xa_path(struct xarray *xa, unsigned long index,
		    struct xa_node **path)
{
	struct xa_node *node = xa->root;
	int level;

	if (!node || index > xa_max(xa->height))
		return false;
	for (level = xa->height - 1; level >= 0; level--) {
		path[level] = node;
		if (level)
			node = node->slots[slot_of(index, level)];
		if (!node)
			return false;
	}
	return true;
}

void *xa_load(struct xarray *xa, unsigned long index)
{
	struct xa_node *path[XA_LEVELS];

	if (!xa_path(xa, index, path))
		return NULL;
	return path[0]->slots[index & XA_MASK];
}

/* Recompute the summary bits along @index's path, freeing empty nodes. */
static void xa_fixup(struct xarray *xa, struct xa_node **path,
		     unsigned long index)
{
	unsigned int level, m;

	for (level = 1; level < xa->height; level++) {
		struct xa_node *parent = path[level];
		struct xa_node *child = path[level - 1];
		unsigned int slot = slot_of(index, level);
		u64 bit = 1ULL << slot;

		if (!child->present) {
			free(child);
			parent->slots[slot] = NULL;
			parent->present &= ~bit;
			for (m = 0; m < XA_NMARKS; m++)
				parent->marks[m] &= ~bit;
			continue;
		}
		parent->present |= bit;
		for (m = 0; m < XA_NMARKS; m++) {
			if (child->marks[m])
				parent->marks[m] |= bit;
			else
				parent->marks[m] &= ~bit;
		}
	}
	if (xa->root && !xa->root->present) {
		free(xa->root);
		xa->root = NULL;
		xa->height = 0;
	}
}

static void *xa_clear(struct xarray *xa, unsigned long index)
{
	struct xa_node *path[XA_LEVELS];
	unsigned int slot = index & XA_MASK, m;
	void *old;

	if (!xa_path(xa, index, path))
		return NULL;
	old = path[0]->slots[slot];
	path[0]->slots[slot] = NULL;
	path[0]->present &= ~(1ULL << slot);
	for (m = 0; m < XA_NMARKS; m++)
		path[0]->marks[m] &= ~(1ULL << slot);
	xa_fixup(xa, path, index);
	return old;
}

void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	struct xa_node *path[XA_LEVELS];
	struct xa_node *node;
	unsigned int slot, m;
	int level;
	void *old;

	if (!entry)
		return xa_clear(xa, index);
	while (!xa->root || index > xa_max(xa->height)) {
		node = calloc(1, sizeof(*node));
		if (!node)
			return XA_ERR_NOMEM;
		if (xa->root) {
			node->slots[0] = xa->root;
			node->present = 1;
			for (m = 0; m < XA_NMARKS; m++)
				node->marks[m] = !!xa->root->marks[m];
		}
		xa->root = node;
		xa->height++;
	}
	node = xa->root;
	for (level = xa->height - 1; level > 0; level--) {
		path[level] = node;
		slot = slot_of(index, level);
		if (!node->slots[slot]) {
			node->slots[slot] = calloc(1, sizeof(*node));
			if (!node->slots[slot])
				return XA_ERR_NOMEM;
			node->present |= 1ULL << slot;
		}
		node = node->slots[slot];
	}
	path[0] = node;
	slot = index & XA_MASK;
	old = node->slots[slot];
	node->slots[slot] = entry;
	node->present |= 1ULL << slot;
	xa_fixup(xa, path, index);
	return old;
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	return xa_clear(xa, index);
}

void *__xa_cmpxchg(struct xarray *xa, unsigned long index, void *old,
		   void *entry, gfp_t gfp)
{
	void *cur = xa_load(xa, index);

	if (cur != old)
		return cur;
	cur = xa_store(xa, index, entry, gfp);
	return xa_is_err(cur) ? cur : old;
}

bool xa_get_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
	struct xa_node *path[XA_LEVELS];

	if (mark > XA_MARK_MAX || !xa_path(xa, index, path))
		return false;
	return path[0]->marks[mark] & (1ULL << (index & XA_MASK));
}

static void xa_change_mark(struct xarray *xa, unsigned long index,
			   xa_mark_t mark, bool set)
{
	struct xa_node *path[XA_LEVELS];
	u64 bit = 1ULL << (index & XA_MASK);

	if (mark > XA_MARK_MAX || !xa_path(xa, index, path) ||
	    !(path[0]->present & bit))
		return;
	if (set)
		path[0]->marks[mark] |= bit;
	else
		path[0]->marks[mark] &= ~bit;
	xa_fixup(xa, path, index);
}

void xa_set_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
	xa_change_mark(xa, index, mark, true);
}

void xa_clear_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
	xa_change_mark(xa, index, mark, false);
}

/* First entry at or after @start in @node's subtree matching @filter. */
static void *xa_find_in(struct xa_node *node, unsigned int level,
			unsigned long base, unsigned long start,
			unsigned long *index, xa_mark_t filter)
{
	u64 bits = filter == XA_PRESENT ? node->present : node->marks[filter];
	unsigned int shift = level * XA_SHIFT;
	unsigned int first = start > base ? (start - base) >> shift : 0;

	bits &= ~0ULL << first;
	while (bits) {
		unsigned int s = __builtin_ctzll(bits);
		unsigned long child_base = base + ((unsigned long)s << shift);
		void *entry;

		bits &= bits - 1;
		if (!level) {
			*index = child_base;
			return node->slots[s];
		}
		entry = xa_find_in(node->slots[s], level - 1, child_base,
				   start > child_base ? start : child_base,
				   index, filter);
		if (entry)
			return entry;
	}
	return NULL;
}

void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max,
	      xa_mark_t filter)
{
	unsigned long start = *index;
	void *entry;

	if (!xa->root || start > xa_max(xa->height) ||
	    (filter != XA_PRESENT && filter > XA_MARK_MAX))
		return NULL;
	entry = xa_find_in(xa->root, xa->height - 1, 0, start, index, filter);
	if (!entry || *index > max) {
		*index = start;
		return NULL;
	}
	return entry;
}

void *xa_find_after(struct xarray *xa, unsigned long *index,
		    unsigned long max, xa_mark_t filter)
{
	unsigned long next = *index + 1;
	void *entry;

	if (*index == ULONG_MAX || next > max)
		return NULL;
	entry = xa_find(xa, &next, max, filter);
	if (entry)
		*index = next;
	return entry;
}

static void xa_free_node(struct xa_node *node, unsigned int level)
{
	unsigned int s;

	if (level)
		for (s = 0; s < XA_SLOTS; s++)
			if (node->slots[s])
				xa_free_node(node->slots[s], level - 1);
	free(node);
}

void xa_destroy(struct xarray *xa)
{
	if (xa->root)
		xa_free_node(xa->root, xa->height - 1);
	xa_init(xa);
}
