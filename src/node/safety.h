/*
 * The safety state of a node home outside the node: the file that takes it
 * from one machine to another (`isthmus safety export|import`,
 * docs/cli-safety.md), and its reading and writing in the home's store.
 *
 * The state is the consensus core's PERSIST bytes (consensus/safety.h): the
 * epoch, the last view this validator voted, proposed or timed out in, its
 * last timeout, and the highest QC it knows, which in Jolteon is also its
 * lock (there is no separate locked QC). isthmusd keeps it in the store's
 * safety database and hands it back to the core at every start, so that it
 * never signs two votes for one view. A validator moved to a new machine,
 * or given a new data directory, must take the state along: without it the
 * node starts blank and may vote again in views it voted in: a double sign.
 *
 * The file is one JSON object (every field required, no other field):
 *
 *   {"format": "isthmus-safety-state", "version": 1,
 *    "chain_id": "isthmus-devnet", "network_id": 1337,
 *    "genesis_hash": "<hex 32>", "node_key": "<hex 32>",
 *    "epoch": 0, "last_voted_view": 812, "last_timeout_view": 790,
 *    "high_qc_view": 811, "high_qc_block": "<hex 32>",
 *    "state": "<hex: the state bytes, version byte first>"}
 *
 * chain_id, network_id, genesis_hash and node_key say whose state it is:
 * one validator key on one chain. `state` is what the node uses; epoch ..
 * high_qc_block say what it holds, for a human, and must agree with it (an
 * edited view is refused, never obeyed). u64 values are JSON integers up to
 * 2^53 or decimal strings (as in genesis.json).
 */
#ifndef IST_NODE_SAFETY_H
#define IST_NODE_SAFETY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "consensus/safety.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/home.h"

#define IST_NODE_SAFETY_FORMAT "isthmus-safety-state"
#define IST_NODE_SAFETY_FORMAT_VERSION 1
/* The largest file read: the largest state in hex and the other fields. */
#define IST_NODE_SAFETY_FILE_MAX (64u << 10)

/*
 * A safety state with whose it is. About 33 KiB: keep it on the heap.
 * `safety` is `state` decoded (ist_cons_safety_decode); the functions below
 * keep the two in agreement.
 */
struct ist_node_safety_file {
	char chain_id[IST_NODE_CHAIN_ID_MAX + 1];
	uint64_t network_id;
	uint8_t genesis_hash[IST_HASH_BYTES];
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
	uint8_t state[IST_CONS_SAFETY_MAX_BYTES];
	size_t state_len;
	struct ist_cons_safety safety;
};

/*
 * Parses and checks the text of a safety state file (`len` bytes, need not
 * be NUL-terminated): a decoder of outside input. `label` names the file in
 * errors. Checks every field (type, range, hex length), decodes `state` and
 * checks the descriptive fields against it. Says nothing of the home it is
 * for (ist_node_safety_file_check does).
 * Out: *ret, written only on success. Returns 0 or, with `err` set (the
 * file, the field, the problem):
 *   -IST_EPARSE        not JSON (err has a line and column),
 *   -IST_ECONFIG       JSON that is not a valid safety state file,
 *   -IST_EUNSUPPORTED  a newer file format or state version,
 *   -IST_ETOOBIG       longer than IST_NODE_SAFETY_FILE_MAX,
 *   -IST_ENOMEM.
 */
int ist_node_safety_file_parse(const char *json, size_t len, const char *label, struct ist_node_safety_file *ret,
			       struct ist_json_err *err) IST_WUR;

/* Serialises `f` as the file's text (two-space indent, the fields in the
 * order above, a final newline); parsing it gives `f` back. Requires `f`
 * consistent (as the parser or ist_node_safety_export leave it).
 * Out: *ret_json (malloc'd, caller frees). Returns 0 or -IST_ENOMEM. */
int ist_node_safety_file_format(const struct ist_node_safety_file *f, char **ret_json) IST_WUR;

/*
 * Checks that `f` (read from `label`) belongs to the home of genesis `g` and
 * node key `node_key32`: the same chain id, network id and genesis hash, and
 * the same validator key. Returns 0 or -IST_ECONFIG with `err` naming the
 * field and both values.
 */
int ist_node_safety_file_check(const struct ist_node_safety_file *f, const char *label,
			       const struct ist_node_genesis *g, const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES],
			       struct ist_json_err *err) IST_WUR;

/*
 * May the state `next` replace `cur` without lowering its protection? A
 * later epoch may (views start again in every epoch); an earlier one may
 * not. In the same epoch, next must be at or beyond cur in each rule the
 * core keeps: the last voted view (no vote at or below it), the last
 * timeout view (no second timeout for it), the highest QC view (the lock,
 * carried by every timeout); and when both timed out last in the same view,
 * with the same QC view. Then the node cannot sign in any view that either
 * state's validator signed in. Returns 0, or -IST_ESTATE with the reason in
 * `problem` (NUL-terminated, len > 0): "it would lower the last voted view
 * from 812 to 300: ...".
 */
int ist_node_safety_not_lower(const struct ist_cons_safety *cur, const struct ist_cons_safety *next, char *problem,
			      size_t len) IST_WUR;

/*
 * Reads the safety state of a home whose node is stopped: opens its store
 * (ist_node_store_open with must_exist: the lock keeps isthmusd off while
 * it reads, and nothing is made), reads and decodes the state, and fills
 * *ret with it, g's chain id, network id and genesis hash, and `node_key32`.
 * Returns 0 or, with one line in errbuf naming the data directory:
 *   -IST_EDB_LOCKED   the node is running (or another tool holds the home),
 *   -IST_ENOTFOUND    no database, or no safety state in it yet,
 *   -IST_EDB_CORRUPT  the stored state does not decode,
 *   the other errors of ist_node_store_open, -IST_EDB*, -IST_ENOMEM.
 */
int ist_node_safety_export(const struct ist_node_config *cfg, const struct ist_node_genesis *g,
			   const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES], struct ist_node_safety_file *ret,
			   char *errbuf, size_t errlen) IST_WUR;

/*
 * Writes f's state into a home whose node is stopped: opens its store
 * (made when missing, as isthmusd would), and in ONE durable write
 * transaction reads the state there, refuses to lower it
 * (ist_node_safety_not_lower) and puts f's. The caller checked f against
 * the home (ist_node_safety_file_check). Out: *ret_had_prev, and *ret_prev
 * (may be NULL; about 16 KiB) the state replaced, when there was one.
 * Returns 0 or, with one line in errbuf naming the data directory:
 *   -IST_ESTATE       f would lower the home's state (the reason),
 *   -IST_EDB_LOCKED   the node is running,
 *   -IST_EDB_CORRUPT  the home's own state does not decode (nothing to
 *                     compare with: refused),
 *   the other errors of ist_node_store_open, -IST_EDB*, -IST_ENOMEM.
 */
int ist_node_safety_import(const struct ist_node_config *cfg, const struct ist_node_genesis *g,
			   const struct ist_node_safety_file *f, bool *ret_had_prev, struct ist_cons_safety *ret_prev,
			   char *errbuf, size_t errlen) IST_WUR;

#endif
