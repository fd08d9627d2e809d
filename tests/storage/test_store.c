/* Unit tests of src/storage: open and versions, transactions, accessors,
 * map growth, route trees and proofs from LMDB. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "lib/ist_test.h"
#include "storage/attest.h"
#include "storage/blocks.h"
#include "storage/meta.h"
#include "storage/routes.h"
#include "storage/store.h"

/* ---- helpers ---- */

static char *tmp;    /* per-test directory */
static char *dbdir;  /* tmp/data/db: its parents do not exist yet */

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	tmp = ist_test_tmpdir("ist-store");
	ck_assert_int_gt(asprintf(&dbdir, "%s/data/db", tmp), 0);
}

static void teardown(void)
{
	ist_test_rmtree(tmp);
	free(tmp);
	free(dbdir);
}

static struct ist_store *open_ok(const struct ist_store_options *o)
{
	struct ist_store *s = NULL;
	char err[IST_STORE_ERRBUF_BYTES];
	int r = ist_store_open(dbdir, o, &s, err, sizeof(err));
	ck_assert_msg(r == 0, "open %s: %s (%s)", dbdir, ist_errname(r), err);
	return s;
}

/* Writes through a callback given as a list of puts. */
struct kv {
	enum ist_store_db db;
	const void *k;
	size_t klen;
	const void *v;
	size_t vlen;
};

struct puts {
	const struct kv *kv;
	size_t n;
	int calls;
};

static int puts_fn(struct ist_txn *txn, void *ctx)
{
	struct puts *p = ctx;
	p->calls++;
	for (size_t i = 0; i < p->n; i++) {
		int r = ist_store_put(txn, p->kv[i].db, p->kv[i].k, p->kv[i].klen, p->kv[i].v, p->kv[i].vlen);
		if (r)
			return r;
	}
	return 0;
}

static int put1(struct ist_store *s, enum ist_store_db db, const char *k, const char *v)
{
	struct kv kv = { db, k, strlen(k), v, strlen(v) };
	struct puts p = { &kv, 1, 0 };
	return ist_store_write(s, puts_fn, &p);
}

/* Reads a string value; returns a static copy or NULL when absent. */
static const char *get1(struct ist_store *s, enum ist_store_db db, const char *k)
{
	static char buf[256];
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	const uint8_t *v;
	size_t n;
	int r = ist_store_get(t, db, k, strlen(k), &v, &n);
	const char *ret = NULL;
	if (r == 0) {
		ck_assert_uint_lt(n, sizeof(buf));
		memcpy(buf, v, n);
		buf[n] = '\0';
		ret = buf;
	} else {
		ck_assert_int_eq(r, -IST_ENOTFOUND);
	}
	ist_store_read_end(t);
	return ret;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode & 0777;
}

/* A write transaction on the store's environment with raw LMDB, behind the
 * store's back (as an older or newer binary would write); the store must be
 * closed. End it with raw_commit. */
static MDB_txn *raw_begin(MDB_env **ret_env)
{
	MDB_txn *txn;
	ck_assert_int_eq(mdb_env_create(ret_env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(*ret_env, 32), 0);
	ck_assert_int_eq(mdb_env_open(*ret_env, dbdir, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(*ret_env, NULL, 0, &txn), 0);
	return txn;
}

static void raw_commit(MDB_env *env, MDB_txn *txn)
{
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Writes meta[key] = be32(v) with raw LMDB. */
static void raw_meta_u32(const char *key, uint32_t v)
{
	MDB_env *env;
	MDB_txn *txn = raw_begin(&env);
	MDB_dbi dbi;
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	uint8_t b[4];
	ist_put_be32(b, v);
	MDB_val k = { strlen(key), (void *)key }, d = { 4, b };
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &d, 0), 0);
	raw_commit(env, txn);
}

/* ---- open, files and versions ---- */

START_TEST(test_open_creates_private_files)
{
	umask(022);
	struct ist_store *s = open_ok(NULL);
	ck_assert_str_eq(ist_store_path(s), dbdir);
	char *data = NULL, *lock = NULL, *parent = NULL;
	ck_assert_int_gt(asprintf(&data, "%s/data.mdb", dbdir), 0);
	ck_assert_int_gt(asprintf(&lock, "%s/lock.mdb", dbdir), 0);
	ck_assert_int_gt(asprintf(&parent, "%s/data", tmp), 0);
	ck_assert_uint_eq(mode_of(dbdir), 0700);
	ck_assert_uint_eq(mode_of(parent), 0700); /* missing parents too */
	ck_assert_uint_eq(mode_of(data), 0600);
	ck_assert_uint_eq(mode_of(lock), 0600);
	free(lock);
	ck_assert_int_gt(asprintf(&lock, "%s/isthmus.lock", dbdir), 0);
	ck_assert_uint_eq(mode_of(lock), 0600);

	/* every database exists at version 1 and the schema is recorded */
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	uint32_t v;
	ck_assert_int_eq(ist_store_schema_version(t, &v), 0);
	ck_assert_uint_eq(v, IST_STORE_SCHEMA_VERSION);
	for (int i = 0; i < IST_STORE_DB_COUNT; i++) {
		ck_assert_int_eq(ist_store_db_version(t, (enum ist_store_db)i, &v), 0);
		ck_assert_uint_eq(v, 1);
		uint64_t n;
		ck_assert_int_eq(ist_store_count(t, (enum ist_store_db)i, &n), 0);
	}
	ist_store_read_end(t);
	ck_assert_str_eq(ist_store_db_name(IST_STORE_DB_SHARES), "shares");
	ck_assert_str_eq(ist_store_db_name(IST_STORE_DB_COUNT), "?");
	ist_store_close(s);
	free(data);
	free(lock);
	free(parent);
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(put1(s, IST_STORE_DB_ACCOUNTS, "alice", "100"), 0);
	ck_assert_int_eq(put1(s, IST_STORE_DB_EPOCHS, "e1", "set"), 0);
	ist_store_close(s);
	s = open_ok(NULL);
	ck_assert_str_eq(get1(s, IST_STORE_DB_ACCOUNTS, "alice"), "100");
	ck_assert_str_eq(get1(s, IST_STORE_DB_EPOCHS, "e1"), "set");
	ck_assert_ptr_null(get1(s, IST_STORE_DB_ACCOUNTS, "bob"));
	ist_store_close(s);
}
END_TEST

START_TEST(test_second_open_is_locked)
{
	struct ist_store *s = open_ok(NULL), *s2 = NULL;
	char err[IST_STORE_ERRBUF_BYTES];
	ck_assert_int_eq(ist_store_open(dbdir, NULL, &s2, err, sizeof(err)), -IST_EDB_LOCKED);
	ck_assert_ptr_null(s2);
	ck_assert_ptr_nonnull(strstr(err, dbdir));
	ck_assert_ptr_nonnull(strstr(err, "another process"));
	ist_store_close(s);
	/* released on close */
	s = open_ok(NULL);
	ist_store_close(s);
}
END_TEST

START_TEST(test_newer_schema_refuses)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(put1(s, IST_STORE_DB_ACCOUNTS, "alice", "100"), 0);
	ist_store_close(s);
	raw_meta_u32("schema", IST_STORE_SCHEMA_VERSION + 2);

	char err[IST_STORE_ERRBUF_BYTES], want[64];
	s = NULL;
	ck_assert_int_eq(ist_store_open(dbdir, NULL, &s, err, sizeof(err)), -IST_EDB_SCHEMA);
	ck_assert_ptr_null(s);
	/* one line naming the path and both versions */
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_msg(strncmp(err, dbdir, strlen(dbdir)) == 0, "message: %s", err);
	snprintf(want, sizeof(want), "schema version %d is newer than this binary supports (%d)",
		 IST_STORE_SCHEMA_VERSION + 2, IST_STORE_SCHEMA_VERSION);
	ck_assert_msg(strstr(err, want) != NULL, "message: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "upgrade isthmusd"));

	/* read-only too, and a refused open changed nothing */
	struct ist_store_options ro = { .read_only = true };
	ck_assert_int_eq(ist_store_open(dbdir, &ro, &s, err, sizeof(err)), -IST_EDB_SCHEMA);
	raw_meta_u32("schema", IST_STORE_SCHEMA_VERSION);
	s = open_ok(NULL);
	ck_assert_str_eq(get1(s, IST_STORE_DB_ACCOUNTS, "alice"), "100");
	ist_store_close(s);
}
END_TEST

START_TEST(test_newer_db_version_refuses)
{
	struct ist_store *s = open_ok(NULL);
	ist_store_close(s);
	raw_meta_u32("v/checkpoints", 7);
	char err[IST_STORE_ERRBUF_BYTES];
	ck_assert_int_eq(ist_store_open(dbdir, NULL, &s, err, sizeof(err)), -IST_EDB_SCHEMA);
	ck_assert_msg(strstr(err, dbdir) && strstr(err, "database checkpoints version 7 is newer than this binary "
						      "supports (1)"), "message: %s", err);
}
END_TEST

START_TEST(test_older_version_without_migration_refuses)
{
	/* version 0 predates every migration step: none exists, so refuse
	 * (and say so) rather than read a layout we do not know */
	struct ist_store *s = open_ok(NULL);
	ist_store_close(s);
	raw_meta_u32("v/blocks", 0);
	char err[IST_STORE_ERRBUF_BYTES];
	ck_assert_int_eq(ist_store_open(dbdir, NULL, &s, err, sizeof(err)), -IST_EDB_SCHEMA);
	ck_assert_msg(strstr(err, "database blocks version 0 is older") && strstr(err, "no migration"),
		      "message: %s", err);
	/* read-only cannot migrate either */
	struct ist_store_options ro = { .read_only = true };
	ck_assert_int_eq(ist_store_open(dbdir, &ro, &s, err, sizeof(err)), -IST_EDB_SCHEMA);
	ck_assert_msg(strstr(err, "read-write"), "message: %s", err);
}
END_TEST

START_TEST(test_missing_db_version_is_created)
{
	/* a database this binary added since the store was made: created */
	struct ist_store *s = open_ok(NULL);
	ist_store_close(s);
	MDB_env *env;
	MDB_txn *txn = raw_begin(&env);
	MDB_dbi dbi;
	ck_assert_int_eq(mdb_dbi_open(txn, "dkg", 0, &dbi), 0);
	ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	MDB_val k = { 5, "v/dkg" };
	ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
	raw_commit(env, txn);

	s = open_ok(NULL);
	ck_assert_int_eq(put1(s, IST_STORE_DB_DKG, "round", "1"), 0);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	uint32_t v;
	ck_assert_int_eq(ist_store_db_version(t, IST_STORE_DB_DKG, &v), 0);
	ck_assert_uint_eq(v, 1);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

START_TEST(test_not_a_store)
{
	char err[IST_STORE_ERRBUF_BYTES];
	struct ist_store *s = NULL;
	/* read-only where nothing exists */
	struct ist_store_options ro = { .read_only = true };
	ck_assert_int_eq(ist_store_open(dbdir, &ro, &s, err, sizeof(err)), -IST_ENOTFOUND);
	ck_assert_msg(strstr(err, dbdir) != NULL, "message: %s", err);

	/* garbage in data.mdb */
	ck_assert_int_eq(mkdir(tmp, 0700) == 0 || errno == EEXIST, 1);
	char *data = NULL;
	ck_assert_int_gt(asprintf(&data, "%s/data", tmp), 0);
	ck_assert_int_eq(mkdir(data, 0700), 0);
	ck_assert_int_eq(mkdir(dbdir, 0700), 0);
	free(data);
	ck_assert_int_gt(asprintf(&data, "%s/data.mdb", dbdir), 0);
	FILE *f = fopen(data, "wb");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 16384; i++)
		fputc(i * 7 + 3, f);
	fclose(f);
	free(data);
	int r = ist_store_open(dbdir, NULL, &s, err, sizeof(err));
	ck_assert_msg(r == -IST_EDB_CORRUPT, "got %s: %s", ist_errname(r), err);
	ck_assert_msg(strstr(err, dbdir) != NULL, "message: %s", err);

	/* a plain file where the directory should be */
	ck_assert_int_gt(asprintf(&data, "%s/file", tmp), 0);
	f = fopen(data, "w");
	fclose(f);
	ck_assert_int_lt(ist_store_open(data, NULL, &s, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, data) != NULL, "message: %s", err);
	free(data);
	ck_assert_int_eq(ist_store_open(NULL, NULL, &s, NULL, 0), -IST_EINVAL);
}
END_TEST

START_TEST(test_read_only)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(put1(s, IST_STORE_DB_VALIDATORS, "v1", "key"), 0);
	ist_store_close(s);
	struct ist_store_options ro = { .read_only = true };
	s = open_ok(&ro);
	ck_assert_str_eq(get1(s, IST_STORE_DB_VALIDATORS, "v1"), "key");
	ck_assert_int_eq(put1(s, IST_STORE_DB_VALIDATORS, "v2", "key"), -IST_EPERM);
	ist_store_close(s);
}
END_TEST

START_TEST(test_must_exist)
{
	struct ist_store_options me = { .must_exist = true };
	struct ist_store *s = NULL, *s2 = NULL;
	char err[IST_STORE_ERRBUF_BYTES];
	/* no store: refused, and nothing made (not even the directory) */
	ck_assert_int_eq(ist_store_open(dbdir, &me, &s, err, sizeof(err)), -IST_ENOTFOUND);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "no store here"));
	struct stat st;
	ck_assert_int_ne(stat(dbdir, &st), 0);
	/* an empty directory: refused, no lock file left in it */
	char *lock = NULL;
	ck_assert_int_gt(asprintf(&lock, "%s/data", tmp), 0);
	ck_assert_int_eq(mkdir(lock, 0700), 0);
	ck_assert_int_eq(mkdir(dbdir, 0700), 0);
	free(lock);
	ck_assert_int_eq(ist_store_open(dbdir, &me, &s, err, sizeof(err)), -IST_ENOTFOUND);
	ck_assert_int_gt(asprintf(&lock, "%s/isthmus.lock", dbdir), 0);
	ck_assert_int_ne(stat(lock, &st), 0);
	free(lock);
	/* an existing store: read-write, and it holds the lock */
	s = open_ok(NULL);
	ck_assert_int_eq(put1(s, IST_STORE_DB_VALIDATORS, "v1", "key"), 0);
	ck_assert_int_eq(ist_store_open(dbdir, &me, &s2, err, sizeof(err)), -IST_EDB_LOCKED);
	ist_store_close(s);
	s = open_ok(&me);
	ck_assert_str_eq(get1(s, IST_STORE_DB_VALIDATORS, "v1"), "key");
	ck_assert_int_eq(put1(s, IST_STORE_DB_VALIDATORS, "v2", "key"), 0);
	ck_assert_int_eq(ist_store_open(dbdir, NULL, &s2, err, sizeof(err)), -IST_EDB_LOCKED);
	ist_store_close(s);
}
END_TEST

static int set_genesis_fn(struct ist_txn *txn, void *ctx)
{
	return ist_store_genesis_set(txn, ctx);
}

START_TEST(test_genesis_and_chain_id_set_once)
{
	uint8_t g1[IST_HASH_BYTES], g2[IST_HASH_BYTES], got[IST_HASH_BYTES];
	ist_sha256("one", 3, g1);
	ist_sha256("two", 3, g2);
	struct ist_store_options o = { .genesis_hash32 = g1, .chain_id = (const uint8_t *)"isthmus-devnet",
				       .chain_id_len = 14 };
	struct ist_store *s = open_ok(&o);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	ck_assert_int_eq(ist_store_genesis_get(t, got), 0);
	ck_assert_mem_eq(got, g1, sizeof(g1));
	const uint8_t *id;
	size_t idlen;
	ck_assert_int_eq(ist_store_chain_id_get(t, &id, &idlen), 0);
	ck_assert_uint_eq(idlen, 14);
	ck_assert_mem_eq(id, "isthmus-devnet", 14);
	ist_store_read_end(t);
	/* set again: same value is fine, another refused */
	ck_assert_int_eq(ist_store_write(s, set_genesis_fn, g1), 0);
	ck_assert_int_eq(ist_store_write(s, set_genesis_fn, g2), -IST_EEXISTS);
	ist_store_close(s);

	/* the same genesis opens; no expectation opens; another refuses */
	s = open_ok(&o);
	ist_store_close(s);
	s = open_ok(NULL);
	ist_store_close(s);
	char err[IST_STORE_ERRBUF_BYTES];
	o.genesis_hash32 = g2;
	ck_assert_int_eq(ist_store_open(dbdir, &o, &s, err, sizeof(err)), -IST_ECONFIG);
	ck_assert_msg(strstr(err, dbdir) && strstr(err, "genesis"), "message: %s", err);
	char hex[17];
	ist_hex_encode(g1, 8, hex);
	ck_assert_msg(strstr(err, hex), "message names the recorded genesis: %s", err);
	o.genesis_hash32 = g1;
	o.chain_id = (const uint8_t *)"isthmus-main";
	o.chain_id_len = 12;
	ck_assert_int_eq(ist_store_open(dbdir, &o, &s, err, sizeof(err)), -IST_ECONFIG);
	ck_assert_msg(strstr(err, "\"isthmus-devnet\"") && strstr(err, "\"isthmus-main\""), "message: %s", err);

	/* a store opened without expectations gets the genesis later, once */
	teardown();
	setup();
	s = open_ok(NULL);
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	ck_assert_int_eq(ist_store_genesis_get(t, got), -IST_ENOTFOUND);
	ist_store_read_end(t);
	ck_assert_int_eq(ist_store_write(s, set_genesis_fn, g2), 0);
	ck_assert_int_eq(ist_store_write(s, set_genesis_fn, g1), -IST_EEXISTS);
	ist_store_close(s);
	o.genesis_hash32 = g2;
	o.chain_id = NULL;
	s = open_ok(&o);
	ist_store_close(s);
}
END_TEST

/* ---- accessors ---- */

struct acc_ctx {
	uint8_t id[3][IST_HASH_BYTES];
};

static int acc_write(struct ist_txn *txn, void *ctx)
{
	struct acc_ctx *c = ctx;
	int r = 0;
	for (int i = 0; i < 3 && !r; i++) {
		char blk[32];
		snprintf(blk, sizeof(blk), "block-%d", i);
		r = ist_store_block_put(txn, c->id[i], blk, strlen(blk));
		if (!r)
			r = ist_store_height_put(txn, (uint64_t)i * 300, c->id[i]);
		if (!r)
			r = ist_store_qc_put(txn, c->id[i], "qc", 2);
		if (!r)
			r = ist_store_certificate_put(txn, (uint64_t)i * 300, "cert", 4);
		if (!r)
			r = ist_store_share_put(txn, (uint64_t)i * 300, 7, "share", 5);
	}
	if (!r)
		r = ist_store_safety_put(txn, "safe", 4);
	/* checkpoints of three routes; route (1, 2) has sizes 5, 300, 256 */
	if (!r)
		r = ist_store_checkpoint_put(txn, 1, 2, 5, "c5", 2);
	if (!r)
		r = ist_store_checkpoint_put(txn, 1, 2, 300, "c300", 4);
	if (!r)
		r = ist_store_checkpoint_put(txn, 1, 2, 256, "c256", 4);
	if (!r)
		r = ist_store_checkpoint_put(txn, 1, 3, 1, "x", 1);
	if (!r)
		r = ist_store_checkpoint_put(txn, 0, 9, 1000, "y", 1);
	return r;
}

START_TEST(test_typed_accessors_roundtrip)
{
	struct ist_store *s = open_ok(NULL);
	struct acc_ctx c;
	for (int i = 0; i < 3; i++)
		ist_sha256(&i, sizeof(i), c.id[i]);
	ck_assert_int_eq(ist_store_write(s, acc_write, &c), 0);

	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	const uint8_t *v;
	size_t n;
	uint8_t id[IST_HASH_BYTES];
	ck_assert_int_eq(ist_store_block_get(t, c.id[1], &v, &n), 0);
	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(v, "block-1", 7);
	ck_assert_int_eq(ist_store_height_get(t, 600, id), 0);
	ck_assert_mem_eq(id, c.id[2], IST_HASH_BYTES);
	ck_assert_int_eq(ist_store_height_get(t, 601, id), -IST_ENOTFOUND);
	uint64_t h;
	ck_assert_int_eq(ist_store_height_last(t, &h, id), 0);
	ck_assert_uint_eq(h, 600);
	ck_assert_mem_eq(id, c.id[2], IST_HASH_BYTES);
	ck_assert_int_eq(ist_store_qc_get(t, c.id[0], &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(ist_store_safety_get(t, &v, &n), 0);
	ck_assert_mem_eq(v, "safe", 4);
	ck_assert_int_eq(ist_store_certificate_get(t, 300, &v, &n), 0);
	ck_assert_mem_eq(v, "cert", 4);
	ck_assert_int_eq(ist_store_certificate_get(t, 301, &v, &n), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_share_get(t, 300, 7, &v, &n), 0);
	ck_assert_mem_eq(v, "share", 5);
	ck_assert_int_eq(ist_store_share_get(t, 300, 8, &v, &n), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_checkpoint_get(t, 1, 2, 256, &v, &n), 0);
	ck_assert_mem_eq(v, "c256", 4);
	uint64_t ts;
	ck_assert_int_eq(ist_store_checkpoint_last(t, 1, 2, &ts, &v, &n), 0);
	ck_assert_uint_eq(ts, 300);
	ck_assert_mem_eq(v, "c300", 4);
	ck_assert_int_eq(ist_store_checkpoint_last(t, 1, 3, &ts, &v, &n), 0);
	ck_assert_uint_eq(ts, 1);
	ck_assert_int_eq(ist_store_checkpoint_last(t, 0, 9, &ts, &v, &n), 0);
	ck_assert_uint_eq(ts, 1000);
	ck_assert_int_eq(ist_store_checkpoint_last(t, 1, 1, &ts, &v, &n), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_checkpoint_last(t, 2, 0, &ts, &v, &n), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_checkpoint_last(t, 0, 8, &ts, &v, &n), -IST_ENOTFOUND);
	/* the first checkpoint at or above a size, within the route only */
	ck_assert_int_eq(ist_store_checkpoint_next(t, 1, 2, 6, &ts, &v, &n), 0);
	ck_assert_uint_eq(ts, 256);
	ck_assert_mem_eq(v, "c256", 4);
	ck_assert_int_eq(ist_store_checkpoint_next(t, 1, 2, 5, &ts, &v, &n), 0);
	ck_assert_uint_eq(ts, 5);
	ck_assert_int_eq(ist_store_checkpoint_next(t, 1, 2, 301, &ts, &v, &n), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_checkpoint_next(t, 1, 3, 2, &ts, &v, &n), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_checkpoint_next(t, 0, 8, 0, &ts, &v, &n), -IST_ENOTFOUND);
	/* writes in a read transaction are refused */
	ck_assert_int_eq(ist_store_safety_put(t, "x", 1), -IST_EINVAL);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

static int generic_fn(struct ist_txn *txn, void *ctx)
{
	(void)ctx;
	uint8_t big[IST_STORE_KEY_MAX + 1] = { 0 };
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_EVIDENCE, big, sizeof(big), "v", 1), -IST_EINVAL);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_EVIDENCE, big, 0, "v", 1), -IST_EINVAL);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_COUNT, "k", 1, "v", 1), -IST_EINVAL);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_EVIDENCE, big, IST_STORE_KEY_MAX, "max", 3), 0);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_EVIDENCE, "empty", 5, NULL, 0), 0);
	ck_assert_int_eq(ist_store_insert(txn, IST_STORE_DB_EVIDENCE, "a", 1, "1", 1), 0);
	ck_assert_int_eq(ist_store_insert(txn, IST_STORE_DB_EVIDENCE, "a", 1, "2", 1), -IST_EEXISTS);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_EVIDENCE, "b", 1, "2", 1), 0);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_EVIDENCE, "b", 1, "3", 1), 0);
	ck_assert_int_eq(ist_store_del(txn, IST_STORE_DB_EVIDENCE, "c", 1), -IST_ENOTFOUND);
	/* the version keys belong to the store */
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_META, "schema", 6, "x", 1), -IST_EINVAL);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_META, "v/blocks", 8, "x", 1), -IST_EINVAL);
	ck_assert_int_eq(ist_store_del(txn, IST_STORE_DB_META, "schema", 6), -IST_EINVAL);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_META, "note", 4, "x", 1), 0);
	/* a write is visible to its own transaction */
	const uint8_t *v;
	size_t n;
	ck_assert_int_eq(ist_store_get(txn, IST_STORE_DB_EVIDENCE, "b", 1, &v, &n), 0);
	ck_assert_mem_eq(v, "3", 1);
	return 0;
}

static int heights_index_fn(struct ist_txn *txn, void *ctx)
{
	(void)ctx;
	static const uint8_t hash[IST_HASH_BYTES] = { 7 };
	int r = ist_store_route_height_put(txn, 1, 2, 10, 3);
	if (!r)
		r = ist_store_route_height_put(txn, 1, 2, 12, 5);
	if (!r)
		r = ist_store_route_height_put(txn, 1, 3, 11, 1);
	if (!r)
		r = ist_store_chain_cursor_put(txn, 1, 12, hash);
	return r;
}

/* The route's size at any source height, and a chain's watch cursor. */
START_TEST(test_route_heights_and_cursor)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(ist_store_write(s, heights_index_fn, NULL), 0);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	static const struct { uint64_t src, dst, height, size; } want[] = {
		{ 1, 2, 9, 0 }, { 1, 2, 10, 3 }, { 1, 2, 11, 3 }, { 1, 2, 12, 5 }, { 1, 2, 1000, 5 },
		{ 1, 3, 10, 0 }, { 1, 3, 11, 1 }, { 2, 1, 50, 0 },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(want); i++) {
		uint64_t size = 99;
		ck_assert_int_eq(ist_store_route_size_at(t, want[i].src, want[i].dst, want[i].height, &size), 0);
		ck_assert_msg(size == want[i].size, "route %llu->%llu at %llu: size %llu, want %llu",
			      (unsigned long long)want[i].src, (unsigned long long)want[i].dst,
			      (unsigned long long)want[i].height, (unsigned long long)size,
			      (unsigned long long)want[i].size);
	}
	uint64_t h;
	uint8_t hash[IST_HASH_BYTES];
	ck_assert_int_eq(ist_store_chain_cursor_get(t, 1, &h, hash), 0);
	ck_assert_uint_eq(h, 12);
	ck_assert_uint_eq(hash[0], 7);
	ck_assert_int_eq(ist_store_chain_cursor_get(t, 2, &h, hash), -IST_ENOTFOUND);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

/* Leaves as an older binary appended them: messages "v=N" (the value as
 * text), heights 10 (leaves 0, 1) and 12 (leaf 2), no leaf facts. */
static int old_leaves_fn(struct ist_txn *txn, void *ctx)
{
	(void)ctx;
	static const char *msgs[] = { "v=3", "v=4", "v=10" };
	static const uint64_t heights[] = { 10, 10, 12 };
	int r = 0;
	for (uint64_t i = 0; i < 3 && r == 0; i++) {
		uint8_t leaf[IST_HASH_BYTES] = { (uint8_t)(i + 1) };
		r = ist_store_route_leaf_append(txn, 1, 2, leaf, msgs[i], strlen(msgs[i]), NULL);
		if (r == 0)
			r = ist_store_route_height_put(txn, 1, 2, heights[i], i + 1);
	}
	return r;
}

static int text_value(void *ctx, const uint8_t *msg, size_t len, uint64_t *ret)
{
	(void)ctx;
	if (len < 3 || memcmp(msg, "v=", 2) != 0)
		return -IST_EDB_CORRUPT;
	*ret = strtoull((const char *)msg + 2, NULL, 10);
	return 0;
}

static uint64_t filled;

static int backfill_fn(struct ist_txn *txn, void *ctx)
{
	(void)ctx;
	return ist_store_route_meta_backfill(txn, 1, 2, text_value, NULL, &filled);
}

static int new_leaf_fn(struct ist_txn *txn, void *ctx)
{
	(void)ctx;
	uint8_t leaf[IST_HASH_BYTES] = { 9 };
	uint64_t idx;
	int r = ist_store_route_leaf_append(txn, 1, 2, leaf, "v=1", 3, &idx);
	if (r == 0)
		r = ist_store_route_meta_put(txn, 1, 2, idx, 15, 1);
	return r;
}

/* The route limits' leaf facts: written for an older store's leaves once
 * (heights from the size records, values from the messages, running sums),
 * then appended one by one; a leaf after a missing one is refused. */
START_TEST(test_route_leaf_facts)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(ist_store_write(s, old_leaves_fn, NULL), 0);
	/* a new leaf cannot follow leaves without facts */
	ck_assert_int_eq(ist_store_write(s, new_leaf_fn, NULL), -IST_EDB_CORRUPT);
	ck_assert_int_eq(ist_store_write(s, backfill_fn, NULL), 0);
	ck_assert_uint_eq(filled, 3);
	ck_assert_int_eq(ist_store_write(s, backfill_fn, NULL), 0);
	ck_assert_uint_eq(filled, 0);   /* once */
	ck_assert_int_eq(ist_store_write(s, new_leaf_fn, NULL), 0);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	static const struct { uint64_t height, value, cum; } want[] = {
		{ 10, 3, 3 }, { 10, 4, 7 }, { 12, 10, 17 }, { 15, 1, 18 },
	};
	for (uint64_t i = 0; i < 4; i++) {
		struct ist_store_leaf_meta m;
		ck_assert_int_eq(ist_store_route_meta_get(t, 1, 2, i, &m), 0);
		ck_assert_uint_eq(m.height, want[i].height);
		ck_assert_uint_eq(m.value, want[i].value);
		ck_assert_uint_eq((uint64_t)m.cum_value, want[i].cum);
	}
	struct ist_store_leaf_meta m;
	ck_assert_int_eq(ist_store_route_meta_get(t, 1, 2, 4, &m), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_route_meta_get(t, 2, 1, 0, &m), -IST_ENOTFOUND);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

START_TEST(test_generic_put_get_del)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(ist_store_write(s, generic_fn, NULL), 0);
	ck_assert_str_eq(get1(s, IST_STORE_DB_EVIDENCE, "a"), "1");
	ck_assert_str_eq(get1(s, IST_STORE_DB_EVIDENCE, "b"), "3");
	ck_assert_str_eq(get1(s, IST_STORE_DB_EVIDENCE, "empty"), "");
	ck_assert_str_eq(get1(s, IST_STORE_DB_META, "note"), "x");
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	uint64_t cnt;
	ck_assert_int_eq(ist_store_count(t, IST_STORE_DB_EVIDENCE, &cnt), 0);
	ck_assert_uint_eq(cnt, 4);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

static int abort_fn(struct ist_txn *txn, void *ctx)
{
	(void)ctx;
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_ACCOUNTS, "x", 1, "1", 1), 0);
	ck_assert_int_eq(ist_store_put(txn, IST_STORE_DB_SAFETY, "y", 1, "1", 1), 0);
	return -IST_ESTATE;
}

static int del_fn(struct ist_txn *txn, void *ctx)
{
	return ist_store_del(txn, IST_STORE_DB_ACCOUNTS, ctx, strlen(ctx));
}

START_TEST(test_failed_callback_writes_nothing)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(ist_store_write(s, abort_fn, NULL), -IST_ESTATE);
	ck_assert_ptr_null(get1(s, IST_STORE_DB_ACCOUNTS, "x"));
	ck_assert_ptr_null(get1(s, IST_STORE_DB_SAFETY, "y"));
	ck_assert_int_eq(put1(s, IST_STORE_DB_ACCOUNTS, "z", "1"), 0);
	ck_assert_int_eq(ist_store_write(s, del_fn, "z"), 0);
	ck_assert_ptr_null(get1(s, IST_STORE_DB_ACCOUNTS, "z"));
	ck_assert_int_eq(ist_store_write(s, del_fn, "z"), -IST_ENOTFOUND);
	ist_store_close(s);
}
END_TEST

/* ---- order, cursors, snapshots ---- */

static int heights_fn(struct ist_txn *txn, void *ctx)
{
	const uint64_t *hs = ctx;
	uint8_t id[IST_HASH_BYTES] = { 0 };
	for (int i = 0; hs[i] != UINT64_MAX; i++) {
		ist_put_be64(id, hs[i]);
		int r = ist_store_height_put(txn, hs[i], id);
		if (r)
			return r;
	}
	return 0;
}

START_TEST(test_u64_keys_in_numeric_order)
{
	/* little-endian or textual keys would sort 256 before 2 */
	static const uint64_t hs[] = { 256, 2, 1ull << 32, 255, 0, 65536, 1, UINT64_MAX - 1, 1ull << 40, 257,
				       UINT64_MAX };
	static const uint64_t sorted[] = { 0, 1, 2, 255, 256, 257, 65536, 1ull << 32, 1ull << 40, UINT64_MAX - 1 };
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(ist_store_write(s, heights_fn, (void *)hs), 0);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	struct ist_store_cursor *cur;
	ck_assert_int_eq(ist_store_cursor_open(t, IST_STORE_DB_HEIGHTS, &cur), 0);
	const uint8_t *k, *v;
	size_t kn, vn;
	size_t i = 0;
	while (ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &k, &kn, &v, &vn) == 0) {
		ck_assert_uint_lt(i, IST_ARRAY_SIZE(sorted));
		ck_assert_uint_eq(kn, 8);
		ck_assert_uint_eq(ist_get_be64(k), sorted[i]);
		ck_assert_uint_eq(ist_get_be64(v), sorted[i]);
		i++;
	}
	ck_assert_uint_eq(i, IST_ARRAY_SIZE(sorted));
	/* and backwards, and the seeks */
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_LAST, NULL, 0, &k, &kn, NULL, NULL), 0);
	ck_assert_uint_eq(ist_get_be64(k), UINT64_MAX - 1);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_PREV, NULL, 0, &k, &kn, NULL, NULL), 0);
	ck_assert_uint_eq(ist_get_be64(k), 1ull << 40);
	uint8_t q[8];
	ist_store_key_u64(q, 300);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_SEEK_GE, q, 8, &k, &kn, NULL, NULL), 0);
	ck_assert_uint_eq(ist_get_be64(k), 65536);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_SEEK_LE, q, 8, &k, &kn, NULL, NULL), 0);
	ck_assert_uint_eq(ist_get_be64(k), 257);
	ist_store_key_u64(q, 256);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_SEEK_LE, q, 8, &k, &kn, NULL, NULL), 0);
	ck_assert_uint_eq(ist_get_be64(k), 256);
	ist_store_key_u64(q, UINT64_MAX);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_SEEK_GE, q, 8, &k, &kn, NULL, NULL), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_SEEK_LE, q, 8, &k, &kn, NULL, NULL), 0);
	ck_assert_uint_eq(ist_get_be64(k), UINT64_MAX - 1);
	ist_store_cursor_close(cur);

	/* an empty database */
	ck_assert_int_eq(ist_store_cursor_open(t, IST_STORE_DB_DKG, &cur), 0);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_FIRST, NULL, 0, &k, &kn, NULL, NULL), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_store_cursor_get(cur, IST_STORE_SEEK_LE, q, 8, &k, &kn, NULL, NULL), -IST_ENOTFOUND);
	ist_store_cursor_close(cur);
	uint64_t h;
	ck_assert_int_eq(ist_store_height_last(t, &h, NULL), 0);
	ck_assert_uint_eq(h, UINT64_MAX - 1);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

struct writer_arg {
	struct ist_store *s;
	int result;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	a->result = put1(a->s, IST_STORE_DB_ACCOUNTS, "alice", "after");
	return NULL;
}

START_TEST(test_read_txn_is_a_snapshot)
{
	struct ist_store *s = open_ok(NULL);
	ck_assert_int_eq(put1(s, IST_STORE_DB_ACCOUNTS, "alice", "before"), 0);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);

	/* the writer is another thread (the node's writer thread) */
	struct writer_arg a = { s, -1 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, writer_thread, &a), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(a.result, 0);

	const uint8_t *v;
	size_t n;
	ck_assert_int_eq(ist_store_get(t, IST_STORE_DB_ACCOUNTS, "alice", 5, &v, &n), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(v, "before", 6);
	ist_store_read_end(t);
	ck_assert_str_eq(get1(s, IST_STORE_DB_ACCOUNTS, "alice"), "after");
	ist_store_close(s);
}
END_TEST

/* ---- map growth ---- */

#define GROW_VAL 4000

struct batch {
	uint32_t no;     /* batch number */
	uint32_t keys;   /* keys in the batch */
	int calls;
};

static void batch_val(uint8_t *v, uint32_t no, uint32_t i)
{
	for (size_t j = 0; j < GROW_VAL; j++)
		v[j] = (uint8_t)(no * 131 + i * 7 + j);
}

static int batch_fn(struct ist_txn *txn, void *ctx)
{
	struct batch *b = ctx;
	b->calls++;
	static uint8_t v[GROW_VAL];
	for (uint32_t i = 0; i < b->keys; i++) {
		uint8_t k[8];
		ist_put_be32(k, b->no);
		ist_put_be32(k + 4, i);
		batch_val(v, b->no, i);
		int r = ist_store_put(txn, IST_STORE_DB_EVIDENCE, k, sizeof(k), v, sizeof(v));
		if (r)
			return r;
	}
	return 0;
}

/* Checks batch `no`: all its keys with their values, or none of them. */
static void check_batch(struct ist_txn *t, uint32_t no, uint32_t keys, bool present)
{
	static uint8_t want[GROW_VAL];
	for (uint32_t i = 0; i < keys; i++) {
		uint8_t k[8];
		ist_put_be32(k, no);
		ist_put_be32(k + 4, i);
		const uint8_t *v;
		size_t n;
		int r = ist_store_get(t, IST_STORE_DB_EVIDENCE, k, sizeof(k), &v, &n);
		if (!present) {
			ck_assert_msg(r == -IST_ENOTFOUND, "batch %u key %u of a failed write is visible", no, i);
			continue;
		}
		ck_assert_msg(r == 0, "batch %u key %u: %s", no, i, ist_errname(r));
		batch_val(want, no, i);
		ck_assert_uint_eq(n, GROW_VAL);
		ck_assert_mem_eq(v, want, GROW_VAL);
	}
}

START_TEST(test_map_grows_then_fills)
{
	struct ist_store_options o = { .map_size = 64 << 10, .map_size_max = 6 << 20 };
	struct ist_store *s = open_ok(&o);
	struct ist_store_stat st0, st;
	ck_assert_int_eq(ist_store_stat(s, &st0), 0);
	ck_assert_uint_eq(st0.map_bytes, 64 << 10);
	ck_assert_uint_eq(st0.map_max_bytes, 6 << 20);
	ck_assert_uint_gt(st0.page_size, 0);

	/* ~3 MiB in batches of 64 KiB: the map must grow several times */
	uint32_t no = 0;
	int retried = 0;
	for (; no < 48; no++) {
		struct batch b = { no, 16, 0 };
		int r = ist_store_write(s, batch_fn, &b);
		ck_assert_msg(r == 0, "batch %u: %s", no, ist_errname(r));
		if (b.calls > 1)
			retried++; /* the callback ran again after a growth */
	}
	ck_assert_int_eq(ist_store_stat(s, &st), 0);
	ck_assert_uint_gt(st.map_bytes, st0.map_bytes);
	ck_assert_uint_le(st.map_bytes, 6 << 20);
	ck_assert_uint_gt(st.grow_count, 3);
	ck_assert_int_gt(retried, 0);
	ck_assert_uint_ge(st.used_bytes, 48ull * 16 * GROW_VAL);
	ck_assert_uint_le(st.used_bytes, st.map_bytes);

	/* beyond the maximum: -IST_EDB_FULL, the failing batch invisible */
	int r = 0;
	for (; no < 400 && r == 0; no++) {
		struct batch b = { no, 16, 0 };
		r = ist_store_write(s, batch_fn, &b);
	}
	ck_assert_int_eq(r, -IST_EDB_FULL);
	uint32_t failed = no - 1;
	ck_assert_int_eq(ist_store_stat(s, &st), 0);
	ck_assert_uint_eq(st.map_bytes, 6 << 20);

	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	for (uint32_t i = 0; i < failed; i++)
		check_batch(t, i, 16, true);
	check_batch(t, failed, 16, false);
	uint64_t cnt;
	ck_assert_int_eq(ist_store_count(t, IST_STORE_DB_EVIDENCE, &cnt), 0);
	ck_assert_uint_eq(cnt, (uint64_t)failed * 16);
	ist_store_read_end(t);

	/* still usable: a small write fits (or fails cleanly), reads work */
	r = put1(s, IST_STORE_DB_META, "after", "full");
	ck_assert(r == 0 || r == -IST_EDB_FULL);
	ist_store_close(s);

	/* reopened with a tiny initial map, the store keeps its size and data */
	s = open_ok(&o);
	ck_assert_int_eq(ist_store_stat(s, &st), 0);
	ck_assert_uint_eq(st.map_bytes, 6 << 20);
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	check_batch(t, 0, 16, true);
	check_batch(t, failed - 1, 16, true);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

START_TEST(test_one_huge_batch_grows_in_steps)
{
	/* one transaction larger than several doublings at once */
	struct ist_store_options o = { .map_size = 64 << 10, .map_size_max = 32 << 20 };
	struct ist_store *s = open_ok(&o);
	struct batch b = { 1, 600, 0 }; /* ~2.4 MB */
	ck_assert_int_eq(ist_store_write(s, batch_fn, &b), 0);
	ck_assert_int_gt(b.calls, 3);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	check_batch(t, 1, 600, true);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

/* ---- route trees and proofs from LMDB ---- */

#define ROUTE_N 70

struct route_ctx {
	uint8_t leaves[ROUTE_N][IST_HASH_BYTES];
	uint32_t from, to;
};

static void route_leaf(uint64_t src, uint32_t i, uint8_t out[IST_HASH_BYTES])
{
	uint8_t id[IST_HASH_BYTES];
	uint8_t in[12];
	ist_put_be64(in, src);
	ist_put_be32(in + 8, i);
	ist_sha256(in, sizeof(in), id);
	ist_merkle_leaf_hash(id, sizeof(id), out);
}

static int route_fn(struct ist_txn *txn, void *ctx)
{
	struct route_ctx *c = ctx;
	for (uint32_t i = c->from; i < c->to; i++) {
		/* interleave two routes: (1, 2) holds the leaves under test */
		uint64_t idx;
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "message %u", i);
		int r = ist_store_route_leaf_append(txn, 1, 2, c->leaves[i], msg, (size_t)n, &idx);
		if (r)
			return r;
		ck_assert_uint_eq(idx, i);
		uint8_t other[IST_HASH_BYTES];
		route_leaf(2, i, other);
		r = ist_store_route_leaf_append(txn, 2, 1, other, NULL, 0, NULL);
		if (r)
			return r;
	}
	return 0;
}

/* The cache-less view of the same route: proofs computed from leaves only. */
static int leaf_only(void *ctx, uint64_t index, uint8_t out32[IST_HASH_BYTES])
{
	struct ist_store_route_source *rs = ctx;
	return rs->source.leaf(rs, index, out32);
}

START_TEST(test_route_proofs_match_memory)
{
	struct ist_store_options o = { .map_size = 64 << 10 };
	struct ist_store *s = open_ok(&o);
	struct route_ctx c;
	for (uint32_t i = 0; i < ROUTE_N; i++)
		route_leaf(1, i, c.leaves[i]);
	/* in several transactions, so the frontier is read back from LMDB */
	for (uint32_t from = 0; from < ROUTE_N; from += 23) {
		c.from = from;
		c.to = IST_MIN(from + 23, (uint32_t)ROUTE_N);
		ck_assert_int_eq(ist_store_write(s, route_fn, &c), 0);
	}

	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	uint64_t size;
	ck_assert_int_eq(ist_store_route_size(t, 1, 2, &size), 0);
	ck_assert_uint_eq(size, ROUTE_N);
	ck_assert_int_eq(ist_store_route_size(t, 9, 9, &size), 0);
	ck_assert_uint_eq(size, 0);
	uint8_t root[IST_HASH_BYTES], want[IST_HASH_BYTES];
	ck_assert_int_eq(ist_store_route_root(t, 1, 2, &size, root), 0);
	ck_assert_int_eq(ist_merkle_root(c.leaves, ROUTE_N, want), 0);
	ck_assert_mem_eq(root, want, IST_HASH_BYTES);
	ck_assert_int_eq(ist_store_route_root(t, 9, 9, &size, root), 0);
	ck_assert_int_eq(ist_merkle_root(NULL, 0, want), 0);
	ck_assert_mem_eq(root, want, IST_HASH_BYTES);

	uint8_t leaf[IST_HASH_BYTES];
	ck_assert_int_eq(ist_store_route_leaf_get(t, 1, 2, 69, leaf), 0);
	ck_assert_mem_eq(leaf, c.leaves[69], IST_HASH_BYTES);
	ck_assert_int_eq(ist_store_route_leaf_get(t, 1, 2, ROUTE_N, leaf), -IST_ENOTFOUND);
	const uint8_t *msg;
	size_t mlen;
	ck_assert_int_eq(ist_store_route_message_get(t, 1, 2, 42, &msg, &mlen), 0);
	ck_assert_uint_eq(mlen, 10);
	ck_assert_mem_eq(msg, "message 42", 10);
	ck_assert_int_eq(ist_store_route_message_get(t, 2, 1, 42, &msg, &mlen), 0);
	ck_assert_uint_eq(mlen, 0);

	struct ist_store_route_source rs;
	ist_store_route_source_init(&rs, t, 1, 2);
	struct ist_merkle_source bare = { .leaf = leaf_only, .subtree = NULL, .ctx = &rs };
	uint8_t p1[IST_MERKLE_MAX_CONSISTENCY][IST_HASH_BYTES], p2[IST_MERKLE_MAX_CONSISTENCY][IST_HASH_BYTES];
	uint8_t p3[IST_MERKLE_MAX_CONSISTENCY][IST_HASH_BYTES];
	size_t l1, l2, l3;
	for (uint64_t n = 1; n <= ROUTE_N; n++) {
		ck_assert_int_eq(ist_merkle_source_root(&rs.source, n, root), 0);
		ck_assert_int_eq(ist_merkle_root(c.leaves, n, want), 0);
		ck_assert_mem_eq(root, want, IST_HASH_BYTES);
		for (uint64_t i = 0; i < n; i++) {
			ck_assert_int_eq(ist_merkle_source_inclusion_proof(&rs.source, n, i, p1, &l1), 0);
			ck_assert_int_eq(ist_merkle_inclusion_proof(c.leaves, n, i, p2, &l2), 0);
			ck_assert_int_eq(ist_merkle_source_inclusion_proof(&bare, n, i, p3, &l3), 0);
			ck_assert_uint_eq(l1, l2);
			ck_assert_uint_eq(l3, l2);
			ck_assert_mem_eq(p1, p2, l1 * IST_HASH_BYTES);
			ck_assert_mem_eq(p3, p2, l1 * IST_HASH_BYTES);
			ck_assert(ist_merkle_verify_inclusion(c.leaves[i], i, n, (const uint8_t (*)[IST_HASH_BYTES])p1,
							      l1, want));
		}
		for (uint64_t m = 1; m <= n; m++) {
			ck_assert_int_eq(ist_merkle_source_consistency_proof(&rs.source, m, n, p1, &l1), 0);
			ck_assert_int_eq(ist_merkle_consistency_proof(c.leaves, m, n, p2, &l2), 0);
			ck_assert_uint_eq(l1, l2);
			ck_assert_mem_eq(p1, p2, l1 * IST_HASH_BYTES);
		}
	}
	/* beyond the route's size the source says not found */
	ck_assert_int_eq(ist_merkle_source_root(&rs.source, ROUTE_N + 1, root), -IST_ENOTFOUND);

	/* the persisted frontier is the in-memory one */
	struct ist_merkle_frontier f, g;
	ck_assert_int_eq(ist_store_route_frontier(t, 1, 2, &f), 0);
	ist_merkle_frontier_init(&g);
	for (uint32_t i = 0; i < ROUTE_N; i++)
		ck_assert_int_eq(ist_merkle_frontier_append(&g, c.leaves[i]), 0);
	ck_assert_uint_eq(f.size, g.size);
	ck_assert_mem_eq(&f, &g, sizeof(f));
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

/* A read transaction keeps its view of the route while leaves are added. */
struct route_writer {
	struct ist_store *s;
	struct route_ctx *c;
	int result;
};

static void *route_writer_thread(void *p)
{
	struct route_writer *w = p;
	w->result = ist_store_write(w->s, route_fn, w->c);
	return NULL;
}

START_TEST(test_route_proof_from_old_snapshot)
{
	struct ist_store *s = open_ok(NULL);
	struct route_ctx c;
	for (uint32_t i = 0; i < ROUTE_N; i++)
		route_leaf(1, i, c.leaves[i]);
	c.from = 0;
	c.to = 13;
	ck_assert_int_eq(ist_store_write(s, route_fn, &c), 0);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);

	/* the writer thread appends up to ROUTE_N meanwhile */
	c.from = 13;
	c.to = ROUTE_N;
	struct route_writer w = { s, &c, -1 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, route_writer_thread, &w), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(w.result, 0);

	uint64_t size;
	ck_assert_int_eq(ist_store_route_size(t, 1, 2, &size), 0);
	ck_assert_uint_eq(size, 13);
	struct ist_store_route_source rs;
	ist_store_route_source_init(&rs, t, 1, 2);
	uint8_t root[IST_HASH_BYTES], want[IST_HASH_BYTES];
	ck_assert_int_eq(ist_merkle_source_root(&rs.source, 13, root), 0);
	ck_assert_int_eq(ist_merkle_root(c.leaves, 13, want), 0);
	ck_assert_mem_eq(root, want, IST_HASH_BYTES);
	ck_assert_int_eq(ist_merkle_source_root(&rs.source, 14, root), -IST_ENOTFOUND);
	ist_store_read_end(t);

	/* a new snapshot sees everything */
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);
	ist_store_route_source_init(&rs, t, 1, 2);
	ck_assert_int_eq(ist_merkle_source_root(&rs.source, ROUTE_N, root), 0);
	ck_assert_int_eq(ist_merkle_root(c.leaves, ROUTE_N, want), 0);
	ck_assert_mem_eq(root, want, IST_HASH_BYTES);
	ist_store_read_end(t);
	ist_store_close(s);
}
END_TEST

/* ---- readers on other threads while the map grows ---- */

struct reader_arg {
	struct ist_store *s;
	int done;      /* __atomic */
	int failures;
	unsigned reads;
};

static void *reader_thread(void *p)
{
	struct reader_arg *a = p;
	uint8_t want[GROW_VAL];
	uint8_t k[8];
	ist_put_be32(k, 0);
	ist_put_be32(k + 4, 3);
	while (!__atomic_load_n(&a->done, __ATOMIC_ACQUIRE)) {
		struct ist_txn *t;
		if (ist_store_read_begin(a->s, &t) != 0) {
			a->failures++;
			break;
		}
		const uint8_t *v;
		size_t n;
		int r = ist_store_get(t, IST_STORE_DB_EVIDENCE, k, sizeof(k), &v, &n);
		if (r == 0) {
			batch_val(want, 0, 3);
			/* read the borrowed bytes: a remap under an open
			 * reader would fault here (or ASan would) */
			if (n != GROW_VAL || memcmp(v, want, GROW_VAL) != 0)
				a->failures++;
		} else if (r != -IST_ENOTFOUND) {
			a->failures++;
		}
		ist_store_read_end(t);
		a->reads++;
	}
	return NULL;
}

START_TEST(test_growth_with_concurrent_readers)
{
	struct ist_store_options o = { .map_size = 64 << 10, .map_size_max = 64 << 20 };
	struct ist_store *s = open_ok(&o);
	struct reader_arg a[2] = { { .s = s }, { .s = s } };
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, reader_thread, &a[i]), 0);
	for (uint32_t no = 0; no < 40; no++) {
		struct batch b = { no, 16, 0 };
		ck_assert_int_eq(ist_store_write(s, batch_fn, &b), 0);
	}
	for (int i = 0; i < 2; i++) {
		__atomic_store_n(&a[i].done, 1, __ATOMIC_RELEASE);
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(a[i].failures, 0);
	}
	struct ist_store_stat st;
	ck_assert_int_eq(ist_store_stat(s, &st), 0);
	ck_assert_uint_gt(st.grow_count, 3);
	ist_store_close(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("storage");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_creates_private_files);
	tcase_add_test(tc, test_reopen_keeps_data);
	tcase_add_test(tc, test_second_open_is_locked);
	tcase_add_test(tc, test_newer_schema_refuses);
	tcase_add_test(tc, test_newer_db_version_refuses);
	tcase_add_test(tc, test_older_version_without_migration_refuses);
	tcase_add_test(tc, test_missing_db_version_is_created);
	tcase_add_test(tc, test_not_a_store);
	tcase_add_test(tc, test_read_only);
	tcase_add_test(tc, test_must_exist);
	tcase_add_test(tc, test_genesis_and_chain_id_set_once);
	tcase_add_test(tc, test_typed_accessors_roundtrip);
	tcase_add_test(tc, test_route_heights_and_cursor);
	tcase_add_test(tc, test_route_leaf_facts);
	tcase_add_test(tc, test_generic_put_get_del);
	tcase_add_test(tc, test_failed_callback_writes_nothing);
	tcase_add_test(tc, test_u64_keys_in_numeric_order);
	tcase_add_test(tc, test_read_txn_is_a_snapshot);
	tcase_add_test(tc, test_map_grows_then_fills);
	tcase_add_test(tc, test_one_huge_batch_grows_in_steps);
	tcase_add_test(tc, test_route_proofs_match_memory);
	tcase_add_test(tc, test_route_proof_from_old_snapshot);
	tcase_add_test(tc, test_growth_with_concurrent_readers);
	suite_add_tcase(su, tc);
	return ist_test_run(su);
}
