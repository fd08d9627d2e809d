#include "consensus/tree.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static void tnode_free(struct ist_cons_tnode *n)
{
	if (!n)
		return;
	ist_wire_block_free(n->block);
	free(n->qc);
	free(n);
}

int ist_cons_tree_init(struct ist_cons_tree *t, struct ist_block *root, const uint8_t id32[IST_HASH_BYTES],
		       uint64_t root_view, size_t max)
{
	memset(t, 0, sizeof(*t));
	IST_REQUIRE(max >= 1);
	t->v = calloc(max, sizeof(*t->v));
	struct ist_cons_tnode *n = calloc(1, sizeof(*n));
	if (!t->v || !n) {
		free(t->v);
		free(n);
		ist_wire_block_free(root);
		t->v = NULL;
		return -IST_ENOMEM;
	}
	memcpy(n->id, id32, IST_HASH_BYTES);
	n->block = root;
	n->height = root->height;
	n->view = root_view;
	t->v[0] = n;
	t->len = 1;
	t->max = max;
	return 0;
}

void ist_cons_tree_fini(struct ist_cons_tree *t)
{
	for (size_t i = 0; i < t->len; i++)
		tnode_free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

struct ist_cons_tnode *ist_cons_tree_find(const struct ist_cons_tree *t, const uint8_t id32[IST_HASH_BYTES])
{
	for (size_t i = 0; i < t->len; i++)
		if (memcmp(t->v[i]->id, id32, IST_HASH_BYTES) == 0)
			return t->v[i];
	return NULL;
}

int ist_cons_tree_insert(struct ist_cons_tree *t, struct ist_block *b, const uint8_t id32[IST_HASH_BYTES],
			 struct ist_cons_tnode **ret_node)
{
	if (ist_cons_tree_find(t, id32))
		return -IST_EEXISTS;
	if (!ist_cons_tree_find(t, b->parent_id))
		return -IST_ENOTFOUND;
	if (t->len >= t->max)
		return -IST_ETOOBIG;
	struct ist_cons_tnode *n = calloc(1, sizeof(*n));
	if (!n)
		return -IST_ENOMEM;
	memcpy(n->id, id32, IST_HASH_BYTES);
	n->block = b;
	n->height = b->height;
	n->view = b->view;
	t->v[t->len++] = n;
	*ret_node = n;
	return 0;
}

bool ist_cons_tree_extends(const struct ist_cons_tree *t, const uint8_t id32[IST_HASH_BYTES],
			   const uint8_t ancestor32[IST_HASH_BYTES])
{
	const struct ist_cons_tnode *n = ist_cons_tree_find(t, id32);
	/* heights strictly decrease along parents, so this ends */
	while (n) {
		if (memcmp(n->id, ancestor32, IST_HASH_BYTES) == 0)
			return true;
		if (n == t->v[0])
			return false;
		n = ist_cons_tree_find(t, n->block->parent_id);
	}
	return false;
}

void ist_cons_tree_prune(struct ist_cons_tree *t, const uint8_t id32[IST_HASH_BYTES])
{
	struct ist_cons_tnode *root = ist_cons_tree_find(t, id32);
	IST_REQUIRE(root);
	/* mark: a node survives when it descends from the new root. Parents
	 * are always inserted before children, so one pass in insertion order
	 * settles every node (keep[] follows the array). */
	bool *keep = calloc(t->len, sizeof(*keep));
	if (!keep) {
		/* out of memory: keep everything but still move the root (a
		 * bigger tree is harmless; it is pruned again next commit) */
		for (size_t i = 0; i < t->len; i++)
			if (t->v[i] == root) {
				t->v[i] = t->v[0];
				t->v[0] = root;
			}
		return;
	}
	for (size_t i = 0; i < t->len; i++) {
		struct ist_cons_tnode *n = t->v[i];
		if (n == root) {
			keep[i] = true;
			continue;
		}
		if (n->height <= root->height)
			continue;
		for (size_t j = 0; j < i; j++)
			if (keep[j] && memcmp(t->v[j]->id, n->block->parent_id, IST_HASH_BYTES) == 0) {
				keep[i] = true;
				break;
			}
	}
	size_t w = 1;
	struct ist_cons_tnode **nv = t->v;
	struct ist_cons_tnode *first = root;
	for (size_t i = 0; i < t->len; i++) {
		if (!keep[i]) {
			tnode_free(nv[i]);
			continue;
		}
		if (nv[i] == first)
			continue;
		nv[w++] = nv[i];
	}
	nv[0] = first;
	t->len = w;
	free(keep);
}
