/*
 * The block tree: the last committed block (the root) and the uncommitted
 * blocks that descend from it, each a deep copy, with a QC certifying it
 * when one is known. Bounded: at most `max` blocks.
 *
 * Small by construction (a few blocks per view not yet final), so it is an
 * array searched linearly; nothing about it reaches an output, so its order
 * never matters for determinism.
 */
#ifndef IST_CONSENSUS_TREE_H
#define IST_CONSENSUS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"
#include "wire/types.h"

struct ist_cons_tnode {
	uint8_t id[IST_HASH_BYTES];
	struct ist_block *block;   /* owned */
	struct ist_qc *qc;         /* owned, a QC for this block, or NULL */
	uint64_t height;
	uint64_t view;             /* 0 for a root that starts its epoch */
};

struct ist_cons_tree {
	struct ist_cons_tnode **v;  /* v[0] is the root */
	size_t len;
	size_t max;
};

/* Starts a tree at `root` (ownership taken, also on failure) with its
 * effective view. Returns 0 or -IST_ENOMEM. */
int ist_cons_tree_init(struct ist_cons_tree *t, struct ist_block *root, const uint8_t id32[IST_HASH_BYTES],
		       uint64_t root_view, size_t max) IST_WUR;
void ist_cons_tree_fini(struct ist_cons_tree *t);

static inline struct ist_cons_tnode *ist_cons_tree_root(const struct ist_cons_tree *t) { return t->v[0]; }

/* The node of `id32`, or NULL. */
struct ist_cons_tnode *ist_cons_tree_find(const struct ist_cons_tree *t, const uint8_t id32[IST_HASH_BYTES]);

/*
 * Inserts block b (ownership taken on success) under its parent, which must
 * be in the tree; the caller checked height and view against it.
 * Returns 0 and *ret_node, -IST_ENOTFOUND (no parent), -IST_EEXISTS,
 * -IST_ETOOBIG (the tree is full) or -IST_ENOMEM.
 */
int ist_cons_tree_insert(struct ist_cons_tree *t, struct ist_block *b, const uint8_t id32[IST_HASH_BYTES],
			 struct ist_cons_tnode **ret_node) IST_WUR;

/* True when `id32` is `ancestor32` or descends from it through the tree. */
bool ist_cons_tree_extends(const struct ist_cons_tree *t, const uint8_t id32[IST_HASH_BYTES],
			   const uint8_t ancestor32[IST_HASH_BYTES]) IST_WUR;

/* Makes the node `id32` (in the tree) the root and frees every block that
 * does not descend from it. */
void ist_cons_tree_prune(struct ist_cons_tree *t, const uint8_t id32[IST_HASH_BYTES]);

#endif
