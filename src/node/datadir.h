/*
 * The data directory of a node home (config.json's data_dir): the node's
 * LMDB store, opened with the identity of the home's genesis.
 *
 * Every program that opens a home's store goes through here (isthmusd, and
 * `isthmus safety export|import`), so that each records and checks the
 * same identity: a store made for one network never serves another.
 */
#ifndef IST_NODE_DATADIR_H
#define IST_NODE_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"
#include "node/config.h"
#include "node/genesis.h"
#include "storage/store.h"

/*
 * Opens the store in cfg->data_path read-write, taking its lock (one
 * process at a time: storage/store.h), with g's genesis hash and chain id,
 * which a new store records and an existing one must match. With
 * `must_exist`, a missing store is not made (-IST_ENOTFOUND, nothing
 * created); without it, the directory and the store are made as needed.
 * Out: *ret_store (ist_store_close it). Returns 0 or the errors of
 * ist_store_open, among them -IST_EDB_LOCKED (isthmusd, or another tool,
 * holds the home), -IST_ENOTFOUND, -IST_ECONFIG (another network's store),
 * with one line in errbuf naming the directory and the problem
 * (IST_STORE_ERRBUF_BYTES is enough).
 */
int ist_node_store_open(const struct ist_node_config *cfg, const struct ist_node_genesis *g, bool must_exist,
			struct ist_store **ret_store, char *errbuf, size_t errlen) IST_WUR;

#endif
