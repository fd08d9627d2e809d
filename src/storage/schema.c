/*
 * The named databases, their versions and migrations, checked once at open.
 *
 * How versions work (store.h, "Versions and migrations"):
 *  - meta "schema" is the version of the environment as a whole (which
 *    databases exist, what meta holds); meta "v/<name>" the version of one
 *    database's key and value layout.
 *  - A change of layout bumps the version in the table below and adds a
 *    migration step: migrate(txn, from) rewrites the database from version
 *    `from` to `from + 1` through the ordinary accessors of `txn`, and
 *    returns 0 or an error. Steps run in order inside the open's write
 *    transaction, so a store is either fully migrated or untouched. A store
 *    older than a step that exists in no binary refuses to open.
 *  - A version newer than the table refuses to open: an older binary must
 *    never write a layout it does not understand.
 *  - A database missing from meta is new to this store: it is created at the
 *    table's version (adding a database needs no migration).
 *
 * No migrations exist yet: every table entry is at version 1.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "storage/internal.h"
#include "storage/meta.h"
#include "storage/store.h"

/* Upgrades a database (or, for the schema, the environment) from version
 * `from` to `from + 1`. Returns 0 or -IST_E*. */
typedef int (*migrate_fn)(struct ist_txn *txn, uint32_t from);

struct db_def {
	const char *name;
	uint32_t version;  /* the layout this binary reads and writes */
	migrate_fn migrate; /* NULL: no migration steps exist */
};

static const struct db_def defs[IST_STORE_DB_COUNT] = {
	[IST_STORE_DB_META]         = { "meta", 1, NULL },
	[IST_STORE_DB_BLOCKS]       = { "blocks", 1, NULL },
	[IST_STORE_DB_HEIGHTS]      = { "heights", 1, NULL },
	[IST_STORE_DB_QCS]          = { "qcs", 1, NULL },
	[IST_STORE_DB_SAFETY]       = { "safety", 1, NULL },
	[IST_STORE_DB_CHECKPOINTS]  = { "checkpoints", 1, NULL },
	[IST_STORE_DB_CERTIFICATES] = { "certificates", 1, NULL },
	[IST_STORE_DB_SHARES]       = { "shares", 1, NULL },
	[IST_STORE_DB_MESSAGES]     = { "messages", 1, NULL },
	[IST_STORE_DB_ACCOUNTS]     = { "accounts", 1, NULL },
	[IST_STORE_DB_VALIDATORS]   = { "validators", 1, NULL },
	[IST_STORE_DB_EPOCHS]       = { "epochs", 1, NULL },
	[IST_STORE_DB_EVIDENCE]     = { "evidence", 1, NULL },
	[IST_STORE_DB_DKG]          = { "dkg", 1, NULL },
	[IST_STORE_DB_ROUTES]       = { "routes", 1, NULL },
};

/* Steps of the environment's schema (none yet). */
static const migrate_fn schema_migrate = NULL;

#define KEY_SCHEMA "schema"

const char *ist_store_db_name(enum ist_store_db db)
{
	return (unsigned)db < IST_STORE_DB_COUNT ? defs[db].name : "?";
}

struct open_ctx {
	struct ist_store *s;
	const struct ist_store_options *o;
	char *errbuf;
	size_t errlen;
	bool rw;
};

#define FAIL(c, err, ...) ist_store_errf((c)->errbuf, (c)->errlen, (c)->s->path, (err), __VA_ARGS__)

static void version_key(char *out, size_t len, enum ist_store_db db)
{
	snprintf(out, len, "v/%s", defs[db].name);
}

static int put_u32(struct ist_txn *txn, const char *key, uint32_t v)
{
	uint8_t b[4];
	ist_put_be32(b, v);
	return ist_store_put(txn, IST_STORE_DB_META, key, strlen(key), b, sizeof(b));
}

/* Runs the steps from `from` up to `to`. */
static int run_migrations(struct ist_txn *txn, struct open_ctx *c, const char *what, migrate_fn fn,
			  uint32_t from, uint32_t to)
{
	if (!c->rw)
		return FAIL(c, -IST_EDB_SCHEMA,
			    "%s version %" PRIu32 " is older than this binary's (%" PRIu32 "); "
			    "open the store read-write once to migrate it", what, from, to);
	if (!fn)
		return FAIL(c, -IST_EDB_SCHEMA,
			    "%s version %" PRIu32 " is older than this binary supports (%" PRIu32 ") "
			    "and no migration exists", what, from, to);
	for (uint32_t v = from; v < to; v++) {
		int r = fn(txn, v);
		if (r) {
			if (txn->map_full)
				return r; /* ist_store_write grows and retries */
			return FAIL(c, r == -IST_EUNSUPPORTED ? -IST_EDB_SCHEMA : r,
				    "migrating %s from version %" PRIu32 " to %" PRIu32 " failed: %s",
				    what, v, v + 1, ist_strerror(r));
		}
		ist_log_info("storage", "%s: migrated %s from version %" PRIu32 " to %" PRIu32,
			     c->s->path, what, v, v + 1);
	}
	return 0;
}

static int open_dbi(struct ist_txn *txn, struct open_ctx *c, enum ist_store_db db, bool create)
{
	int rc = mdb_dbi_open(txn->txn, defs[db].name, create ? MDB_CREATE : 0, &c->s->dbi[db]);
	if (rc == 0)
		return 0;
	int r = ist_store_write_err(txn, rc, "mdb_dbi_open");
	if (rc == MDB_MAP_FULL)
		return r;
	if (rc == MDB_NOTFOUND)
		return FAIL(c, -IST_EDB_CORRUPT, "database %s is missing although meta records its version",
			    defs[db].name);
	return FAIL(c, r, "cannot open database %s: %s", defs[db].name, mdb_strerror(rc));
}

/* A store created now: meta must be empty and the environment hold nothing
 * but meta (else it is some other program's LMDB). */
static int check_fresh(struct ist_txn *txn, struct open_ctx *c)
{
	uint64_t n = 0;
	int r = ist_store_count(txn, IST_STORE_DB_META, &n);
	if (r)
		return FAIL(c, r, "cannot read database meta: %s", ist_strerror(r));
	if (n > 0)
		return FAIL(c, -IST_EDB_CORRUPT, "database meta has no schema version");
	MDB_dbi main_dbi;
	MDB_stat st;
	int rc = mdb_dbi_open(txn->txn, NULL, 0, &main_dbi);
	if (rc == 0)
		rc = mdb_stat(txn->txn, main_dbi, &st);
	if (rc != 0)
		return FAIL(c, ist_store_lmdb_err(rc, "mdb_stat"), "cannot read the environment: %s", mdb_strerror(rc));
	if (st.ms_entries > 1)
		return FAIL(c, -IST_EDB_SCHEMA, "not an isthmus store (it holds other LMDB databases)");
	return 0;
}

static int check_schema(struct ist_txn *txn, struct open_ctx *c)
{
	int rc = mdb_dbi_open(txn->txn, "meta", c->rw ? MDB_CREATE : 0, &c->s->dbi[IST_STORE_DB_META]);
	if (rc == MDB_NOTFOUND)
		return FAIL(c, -IST_ENOTFOUND, "no isthmus store here (no meta database)");
	if (rc != 0) {
		int r = ist_store_write_err(txn, rc, "mdb_dbi_open");
		return rc == MDB_MAP_FULL ? r : FAIL(c, r, "cannot open database meta: %s", mdb_strerror(rc));
	}

	uint32_t schema;
	int r = ist_store_schema_version(txn, &schema);
	if (r == -IST_ENOTFOUND) {
		if (!c->rw)
			return FAIL(c, -IST_ENOTFOUND, "no isthmus store here (no schema version)");
		r = check_fresh(txn, c);
		if (r)
			return r;
		r = put_u32(txn, KEY_SCHEMA, IST_STORE_SCHEMA_VERSION);
		if (r)
			return txn->map_full ? r : FAIL(c, r, "cannot write the schema version: %s", ist_strerror(r));
		schema = IST_STORE_SCHEMA_VERSION;
	} else if (r == -IST_EDB_CORRUPT) {
		return FAIL(c, r, "the schema version in meta is malformed");
	} else if (r) {
		return FAIL(c, r, "cannot read the schema version: %s", ist_strerror(r));
	}
	if (schema > IST_STORE_SCHEMA_VERSION)
		return FAIL(c, -IST_EDB_SCHEMA,
			    "schema version %" PRIu32 " is newer than this binary supports (%d); upgrade isthmusd",
			    schema, IST_STORE_SCHEMA_VERSION);
	if (schema < IST_STORE_SCHEMA_VERSION) {
		r = run_migrations(txn, c, "the schema", schema_migrate, schema, IST_STORE_SCHEMA_VERSION);
		if (r)
			return r;
		r = put_u32(txn, KEY_SCHEMA, IST_STORE_SCHEMA_VERSION);
		if (r)
			return txn->map_full ? r : FAIL(c, r, "cannot write the schema version: %s", ist_strerror(r));
	}
	return 0;
}

static int check_dbs(struct ist_txn *txn, struct open_ctx *c)
{
	for (int i = 0; i < IST_STORE_DB_COUNT; i++) {
		enum ist_store_db db = (enum ist_store_db)i;
		const struct db_def *d = &defs[db];
		char key[40];
		version_key(key, sizeof(key), db);
		uint32_t v;
		int r = ist_store_db_version(txn, db, &v);
		if (r == -IST_ENOTFOUND) {
			/* new to this store (a fresh store, or a database this
			 * binary added): create it at the current version */
			if (!c->rw)
				return FAIL(c, -IST_EDB_SCHEMA,
					    "database %s is missing; open the store read-write once to create it",
					    d->name);
			if (db != IST_STORE_DB_META) {
				r = open_dbi(txn, c, db, true);
				if (r)
					return r;
			}
			r = put_u32(txn, key, d->version);
			if (r)
				return txn->map_full ? r : FAIL(c, r, "cannot write %s: %s", key, ist_strerror(r));
			continue;
		}
		if (r == -IST_EDB_CORRUPT)
			return FAIL(c, r, "the version of database %s is malformed", d->name);
		if (r)
			return FAIL(c, r, "cannot read the version of database %s: %s", d->name, ist_strerror(r));
		if (v > d->version)
			return FAIL(c, -IST_EDB_SCHEMA,
				    "database %s version %" PRIu32 " is newer than this binary supports (%" PRIu32 "); "
				    "upgrade isthmusd", d->name, v, d->version);
		if (db != IST_STORE_DB_META) {
			r = open_dbi(txn, c, db, false);
			if (r)
				return r;
		}
		if (v < d->version) {
			char what[48];
			snprintf(what, sizeof(what), "database %s", d->name);
			r = run_migrations(txn, c, what, d->migrate, v, d->version);
			if (r)
				return r;
			r = put_u32(txn, key, d->version);
			if (r)
				return txn->map_full ? r : FAIL(c, r, "cannot write %s: %s", key, ist_strerror(r));
		}
	}
	return 0;
}

/* Short printable form of an identity value for messages: the text when it
 * is printable ASCII, else hex of the first bytes. */
static void show(const uint8_t *v, size_t len, char *out, size_t outlen)
{
	bool text = len > 0;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			text = false;
	if (text) {
		snprintf(out, outlen, "\"%.*s\"", (int)len, (const char *)v);
		return;
	}
	size_t n = IST_MIN(len, (size_t)8);
	char hex[17];
	ist_hex_encode(v, n, hex);
	snprintf(out, outlen, "%s%s", hex, n < len ? "..." : "");
}

static int check_identity(struct ist_txn *txn, struct open_ctx *c)
{
	const struct ist_store_options *o = c->o;
	char have_s[80], want_s[80];
	if (o->genesis_hash32) {
		uint8_t have[IST_HASH_BYTES];
		int r = ist_store_genesis_get(txn, have);
		if (r == -IST_ENOTFOUND) {
			if (!c->rw)
				return FAIL(c, -IST_ECONFIG, "the store has no genesis hash recorded");
			r = ist_store_genesis_set(txn, o->genesis_hash32);
			if (r)
				return txn->map_full ? r : FAIL(c, r, "cannot record the genesis hash: %s", ist_strerror(r));
		} else if (r) {
			return FAIL(c, r, "cannot read the genesis hash: %s", ist_strerror(r));
		} else if (memcmp(have, o->genesis_hash32, IST_HASH_BYTES) != 0) {
			show(have, IST_HASH_BYTES, have_s, sizeof(have_s));
			show(o->genesis_hash32, IST_HASH_BYTES, want_s, sizeof(want_s));
			return FAIL(c, -IST_ECONFIG,
				    "the store belongs to genesis %s, not this node's genesis %s "
				    "(another network's data directory?)", have_s, want_s);
		}
	}
	if (o->chain_id) {
		const uint8_t *have;
		size_t have_len;
		int r = ist_store_chain_id_get(txn, &have, &have_len);
		if (r == -IST_ENOTFOUND) {
			if (!c->rw)
				return FAIL(c, -IST_ECONFIG, "the store has no chain id recorded");
			r = ist_store_chain_id_set(txn, o->chain_id, o->chain_id_len);
			if (r)
				return txn->map_full ? r : FAIL(c, r, "cannot record the chain id: %s", ist_strerror(r));
		} else if (r) {
			return FAIL(c, r, "cannot read the chain id: %s", ist_strerror(r));
		} else if (have_len != o->chain_id_len || memcmp(have, o->chain_id, have_len) != 0) {
			show(have, have_len, have_s, sizeof(have_s));
			show(o->chain_id, o->chain_id_len, want_s, sizeof(want_s));
			return FAIL(c, -IST_ECONFIG, "the store belongs to chain id %s, not this node's %s",
				    have_s, want_s);
		}
	}
	return 0;
}

static int open_fn(struct ist_txn *txn, void *ctx)
{
	struct open_ctx *c = ctx;
	int r = check_schema(txn, c);
	if (!r)
		r = check_dbs(txn, c);
	if (!r)
		r = check_identity(txn, c);
	return r;
}

int ist_store_schema_open(struct ist_store *s, const struct ist_store_options *opts, char *errbuf, size_t errlen)
{
	struct open_ctx c = { .s = s, .o = opts, .errbuf = errbuf, .errlen = errlen, .rw = !s->read_only };
	if (c.rw) {
		int r = ist_store_write_internal(s, open_fn, &c);
		if (r && errbuf && errlen > 0 && errbuf[0] == '\0')
			ist_store_errf(errbuf, errlen, s->path, r, "cannot initialise the store: %s", ist_strerror(r));
		return r;
	}
	/* read-only: check in a read transaction, committed so that the
	 * database handles opened in it stay valid for the environment */
	struct ist_txn t = { .store = s };
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t.txn);
	if (rc != 0)
		return FAIL(&c, ist_store_lmdb_err(rc, "mdb_txn_begin"), "cannot read the store: %s", mdb_strerror(rc));
	int r = open_fn(&t, &c);
	if (r) {
		mdb_txn_abort(t.txn);
		return r;
	}
	rc = mdb_txn_commit(t.txn);
	if (rc != 0)
		return FAIL(&c, ist_store_lmdb_err(rc, "mdb_txn_commit"), "cannot read the store: %s", mdb_strerror(rc));
	return 0;
}
