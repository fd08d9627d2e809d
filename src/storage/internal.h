/*
 * Internals shared by the files of src/storage. Not part of the contract:
 * other modules include store.h and the typed headers only.
 */
#ifndef IST_STORAGE_INTERNAL_H
#define IST_STORAGE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"
#include "storage/store.h"

struct ist_store {
	MDB_env *env;
	MDB_dbi dbi[IST_STORE_DB_COUNT];
	char *path;
	bool read_only;
	uint64_t map_max;
	uint32_t page_size;
	int lock_fd;                /* flock'ed <dir>/isthmus.lock, or -1 */
	uint64_t grow_count;        /* __atomic: read by ist_store_stat */

	/* Serialises write transactions and every map change. */
	pthread_mutex_t write_mu;

	/* The reader gate: LMDB's mdb_env_set_mapsize unmaps the file, so no
	 * read transaction may be open meanwhile. Readers count themselves in;
	 * a resize closes the gate (new readers wait) and waits for the count
	 * to drop to zero. A mutex + condition rather than a rwlock because
	 * with MDB_NOTLS a read transaction may end on another thread. */
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv;
	unsigned readers;
	bool resizing;
	bool broken;                /* a remap failed: the environment is unusable */
};

struct ist_txn {
	struct ist_store *store;
	MDB_txn *txn;
	bool write;
	/* Some write saw MDB_MAP_FULL: the transaction is dead and
	 * ist_store_write grows the map and runs the callback again. */
	bool map_full;
	/* The store's own writes (schema, versions) may touch reserved keys. */
	bool internal;
};

/* Translates an LMDB (negative) or errno (positive) code to -IST_E* and logs
 * the LMDB text at debug level with `what`. 0 stays 0. */
int ist_store_lmdb_err(int rc, const char *what);

/* As ist_store_lmdb_err, for a write operation of `txn`: also notes a full
 * map so that ist_store_write retries. */
int ist_store_write_err(struct ist_txn *txn, int rc, const char *what);

/* ist_store_get of a value that must be exactly `len` bytes, copied into
 * `out`. Returns 0, -IST_EDB_CORRUPT (another length), or ist_store_get's
 * errors (-IST_ENOTFOUND, ...). */
int ist_store_get_fixed(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen, void *out,
			size_t len);

/* Writes "<path>: <message>" into errbuf (when non-NULL) and returns err. */
int ist_store_errf(char *errbuf, size_t errlen, const char *path, int err, const char *fmt, ...) IST_PRINTF(5, 6);

/* ist_store_write without the read-only check and with internal = true, for
 * the open sequence (the write lock is taken inside). */
int ist_store_write_internal(struct ist_store *s, ist_store_write_fn fn, void *ctx);

/* schema.c: opens the named databases, checks and migrates versions and
 * checks/records the expected genesis hash and chain id. Called once by
 * ist_store_open with no other user of the store. */
int ist_store_schema_open(struct ist_store *s, const struct ist_store_options *opts, char *errbuf, size_t errlen);

#endif
