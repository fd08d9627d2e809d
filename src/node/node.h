/*
 * The validator node: the wiring of a node home (config, genesis, keys), the
 * LMDB store, the consensus core, the NNG transport and the HTTP API
 * (DESIGN "Node architecture"). isthmusd (daemon.c) is a thin main around
 * it.
 *
 * Threads. One thread, started by ist_node_start, owns the consensus core
 * and is the only writer of the store: it takes envelopes from a bounded
 * queue fed by the transport's callbacks, arms the one view timer as a timed
 * wait on that queue, and carries out the core's actions (PERSIST is one
 * durable ist_store_write together with the STORE_BLOCK and COMMIT writes
 * before it; nothing that depends on it is sent before it returns). API
 * handlers read with short read transactions and a status snapshot.
 *
 * Restart. ist_node_new resumes from the store: the root is the last
 * committed block (or the genesis block, height 0, derived from the
 * genesis: see ist_node_genesis_block), the safety state and the stored
 * uncommitted blocks go back to the core.
 */
#ifndef IST_NODE_NODE_H
#define IST_NODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"
#include "node/genesis.h"
#include "wire/types.h"

#define IST_NODE_ERRBUF_BYTES 2048   /* enough for any start-up error line */

struct ist_node;

struct ist_node_options {
	const char *home;        /* the node home (required) */
	const char *log_level;   /* overrides config.json's log.level; NULL = the config's */
	/* Called once, from the consensus thread, when that thread ends on its
	 * own because of a fatal error (a failed write, a failed step): the
	 * caller should then stop and free the node and exit non-zero. May be
	 * NULL. Must not call ist_node_* functions. */
	void (*on_fatal)(void *ctx);
	void *ctx;
};

/*
 * Loads the home (config, genesis, keys), opens the store and builds the
 * consensus core from what the store holds. Nothing listens yet.
 * Out: *ret (free with ist_node_free). Returns 0 or a negative -IST_E*; then
 * errbuf holds one line naming the file, field or resource and the problem
 * (e.g. another isthmusd holding the store's lock).
 */
int ist_node_new(const struct ist_node_options *opts, struct ist_node **ret, char *errbuf, size_t errlen) IST_WUR;

/* Listens (transport, API) and starts the consensus thread. Returns 0 or
 * -IST_E* with errbuf set (e.g. an address in use). */
int ist_node_start(struct ist_node *n, char *errbuf, size_t errlen) IST_WUR;

/* Asks the consensus thread to stop (returns at once). Any thread; not
 * async-signal-safe. */
void ist_node_stop(struct ist_node *n);

/*
 * Stops everything in order (consensus thread, API, transport), closes the
 * store and wipes the key. Returns 0, or the fatal error that ended the
 * consensus thread. Accepts NULL (returns 0).
 */
int ist_node_free(struct ist_node *n);

/*
 * The genesis block of a network: height 0, epoch 0, view 0, the genesis
 * hash as parent id, timestamp genesis_time * 1000, proposer 0, an empty
 * justify and no payload. Every node derives the same one; its id is the
 * root of epoch 0. Out: *ret (caller's memory; holds no heap part).
 */
void ist_node_genesis_block(const struct ist_node_genesis *g, struct ist_block *ret);

#endif
