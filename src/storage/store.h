/*
 * The node's store: one LMDB environment with the named databases of
 * DESIGN.md ("Storage"), a schema version, typed accessors (meta.h,
 * blocks.h, attest.h, routes.h) and map growth.
 *
 * Threads (DESIGN.md, "Node architecture"): one thread is the only writer
 * (ist_store_write); API threads read with short read transactions
 * (ist_store_read_begin/_end). The environment is opened with MDB_NOTLS, so a
 * read transaction may be begun on one thread and ended on another (NNG's
 * worker pool), but a transaction is used by one thread at a time.
 *
 * Rules that keep the map-growth lock deadlock-free (growth must wait until
 * no read transaction is open, because LMDB remaps the file):
 *  - a thread holds at most one read transaction at a time;
 *  - never call ist_store_write while the calling thread holds a read
 *    transaction, and never from inside a write callback.
 *
 * One process at a time opens a store read-write: ist_store_open takes an
 * exclusive lock on <dir>/isthmus.lock and fails with -IST_EDB_LOCKED when
 * another process (or another handle in this process) holds it. Read-only
 * handles take no lock and may coexist with the writer in another process;
 * never open the same directory twice in one process (an LMDB rule).
 *
 * ---- Key layouts (all integers big-endian, so LMDB's byte order is the
 * numeric order; "||" is concatenation) ----
 *
 *  meta          ASCII names -> values:
 *                  "schema"        -> u32 IST_STORE_SCHEMA_VERSION
 *                  "v/<dbname>"    -> u32 version of that database (one per db,
 *                                     meta included)
 *                  "chain_id"      -> chain / network id bytes (set once)
 *                  "genesis"       -> 32-byte genesis hash (set once)
 *  blocks        block id (32)                       -> encoded block (opaque)
 *  heights       height (u64)                        -> block id (32)
 *  qcs           block id (32)                       -> encoded QC (opaque)
 *  safety        "state"                             -> encoded safety state
 *                (written in the same transaction as the state it guards)
 *  checkpoints   src (u64) || dst (u64) || tree_size (u64) -> encoded checkpoint
 *  certificates  height (u64)                        -> encoded certificate
 *  shares        height (u64) || signer index (u32)  -> encoded signature share
 *  messages      src (u64) || dst (u64) || leaf index (u64)
 *                                     -> leaf hash (32) || encoded message (opaque, may be empty)
 *  routes        src (u64) || dst (u64)              -> route frontier
 *                                     (ist_merkle_frontier_encode; its size is the route size)
 *                src (u64) || dst (u64) || level (u8) || index (u64)
 *                                     -> root (32) of the perfect subtree of 2^level leaves
 *                                        starting at leaf index << level, level >= 1
 *                (an index added to DESIGN's list: it makes an inclusion or
 *                consistency proof O(log n) reads instead of O(n))
 *  accounts, validators, epochs, evidence, dkg
 *                layouts owned by the ledger code that writes them (generic
 *                accessors below); use big-endian integer keys.
 *
 * ---- Versions and migrations ----
 *
 * meta holds the environment's schema version and one version per database.
 * At open: a version newer than this binary knows refuses to open
 * (-IST_EDB_SCHEMA, with a message naming the path and both versions); an
 * older one is migrated step by step (from v to v+1) by the migration
 * functions of src/storage/schema.c, inside the open's write transaction, so
 * a failed migration leaves the store untouched; a database without a
 * version is new to this store and is created. No migrations exist yet.
 */
#ifndef IST_STORAGE_STORE_H
#define IST_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"

/* The environment's layout version written by this binary. */
#define IST_STORE_SCHEMA_VERSION 1

#define IST_STORE_DEFAULT_MAP_SIZE (64ull << 20)     /* initial map of a new store */
#define IST_STORE_DEFAULT_MAP_MAX (64ull << 30)      /* growth limit */
#define IST_STORE_MIN_MAP_SIZE (64ull << 10)         /* smaller requests are raised to this */
#define IST_STORE_DEFAULT_MAX_READERS 126
#define IST_STORE_KEY_MAX 511                       /* LMDB's default key size limit */
#define IST_STORE_ERRBUF_BYTES 512                  /* enough for any open error */
#define IST_STORE_CHAIN_ID_MAX 64                   /* bytes of a chain / network id */

/* The named databases. */
enum ist_store_db {
	IST_STORE_DB_META = 0,
	IST_STORE_DB_BLOCKS,
	IST_STORE_DB_HEIGHTS,
	IST_STORE_DB_QCS,
	IST_STORE_DB_SAFETY,
	IST_STORE_DB_CHECKPOINTS,
	IST_STORE_DB_CERTIFICATES,
	IST_STORE_DB_SHARES,
	IST_STORE_DB_MESSAGES,
	IST_STORE_DB_ACCOUNTS,
	IST_STORE_DB_VALIDATORS,
	IST_STORE_DB_EPOCHS,
	IST_STORE_DB_EVIDENCE,
	IST_STORE_DB_DKG,
	IST_STORE_DB_ROUTES,
	IST_STORE_DB_COUNT
};

struct ist_store;
/* A read or write transaction. Opaque. */
struct ist_txn;

struct ist_store_options {
	/* Initial map size in bytes of a NEW store (an existing store keeps its
	 * recorded size, raised to this if smaller). 0 = default. Rounded up to
	 * the page size and to at least IST_STORE_MIN_MAP_SIZE. */
	uint64_t map_size;
	/* The map never grows beyond this; a write that needs more fails with
	 * -IST_EDB_FULL. 0 = default. An existing map larger than this is kept. */
	uint64_t map_size_max;
	/* Concurrent read transactions (LMDB reader slots). 0 = default. */
	unsigned max_readers;
	/* Open an existing store for reading only: nothing is created or
	 * migrated, ist_store_write fails with -IST_EPERM. */
	bool read_only;
	/* Open read-write (taking the lock) only a store that exists: when
	 * `dir` holds none, fail with -IST_ENOTFOUND and create nothing (no
	 * directory, no lock file). For a tool that must keep isthmusd off the
	 * store while it reads, without making an empty one (isthmus safety
	 * export). */
	bool must_exist;
	/* When non-NULL: the genesis hash this node runs. A store without one
	 * records it (read-write); a store with a different one refuses to
	 * open with -IST_ECONFIG. */
	const uint8_t *genesis_hash32;
	/* When non-NULL: the chain id, checked and recorded as genesis_hash32
	 * (1..IST_STORE_CHAIN_ID_MAX bytes). */
	const uint8_t *chain_id;
	size_t chain_id_len;
};

/* Name of a database ("blocks"), or "?" for an invalid value. */
const char *ist_store_db_name(enum ist_store_db db);

/*
 * Opens (creating if needed, unless opts->read_only) the store in directory
 * `dir`: created 0700 with any missing parents, data and lock files 0600.
 * `opts` may be NULL (defaults).
 * Out: *ret_store on success (free with ist_store_close).
 * On failure, when errbuf is non-NULL, writes one line naming the path and
 * the problem into errbuf (errlen bytes, NUL-terminated; see
 * IST_STORE_ERRBUF_BYTES), e.g. "data/db: schema version 3 is newer than
 * this binary supports (1); upgrade isthmusd".
 * Returns 0, or
 *   -IST_EINVAL       bad arguments
 *   -IST_ENOTFOUND    read_only or must_exist, and no store there
 *   -IST_EPERM        the directory or files cannot be accessed
 *   -IST_EDB_LOCKED   another process has the store open read-write
 *   -IST_EDB_SCHEMA   written by a newer binary, or needs a migration this
 *                     binary lacks (or read_only and a migration is needed)
 *   -IST_ECONFIG      a different genesis hash or chain id is recorded
 *   -IST_EDB_CORRUPT, -IST_EDB, -IST_EDB_FULL, -IST_ENOMEM, -IST_EIO
 */
int ist_store_open(const char *dir, const struct ist_store_options *opts, struct ist_store **ret_store,
		   char *errbuf, size_t errlen) IST_WUR;

/* Closes the store. Every transaction must have ended. Accepts NULL. */
void ist_store_close(struct ist_store *s);

/* The directory the store was opened with (borrowed, lives as the store). */
const char *ist_store_path(const struct ist_store *s);

/* ---- Transactions ---- */

/*
 * Begins a read transaction: a consistent snapshot of the last commit,
 * unaffected by later writes. Keep it short (it pins old pages and blocks
 * map growth). Out: *ret_txn (end with ist_store_read_end).
 * Returns 0, -IST_EAGAIN (all reader slots in use), -IST_ENOMEM or
 * -IST_EDB*.
 */
int ist_store_read_begin(struct ist_store *s, struct ist_txn **ret_txn) IST_WUR;

/* Ends a read transaction; every value borrowed from it becomes invalid.
 * Accepts NULL. */
void ist_store_read_end(struct ist_txn *txn);

/* A write callback: does its reads and writes through `txn` and returns 0 to
 * commit or a negative -IST_E* code to abort (that code is then returned by
 * ist_store_write). */
typedef int (*ist_store_write_fn)(struct ist_txn *txn, void *ctx);

/*
 * Runs fn in one write transaction and commits it durably (fsync) before
 * returning 0: all of fn's writes become visible together or not at all.
 * When the map is full (during fn or at commit) the transaction is aborted,
 * the map doubled (up to map_size_max) and fn RUN AGAIN FROM THE START, so fn
 * must have no side effect outside the transaction that would be wrong to
 * repeat: apply in-memory effects only after ist_store_write returned 0.
 * Returns 0, fn's error (the transaction is aborted, nothing is written),
 *   -IST_EDB_FULL     the map would have to grow beyond map_size_max
 *                     (nothing of this transaction is written)
 *   -IST_EPERM        the store is read-only
 *   -IST_EDB*, -IST_ENOMEM, -IST_EIO
 */
int ist_store_write(struct ist_store *s, ist_store_write_fn fn, void *ctx) IST_WUR;

/* ---- Generic access (every typed accessor is built on these) ----
 *
 * Keys are 1..IST_STORE_KEY_MAX bytes. Values returned by get and by
 * cursors are BORROWED from the map: valid until the transaction ends or, in
 * a write transaction, until the next write to the same database. Copy what
 * must outlive it; never write through the pointer. */

/* Writes key -> val (replacing any value). Write transactions only.
 * Returns 0, -IST_EINVAL (bad key, read transaction, or a reserved meta key:
 * "schema" and "v/..." are written by the store only), -IST_EDB_FULL
 * (ist_store_write will grow the map and retry), -IST_EDB*. */
int ist_store_put(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen,
		  const void *val, size_t vlen) IST_WUR;

/* As ist_store_put, but fails with -IST_EEXISTS when the key has a value. */
int ist_store_insert(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen,
		     const void *val, size_t vlen) IST_WUR;

/* Out: *ret_val, *ret_vlen (borrowed, see above).
 * Returns 0, -IST_ENOTFOUND, -IST_EINVAL, -IST_EDB*. */
int ist_store_get(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen,
		  const uint8_t **ret_val, size_t *ret_vlen) IST_WUR;

/* Removes key. Returns 0, -IST_ENOTFOUND, -IST_EINVAL, -IST_EDB*. */
int ist_store_del(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen) IST_WUR;

/* Out: *ret_entries, the number of keys in db. Returns 0 or -IST_EDB*. */
int ist_store_count(struct ist_txn *txn, enum ist_store_db db, uint64_t *ret_entries) IST_WUR;

/* ---- Cursors: ordered iteration over one database ---- */

struct ist_store_cursor;

enum ist_store_cursor_op {
	IST_STORE_FIRST,
	IST_STORE_LAST,
	IST_STORE_NEXT,
	IST_STORE_PREV,
	IST_STORE_SEEK_GE, /* the first key >= the given key */
	IST_STORE_SEEK_LE, /* the last key <= the given key */
};

/* Out: *ret_cur. Close it before its transaction ends.
 * Returns 0, -IST_ENOMEM, -IST_EDB*. */
int ist_store_cursor_open(struct ist_txn *txn, enum ist_store_db db, struct ist_store_cursor **ret_cur) IST_WUR;
/* Accepts NULL. */
void ist_store_cursor_close(struct ist_store_cursor *cur);

/*
 * Moves the cursor and reads the entry it lands on. key/klen are used by the
 * SEEK ops only (NULL otherwise). NEXT/PREV on a fresh cursor act as
 * FIRST/LAST. Out (each may be NULL): the key and value, borrowed.
 * Returns 0, -IST_ENOTFOUND (no such entry: the end, or an empty database),
 * -IST_EINVAL, -IST_EDB*.
 */
int ist_store_cursor_get(struct ist_store_cursor *cur, enum ist_store_cursor_op op, const void *key, size_t klen,
			 const uint8_t **ret_key, size_t *ret_klen, const uint8_t **ret_val, size_t *ret_vlen) IST_WUR;

/* ---- Key helpers: big-endian, so LMDB order = numeric order ---- */

#define IST_STORE_U64_KEY_BYTES 8
#define IST_STORE_ROUTE_KEY_BYTES 16

static inline void ist_store_key_u64(uint8_t out8[IST_STORE_U64_KEY_BYTES], uint64_t v) { ist_put_be64(out8, v); }

static inline void ist_store_key_route(uint8_t out16[IST_STORE_ROUTE_KEY_BYTES], uint64_t src_chain, uint64_t dst_chain)
{
	ist_put_be64(out16, src_chain);
	ist_put_be64(out16 + 8, dst_chain);
}

/* ---- Statistics (metrics) ---- */

struct ist_store_stat {
	uint64_t used_bytes;     /* pages in use (last page number + 1) * page size */
	uint64_t map_bytes;      /* current map size */
	uint64_t map_max_bytes;  /* the growth limit */
	uint32_t page_size;
	uint32_t readers;        /* reader slots used */
	uint32_t max_readers;
	uint64_t grow_count;     /* map growths by this handle */
};

/* Out: *ret. Waits out a map growth like ist_store_read_begin (so do not
 * call it while the calling thread holds a read transaction). Safe from any
 * thread. Returns 0 or -IST_EDB. */
int ist_store_stat(struct ist_store *s, struct ist_store_stat *ret) IST_WUR;

#endif
