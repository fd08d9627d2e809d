/*
 * The simulated chain (devchain/chain.h): its LMDB layout, the block
 * producer, the outbox, the test hooks and the inbox.
 *
 * LMDB layout (named databases; integers big-endian, so LMDB's key order is
 * the numeric order):
 *
 *   meta     "schema"   -> be32 SCHEMA_VERSION
 *            "chain_id" -> be64
 *   blocks   height be64 -> hash[32] || parent[32] || timestamp_ms be64 ||
 *                           n be32 || n * (dst_chain be64 || nonce be64)
 *   msgs     dst_chain be64 || nonce be64 -> id[32] || canonical(message)
 *            (wire/canonical.h; src_chain is this chain)
 *   routes   dst_chain be64 -> the route's next nonce be64
 *   pending  seq be64 -> dst_chain be64 || nonce be64: sent, not yet in a
 *            block, in the order sent
 *   inbox    src_chain be64 || nonce be64 -> message id[32] || height be64
 *   epochs   epoch be64 -> how u8 (0: the --trust set, 1: a hand-over) ||
 *            since be64 (the head height when the set was accepted) ||
 *            the set as an isthmus-validator-set/v1 text (ist_valset_format)
 *            (schema 2; a schema 1 database is upgraded in place: it gets
 *            the empty table)
 *
 * The head is the last key of `blocks`. Every change is one write
 * transaction, so a crash (SIGKILL) leaves either all of it or none.
 */
#include "devchain/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/tags.h"
#include "wire/canonical.h"

#define SUBSYS "devchain"
#define SCHEMA_VERSION 2
#define EPOCH_FIXED 9             /* how u8 || since be64 */
#define EPOCH_HOW_TRUST 0
#define EPOCH_HOW_HANDOVER 1
#define MAP_SIZE (4ull << 30)     /* virtual: the file grows as it fills */
#define BLOCK_FIXED (32 + 32 + 8 + 4)
#define REF_BYTES 16

struct ist_dc {
	char *dir;
	uint64_t chain_id;
	uint64_t block_ms;
	uint64_t depth;
	unsigned accept;
	uint64_t grace;               /* --handover-grace-blocks */
	const struct ist_clock *clock;

	int lock_fd;
	MDB_env *env;
	MDB_dbi meta, blocks, msgs, routes, pending, inbox, epochs;

	pthread_mutex_t mu;           /* writers, and the trusted sets below */
	/* the trusted sets (a copy of what `epochs` holds at its end) */
	bool trusted;                 /* false: no set at all */
	struct ist_valset *cur;       /* the current epoch's set (heap) */
	struct ist_valset *prev;      /* the previous epoch's (heap), NULL when cur is the first */
	uint64_t first;               /* the first epoch trusted */
	uint64_t since;               /* the head height when cur was accepted */
	pthread_mutex_t run_mu;       /* the producer's state below */
	pthread_cond_t run_cv;
	bool started, stopping;
	pthread_t thread;
	int failed;

	struct ist_metric *m_blocks, *m_sent, *m_delivered, *m_rejected, *m_head, *m_final, *m_reorgs,
		*m_rewrites, *m_handovers, *m_handover_rej, *m_epoch;
};

/* A block as stored: references to its messages. */
struct rec {
	uint64_t height;
	uint8_t hash[IST_HASH_BYTES];
	uint8_t parent[IST_HASH_BYTES];
	uint64_t ts;
	size_t n;
	uint8_t (*refs)[REF_BYTES];   /* malloc'd, NULL when n is 0 */
};

static void rec_fini(struct rec *r)
{
	free(r->refs);
	memset(r, 0, sizeof(*r));
}

/* ---- errors ------------------------------------------------------------------ */

static int lmdb_err(int rc)
{
	switch (rc) {
	case 0:                    return 0;
	case MDB_NOTFOUND:         return -IST_ENOTFOUND;
	case MDB_KEYEXIST:         return -IST_EEXISTS;
	case MDB_MAP_FULL:         return -IST_EDB_FULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:          return -IST_EDB_CORRUPT;
	case MDB_VERSION_MISMATCH: return -IST_EDB_SCHEMA;
	case MDB_READERS_FULL:     return -IST_EAGAIN;
	case ENOMEM:               return -IST_ENOMEM;
	case EACCES:
	case EPERM:
	case EROFS:                return -IST_EPERM;
	case EIO:
	case ENOSPC:               return -IST_EIO;
	default:                   return -IST_EDB;
	}
}

static int errf(char *errbuf, size_t errlen, const char *dir, int err, const char *fmt, ...) IST_PRINTF(5, 6);
static int errf(char *errbuf, size_t errlen, const char *dir, int err, const char *fmt, ...)
{
	if (errbuf && errlen) {
		char msg[384];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(errbuf, errlen, "%s: %s", dir ? dir : "", msg);
	}
	return err;
}

static void set_why(char *why, size_t len, const char *fmt, ...) IST_PRINTF(3, 4);
static void set_why(char *why, size_t len, const char *fmt, ...)
{
	if (!why || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* ---- keys, records, hashes ------------------------------------------------------- */

static MDB_val val(void *p, size_t n)
{
	MDB_val v = { .mv_size = n, .mv_data = p };
	return v;
}

static void key2(uint8_t out[16], uint64_t a, uint64_t b)
{
	ist_put_be64(out, a);
	ist_put_be64(out + 8, b);
}

void ist_dc_block_hash(uint64_t chain_id, uint64_t height, const uint8_t parent32[IST_HASH_BYTES],
		       uint64_t timestamp_ms, const uint8_t (*ids)[IST_HASH_BYTES], size_t n,
		       uint8_t ret_hash32[IST_HASH_BYTES])
{
	uint8_t head[8 + 8 + IST_HASH_BYTES + 8 + 4];
	ist_put_be64(head, chain_id);
	ist_put_be64(head + 8, height);
	memcpy(head + 16, parent32, IST_HASH_BYTES);
	ist_put_be64(head + 48, timestamp_ms);
	ist_put_be32(head + 56, (uint32_t)n);
	struct ist_sha256_ctx h;
	ist_tagged_hash_init(&h, IST_TAG_DEVCHAIN_BLOCK);
	ist_sha256_update(&h, head, sizeof(head));
	if (n)
		ist_sha256_update(&h, ids, n * IST_HASH_BYTES);
	ist_sha256_final(&h, ret_hash32);
}

static int rec_get(struct ist_dc *c, MDB_txn *t, uint64_t height, struct rec *ret)
{
	uint8_t k[8];
	ist_put_be64(k, height);
	MDB_val key = val(k, 8), v;
	int rc = mdb_get(t, c->blocks, &key, &v);
	if (rc)
		return lmdb_err(rc);
	const uint8_t *p = v.mv_data;
	if (v.mv_size < BLOCK_FIXED)
		return -IST_EDB_CORRUPT;
	size_t n = ist_get_be32(p + 72);
	if (n > IST_DC_MAX_BLOCK_MSGS || v.mv_size != BLOCK_FIXED + n * REF_BYTES)
		return -IST_EDB_CORRUPT;
	struct rec r = { .height = height, .n = n };
	memcpy(r.hash, p, IST_HASH_BYTES);
	memcpy(r.parent, p + 32, IST_HASH_BYTES);
	r.ts = ist_get_be64(p + 64);
	if (n) {
		r.refs = malloc(n * REF_BYTES);
		if (!r.refs)
			return -IST_ENOMEM;
		memcpy(r.refs, p + BLOCK_FIXED, n * REF_BYTES);
	}
	*ret = r;
	return 0;
}

static int rec_put(struct ist_dc *c, MDB_txn *t, const struct rec *r)
{
	uint8_t k[8];
	ist_put_be64(k, r->height);
	size_t len = BLOCK_FIXED + r->n * REF_BYTES;
	uint8_t *buf = malloc(len);
	if (!buf)
		return -IST_ENOMEM;
	memcpy(buf, r->hash, IST_HASH_BYTES);
	memcpy(buf + 32, r->parent, IST_HASH_BYTES);
	ist_put_be64(buf + 64, r->ts);
	ist_put_be32(buf + 72, (uint32_t)r->n);
	if (r->n)
		memcpy(buf + BLOCK_FIXED, r->refs, r->n * REF_BYTES);
	MDB_val key = val(k, 8), v = val(buf, len);
	int rc = mdb_put(t, c->blocks, &key, &v, 0);
	free(buf);
	return lmdb_err(rc);
}

/* The head's height (the last block). */
static int head_height(struct ist_dc *c, MDB_txn *t, uint64_t *ret)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t, c->blocks, &cur);
	if (rc)
		return lmdb_err(rc);
	MDB_val k, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND || (rc == 0 && k.mv_size != 8))
		return -IST_EDB_CORRUPT;   /* the genesis block is always there */
	if (rc)
		return lmdb_err(rc);
	*ret = ist_get_be64(k.mv_data);
	return 0;
}

static uint64_t finalized_of(const struct ist_dc *c, uint64_t height)
{
	return height > c->depth ? height - c->depth : 0;
}

static int head_get(struct ist_dc *c, MDB_txn *t, struct ist_dc_head *ret)
{
	uint64_t h;
	int r = head_height(c, t, &h);
	if (r < 0)
		return r;
	struct rec rec;
	if ((r = rec_get(c, t, h, &rec)) < 0)
		return r == -IST_ENOTFOUND ? -IST_EDB_CORRUPT : r;
	ret->height = h;
	ret->finalized = finalized_of(c, h);
	memcpy(ret->hash, rec.hash, IST_HASH_BYTES);
	rec_fini(&rec);
	return 0;
}

/* A message by its reference; the id only when m is NULL. */
static int msg_get(struct ist_dc *c, MDB_txn *t, const uint8_t ref[REF_BYTES], struct ist_dc_msg *m,
		   uint8_t ret_id[IST_HASH_BYTES])
{
	MDB_val key = val((void *)ref, REF_BYTES), v;
	int rc = mdb_get(t, c->msgs, &key, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? -IST_EDB_CORRUPT : lmdb_err(rc);
	if (v.mv_size < IST_HASH_BYTES + IST_WIRE_MESSAGE_FIXED_BYTES)
		return -IST_EDB_CORRUPT;
	if (ret_id)
		memcpy(ret_id, v.mv_data, IST_HASH_BYTES);
	if (!m)
		return 0;
	struct ist_cur cur;
	ist_cur_init(&cur, (const uint8_t *)v.mv_data + IST_HASH_BYTES, v.mv_size - IST_HASH_BYTES);
	struct ist_dc_msg out;
	memset(&out, 0, sizeof(out));
	memcpy(out.id, v.mv_data, IST_HASH_BYTES);
	out.m.src_chain = ist_cur_be64(&cur);
	out.m.dst_chain = ist_cur_be64(&cur);
	out.m.nonce = ist_cur_be64(&cur);
	ist_cur_get(&cur, out.m.sender, sizeof(out.m.sender));
	ist_cur_get(&cur, out.m.recipient, sizeof(out.m.recipient));
	out.m.value = ist_cur_be64(&cur);
	size_t plen = 0;
	const uint8_t *payload = ist_cur_var(&cur, IST_WIRE_MAX_MSG_PAYLOAD, &plen);
	if (!ist_cur_done(&cur))
		return -IST_EDB_CORRUPT;
	if (plen) {
		out.m.payload = malloc(plen);
		if (!out.m.payload)
			return -IST_ENOMEM;
		memcpy(out.m.payload, payload, plen);
		out.m.payload_len = plen;
	}
	*m = out;
	return 0;
}

static int msg_put(struct ist_dc *c, MDB_txn *t, const struct ist_dc_msg *m)
{
	uint8_t k[REF_BYTES];
	key2(k, m->m.dst_chain, m->m.nonce);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put(&b, m->id, IST_HASH_BYTES);
	int r = ist_wire_message_canonical(&m->m, &b);
	if (r == 0) {
		MDB_val key = val(k, sizeof(k)), v = val(b.data, b.len);
		r = lmdb_err(mdb_put(t, c->msgs, &key, &v, 0));
	}
	ist_buf_fini(&b);
	return r;
}

/* The message ids of a stored block, in order (malloc'd; NULL when none). */
static int rec_ids(struct ist_dc *c, MDB_txn *t, const struct rec *r, uint8_t (**ret)[IST_HASH_BYTES])
{
	*ret = NULL;
	if (r->n == 0)
		return 0;
	uint8_t (*ids)[IST_HASH_BYTES] = malloc(r->n * IST_HASH_BYTES);
	if (!ids)
		return -IST_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		int e = msg_get(c, t, r->refs[i], NULL, ids[i]);
		if (e < 0) {
			free(ids);
			return e;
		}
	}
	*ret = ids;
	return 0;
}

/* Sets r->hash from its fields and its messages' ids. */
static int rec_rehash(struct ist_dc *c, MDB_txn *t, struct rec *r)
{
	uint8_t (*ids)[IST_HASH_BYTES];
	int e = rec_ids(c, t, r, &ids);
	if (e < 0)
		return e;
	ist_dc_block_hash(c->chain_id, r->height, r->parent, r->ts, (const uint8_t (*)[IST_HASH_BYTES])ids, r->n,
			  r->hash);
	free(ids);
	return 0;
}

void ist_dc_block_fini(struct ist_dc_block *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_msgs; i++)
		ist_wire_message_fini(&b->msgs[i].m);
	free(b->msgs);
	memset(b, 0, sizeof(*b));
}

static int block_load(struct ist_dc *c, MDB_txn *t, uint64_t height, uint64_t head, struct ist_dc_block *ret)
{
	struct rec r;
	int e = rec_get(c, t, height, &r);
	if (e < 0)
		return e;
	struct ist_dc_block b = { .height = height, .timestamp_ms = r.ts, .n_msgs = 0 };
	memcpy(b.hash, r.hash, IST_HASH_BYTES);
	memcpy(b.parent, r.parent, IST_HASH_BYTES);
	b.finalized = height <= finalized_of(c, head);
	if (r.n) {
		b.msgs = calloc(r.n, sizeof(*b.msgs));
		if (!b.msgs) {
			rec_fini(&r);
			return -IST_ENOMEM;
		}
	}
	for (size_t i = 0; i < r.n; i++) {
		if ((e = msg_get(c, t, r.refs[i], &b.msgs[i], NULL)) < 0)
			break;
		b.n_msgs++;
	}
	rec_fini(&r);
	if (e < 0) {
		ist_dc_block_fini(&b);
		return e;
	}
	*ret = b;
	return 0;
}

/* ---- transactions ---------------------------------------------------------------- */

static int txn_read(struct ist_dc *c, MDB_txn **ret)
{
	return lmdb_err(mdb_txn_begin(c->env, NULL, MDB_RDONLY, ret));
}

/* Ends a write transaction: commits when r is 0, else aborts. Returns the
 * first error. */
static int txn_end(MDB_txn *t, int r)
{
	if (r < 0) {
		mdb_txn_abort(t);
		return r;
	}
	return lmdb_err(mdb_txn_commit(t));
}

static void count_head(struct ist_dc *c, const struct ist_dc_head *h)
{
	ist_metric_set(c->m_head, NULL, (double)h->height);
	ist_metric_set(c->m_final, NULL, (double)h->finalized);
}

/* ---- opening ------------------------------------------------------------------------ */

static int make_dir(const char *dir, char *errbuf, size_t errlen)
{
	char *p = strdup(dir);
	if (!p)
		return -IST_ENOMEM;
	size_t n = strlen(p);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char ch = p[i];
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return errf(errbuf, errlen, dir, ist_err_from_errno(e), "cannot create the directory: %s",
				    strerror(e));
		}
		p[i] = ch;
	}
	free(p);
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return errf(errbuf, errlen, dir, -IST_EINVAL, "not a directory");
	return 0;
}

static int take_lock(struct ist_dc *c, char *errbuf, size_t errlen)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", c->dir, IST_DC_LOCK_FILE) < 0)
		return -IST_ENOMEM;
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (c->lock_fd < 0) {
		int e = errno;
		return errf(errbuf, errlen, c->dir, ist_err_from_errno(e), "cannot open %s: %s", IST_DC_LOCK_FILE,
			    strerror(e));
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK)
			return errf(errbuf, errlen, c->dir, -IST_EDB_LOCKED,
				    "in use by another isthmus-devchain (%s is locked)", IST_DC_LOCK_FILE);
		return errf(errbuf, errlen, c->dir, -IST_EIO, "cannot lock %s: %s", IST_DC_LOCK_FILE, strerror(e));
	}
	return 0;
}

/* Opens the databases; creates the chain (schema, id, genesis) when new, or
 * checks it. */
static int init_db(struct ist_dc *c, char *errbuf, size_t errlen)
{
	MDB_txn *t;
	int r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t));
	if (r < 0)
		return errf(errbuf, errlen, c->dir, r, "cannot begin a transaction: %s", ist_strerror(r));
	struct { const char *name; MDB_dbi *dbi; } dbs[] = {
		{ "meta", &c->meta }, { "blocks", &c->blocks }, { "msgs", &c->msgs },
		{ "routes", &c->routes }, { "pending", &c->pending }, { "inbox", &c->inbox },
		{ "epochs", &c->epochs },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(dbs) && r == 0; i++)
		r = lmdb_err(mdb_dbi_open(t, dbs[i].name, MDB_CREATE, dbs[i].dbi));
	if (r < 0) {
		mdb_txn_abort(t);
		return errf(errbuf, errlen, c->dir, r, "cannot open the databases: %s", ist_strerror(r));
	}
	MDB_val k = val("schema", 6), v;
	int rc = mdb_get(t, c->meta, &k, &v);
	if (rc == 0) {
		uint32_t schema = v.mv_size == 4 ? ist_get_be32(v.mv_data) : 0;
		MDB_val ik = val("chain_id", 8), iv;
		int rc2 = mdb_get(t, c->meta, &ik, &iv);
		uint64_t id = rc2 == 0 && iv.mv_size == 8 ? ist_get_be64(iv.mv_data) : 0;
		if (schema == 0 || id == 0) {
			mdb_txn_abort(t);
			return errf(errbuf, errlen, c->dir, -IST_EDB_CORRUPT, "the devchain database is damaged (meta)");
		}
		if (schema > SCHEMA_VERSION) {
			mdb_txn_abort(t);
			return errf(errbuf, errlen, c->dir, -IST_EDB_SCHEMA,
				    "database schema version %u is newer than this binary supports (%u)", schema,
				    SCHEMA_VERSION);
		}
		if (id != c->chain_id) {
			mdb_txn_abort(t);
			return errf(errbuf, errlen, c->dir, -IST_ECONFIG,
				    "holds chain %" PRIu64 ", not --chain-id %" PRIu64
				    " (use another --data directory for another chain)", id, c->chain_id);
		}
		if (schema < SCHEMA_VERSION) {
			/* 1 -> 2: the epochs table, just opened (created empty) */
			uint8_t sv[4];
			ist_put_be32(sv, SCHEMA_VERSION);
			MDB_val svv = val(sv, 4);
			if ((r = lmdb_err(mdb_put(t, c->meta, &k, &svv, 0))) < 0) {
				mdb_txn_abort(t);
				return errf(errbuf, errlen, c->dir, r, "cannot upgrade the database: %s", ist_strerror(r));
			}
			ist_log_info(SUBSYS, "%s: database upgraded from schema %u to %u", c->dir, schema, SCHEMA_VERSION);
		}
		/* committed, not aborted: the database handles live on only then */
		if ((r = lmdb_err(mdb_txn_commit(t))) < 0)
			return errf(errbuf, errlen, c->dir, r, "cannot open the databases: %s", ist_strerror(r));
		return 0;
	}
	if (rc != MDB_NOTFOUND) {
		mdb_txn_abort(t);
		r = lmdb_err(rc);
		return errf(errbuf, errlen, c->dir, r, "cannot read the database: %s", ist_strerror(r));
	}
	/* a new chain */
	uint8_t sv[4], idv[8];
	ist_put_be32(sv, SCHEMA_VERSION);
	ist_put_be64(idv, c->chain_id);
	MDB_val svv = val(sv, 4), ik = val("chain_id", 8), iv = val(idv, 8);
	r = lmdb_err(mdb_put(t, c->meta, &k, &svv, 0));
	if (r == 0)
		r = lmdb_err(mdb_put(t, c->meta, &ik, &iv, 0));
	struct rec g = { .height = 0, .ts = ist_clock_now_ms(c->clock) };
	ist_dc_block_hash(c->chain_id, 0, g.parent, g.ts, NULL, 0, g.hash);
	if (r == 0)
		r = rec_put(c, t, &g);
	if ((r = txn_end(t, r)) < 0)
		return errf(errbuf, errlen, c->dir, r, "cannot create the chain: %s", ist_strerror(r));
	ist_log_info(SUBSYS, "created chain %" PRIu64 " in %s", c->chain_id, c->dir);
	return 0;
}

/* ---- the trusted sets ------------------------------------------------------------ */

/* Reads record `epoch` of `epochs`. Out (each may be NULL): *vs, *ret_since,
 * *ret_how. Returns 0, -IST_ENOTFOUND, -IST_EDB_CORRUPT, -IST_EDB*. */
static int epoch_get(struct ist_dc *c, MDB_txn *t, uint64_t epoch, struct ist_valset *vs, uint64_t *ret_since,
		     uint8_t *ret_how)
{
	uint8_t k[8];
	ist_put_be64(k, epoch);
	MDB_val key = val(k, 8), v;
	int r = lmdb_err(mdb_get(t, c->epochs, &key, &v));
	if (r < 0)
		return r;
	const uint8_t *p = v.mv_data;
	if (v.mv_size <= EPOCH_FIXED || p[0] > EPOCH_HOW_HANDOVER)
		return -IST_EDB_CORRUPT;
	if (ret_since)
		*ret_since = ist_get_be64(p + 1);
	if (ret_how)
		*ret_how = p[0];
	if (vs) {
		if (ist_valset_parse((const char *)p + EPOCH_FIXED, v.mv_size - EPOCH_FIXED, "epochs", vs, NULL) < 0 ||
		    vs->epoch != epoch)
			return -IST_EDB_CORRUPT;
	}
	return 0;
}

static int epoch_put(struct ist_dc *c, MDB_txn *t, const struct ist_valset *vs, uint8_t how, uint64_t since)
{
	char *text = NULL;
	int r = ist_valset_format(vs, &text);
	if (r < 0)
		return r;
	size_t n = strlen(text);
	uint8_t *buf = malloc(EPOCH_FIXED + n);
	if (!buf) {
		free(text);
		return -IST_ENOMEM;
	}
	buf[0] = how;
	ist_put_be64(buf + 1, since);
	memcpy(buf + EPOCH_FIXED, text, n);
	uint8_t k[8];
	ist_put_be64(k, vs->epoch);
	MDB_val key = val(k, 8), v = val(buf, EPOCH_FIXED + n);
	r = lmdb_err(mdb_put(t, c->epochs, &key, &v, 0));
	free(buf);
	free(text);
	return r;
}

/* The first or last epoch recorded. Returns 0, -IST_ENOTFOUND (none),
 * -IST_EDB*. */
static int epoch_edge(struct ist_dc *c, MDB_txn *t, MDB_cursor_op op, uint64_t *ret)
{
	MDB_cursor *cur;
	int r = lmdb_err(mdb_cursor_open(t, c->epochs, &cur));
	if (r < 0)
		return r;
	MDB_val k, v;
	r = lmdb_err(mdb_cursor_get(cur, &k, &v, op));
	mdb_cursor_close(cur);
	if (r == 0 && k.mv_size != 8)
		r = -IST_EDB_CORRUPT;
	if (r == 0)
		*ret = ist_get_be64(k.mv_data);
	return r;
}

static bool valset_same(const struct ist_valset *a, const struct ist_valset *b)
{
	uint8_t ha[IST_HASH_BYTES], hb[IST_HASH_BYTES];
	ist_valset_hash(a, ha);
	ist_valset_hash(b, hb);
	return memcmp(ha, hb, sizeof(ha)) == 0;
}

/* At open: the recorded sets into memory, or the --trust set recorded when
 * there is none; a --trust set given again must be the recorded one. */
static int load_trust(struct ist_dc *c, const struct ist_valset *trust, char *errbuf, size_t errlen)
{
	MDB_txn *t;
	struct ist_valset *other = NULL;
	int r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t));
	if (r < 0)
		return errf(errbuf, errlen, c->dir, r, "cannot begin a transaction: %s", ist_strerror(r));
	uint64_t last = 0, first = 0;
	r = epoch_edge(c, t, MDB_LAST, &last);
	if (r == -IST_ENOTFOUND) {
		r = 0;
		if (trust) {
			uint64_t h = 0;
			if ((r = head_height(c, t, &h)) == 0 && (r = epoch_put(c, t, trust, EPOCH_HOW_TRUST, h)) == 0 &&
			    !(c->cur = malloc(sizeof(*c->cur))))
				r = -IST_ENOMEM;
			if (r == 0) {
				*c->cur = *trust;
				c->first = trust->epoch;
				c->since = h;
				ist_log_info(SUBSYS, "inbox: trusting the validator set of epoch %" PRIu64 " (%zu validators) "
					     "from now on; later sets come by hand-over", trust->epoch, trust->n);
			}
		}
		goto end;
	}
	if (r < 0 || (r = epoch_edge(c, t, MDB_FIRST, &first)) < 0)
		goto end;
	r = -IST_ENOMEM;
	if (!(c->cur = malloc(sizeof(*c->cur))) || (last > first && !(c->prev = malloc(sizeof(*c->prev)))) ||
	    !(other = malloc(sizeof(*other))))
		goto end;
	if ((r = epoch_get(c, t, last, c->cur, &c->since, NULL)) < 0)
		goto end;
	if (c->prev && (r = epoch_get(c, t, last - 1, c->prev, NULL, NULL)) < 0) {
		r = r == -IST_ENOTFOUND ? -IST_EDB_CORRUPT : r;
		goto end;
	}
	c->first = first;
	if (trust) {
		r = epoch_get(c, t, trust->epoch, other, NULL, NULL);
		if (r == -IST_ENOTFOUND) {
			mdb_txn_abort(t);
			free(other);
			return errf(errbuf, errlen, c->dir, -IST_ECONFIG,
				    "--trust: the set is of epoch %" PRIu64 ", but this chain trusts epochs %" PRIu64 " to %" PRIu64
				    " (its first set, then hand-overs): give the set of one of them, or none (the chain "
				    "keeps what it trusts), or use another --data directory", trust->epoch, first, last);
		}
		if (r == 0 && !valset_same(trust, other)) {
			mdb_txn_abort(t);
			free(other);
			return errf(errbuf, errlen, c->dir, -IST_ECONFIG,
				    "--trust: the set of epoch %" PRIu64 " is not the one this chain trusts for that epoch "
				    "(another set was recorded): give that set, or none, or use another --data directory",
				    trust->epoch);
		}
		if (r < 0)
			goto end;
	}
	ist_log_info(SUBSYS, "inbox: trusts epoch %" PRIu64 " (%zu validators, since height %" PRIu64 ")%s", last,
		     c->cur->n, c->since, last > first ? ", followed by hand-over" : "");
end:
	free(other);
	r = txn_end(t, r);
	if (r < 0) {
		free(c->cur);
		free(c->prev);
		c->cur = c->prev = NULL;
		return errf(errbuf, errlen, c->dir, r, "cannot read the trusted validator sets: %s", ist_strerror(r));
	}
	c->trusted = c->cur != NULL;
	return 0;
}

int ist_dc_open(const struct ist_dc_options *o, struct ist_dc **ret, char *errbuf, size_t errlen)
{
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!o || !o->data_dir || !*o->data_dir || o->chain_id == 0 || o->block_ms < IST_DC_MIN_BLOCK_MS ||
	    o->block_ms > IST_DC_MAX_BLOCK_MS || o->finality_depth > IST_DC_MAX_FINALITY_DEPTH ||
	    o->grace_blocks > IST_DC_MAX_GRACE_BLOCKS)
		return errf(errbuf, errlen, o && o->data_dir ? o->data_dir : "devchain", -IST_EINVAL,
			    "invalid options");
	struct ist_dc *c = calloc(1, sizeof(*c));
	if (!c)
		return -IST_ENOMEM;
	c->lock_fd = -1;
	c->chain_id = o->chain_id;
	c->block_ms = o->block_ms;
	c->depth = o->finality_depth;
	c->accept = o->accept;
	c->grace = o->grace_blocks;
	c->clock = o->clock ? o->clock : ist_clock_system();
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->run_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->run_cv, &ca);
	pthread_condattr_destroy(&ca);
	int r = -IST_ENOMEM;
	if (!(c->dir = strdup(o->data_dir)))
		goto fail;
	if ((r = make_dir(c->dir, errbuf, errlen)) < 0 || (r = take_lock(c, errbuf, errlen)) < 0)
		goto fail;
	int rc = mdb_env_create(&c->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(c->env, 8);
	if (rc == 0)
		rc = mdb_env_set_mapsize(c->env, MAP_SIZE);
	if (rc == 0)
		rc = mdb_env_open(c->env, c->dir, MDB_NOTLS, 0600);
	if (rc) {
		r = errf(errbuf, errlen, c->dir, lmdb_err(rc), "cannot open the database: %s", mdb_strerror(rc));
		goto fail;
	}
	if ((r = init_db(c, errbuf, errlen)) < 0 || (r = load_trust(c, o->trust, errbuf, errlen)) < 0)
		goto fail;

	if (o->metrics) {
		struct ist_metrics *m = o->metrics;
		c->m_blocks = ist_metrics_counter(m, "isthmus_devchain_blocks_total", "Blocks produced by this process.", NULL);
		c->m_sent = ist_metrics_counter(m, "isthmus_devchain_messages_sent_total",
						"Messages accepted into the outbox by this process.", NULL);
		c->m_delivered = ist_metrics_counter(m, "isthmus_devchain_deliveries_total",
						     "Deliveries accepted by the inbox.", NULL);
		c->m_rejected = ist_metrics_counter(m, "isthmus_devchain_delivery_rejections_total",
						    "Deliveries the inbox refused, by reason.", "reason");
		c->m_head = ist_metrics_gauge(m, "isthmus_devchain_head_height", "Height of the head block.", NULL);
		c->m_final = ist_metrics_gauge(m, "isthmus_devchain_finalized_height", "Height of the last final block.",
					       NULL);
		c->m_reorgs = ist_metrics_counter(m, "isthmus_devchain_reorgs_total", "Reorgs injected by the test hook.",
						  NULL);
		c->m_rewrites = ist_metrics_counter(m, "isthmus_devchain_finality_violations_total",
						    "Final blocks rewritten by the test hook.", NULL);
		c->m_handovers = ist_metrics_counter(m, "isthmus_devchain_handovers_total",
						     "Epoch hand-overs the inbox accepted (a new trusted validator set).", NULL);
		c->m_handover_rej = ist_metrics_counter(m, "isthmus_devchain_handover_rejections_total",
							"Epoch hand-overs the inbox refused, by reason.", "reason");
		c->m_epoch = ist_metrics_gauge(m, "isthmus_devchain_trusted_epoch",
					       "The current epoch of the validator set the inbox trusts (-1: none).", NULL);
		/* every reason from the start, at 0 */
		for (int i = IST_VERIFY_MALFORMED; i <= IST_VERIFY_GROUP_KEY; i++)
			ist_metric_add(c->m_rejected, ist_verify_reason_name((enum ist_verify_reason)i), 0);
		ist_metric_add(c->m_rejected, "replay", 0);
		ist_metric_add(c->m_rejected, "no-validator-set", 0);
		ist_metric_add(c->m_blocks, NULL, 0);
		ist_metric_add(c->m_sent, NULL, 0);
		ist_metric_add(c->m_delivered, NULL, 0);
		ist_metric_add(c->m_reorgs, NULL, 0);
		ist_metric_add(c->m_rewrites, NULL, 0);
		ist_metric_add(c->m_handovers, NULL, 0);
		ist_metric_add(c->m_rejected, "epoch-expired", 0);
		static const char *const hreasons[] = { "malformed", "no-validator-set", "handover-uncertified",
							"handover-conflict", "network", "handover-epoch", "handover-proof",
							"scheme", "unknown-epoch", "signer-range", "signature-count",
							"bad-signature", "quorum", "group-key" };
		for (size_t i = 0; i < IST_ARRAY_SIZE(hreasons); i++)
			ist_metric_add(c->m_handover_rej, hreasons[i], 0);
		ist_metric_set(c->m_epoch, NULL, c->trusted ? (double)c->cur->epoch : -1.0);
	}
	struct ist_dc_head h;
	if ((r = ist_dc_head(c, &h)) < 0) {
		errf(errbuf, errlen, c->dir, r, "cannot read the head: %s", ist_strerror(r));
		goto fail;
	}
	count_head(c, &h);
	*ret = c;
	return 0;
fail:
	ist_dc_close(c);
	return r;
}

/* ---- the producer ------------------------------------------------------------------ */

static void *producer(void *arg)
{
	struct ist_dc *c = arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&c->run_mu);
	while (!c->stopping) {
		next.tv_sec += (time_t)(c->block_ms / 1000);
		next.tv_nsec += (long)(c->block_ms % 1000) * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		/* behind (a slow disk, a stopped process): no burst of catch-up blocks */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now;
		while (!c->stopping && pthread_cond_timedwait(&c->run_cv, &c->run_mu, &next) != ETIMEDOUT)
			;
		if (c->stopping)
			break;
		pthread_mutex_unlock(&c->run_mu);
		int r = ist_dc_produce(c, NULL);
		pthread_mutex_lock(&c->run_mu);
		if (r < 0) {
			ist_log_error(SUBSYS, "cannot produce a block: %s", ist_strerror(r));
			c->failed = r;
			break;
		}
	}
	pthread_mutex_unlock(&c->run_mu);
	return NULL;
}

int ist_dc_start(struct ist_dc *c)
{
	pthread_mutex_lock(&c->run_mu);
	int r = 0;
	if (c->started)
		r = -IST_ESTATE;
	else if (pthread_create(&c->thread, NULL, producer, c) != 0)
		r = -IST_ENOMEM;
	else
		c->started = true;
	pthread_mutex_unlock(&c->run_mu);
	return r;
}

int ist_dc_failed(struct ist_dc *c)
{
	pthread_mutex_lock(&c->run_mu);
	int r = c->failed;
	pthread_mutex_unlock(&c->run_mu);
	return r;
}

void ist_dc_close(struct ist_dc *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->run_mu);
	c->stopping = true;
	bool started = c->started;
	pthread_cond_broadcast(&c->run_cv);
	pthread_mutex_unlock(&c->run_mu);
	if (started)
		pthread_join(c->thread, NULL);
	if (c->env)
		mdb_env_close(c->env);
	if (c->lock_fd >= 0)
		close(c->lock_fd);   /* releases the flock */
	pthread_cond_destroy(&c->run_cv);
	pthread_mutex_destroy(&c->run_mu);
	pthread_mutex_destroy(&c->mu);
	free(c->cur);
	free(c->prev);
	free(c->dir);
	free(c);
}

uint64_t ist_dc_chain_id(const struct ist_dc *c)
{
	return c->chain_id;
}

bool ist_dc_has_trust(struct ist_dc *c)
{
	pthread_mutex_lock(&c->mu);
	bool t = c->trusted;
	pthread_mutex_unlock(&c->mu);
	return t;
}

/* ---- reads ----------------------------------------------------------------------------- */

int ist_dc_head(struct ist_dc *c, struct ist_dc_head *ret)
{
	MDB_txn *t;
	int r = txn_read(c, &t);
	if (r < 0)
		return r;
	r = head_get(c, t, ret);
	mdb_txn_abort(t);
	return r;
}

int ist_dc_block_get(struct ist_dc *c, uint64_t height, struct ist_dc_block *ret)
{
	MDB_txn *t;
	int r = txn_read(c, &t);
	if (r < 0)
		return r;
	uint64_t head;
	r = head_height(c, t, &head);
	if (r == 0)
		r = height > head ? -IST_ENOTFOUND : block_load(c, t, height, head, ret);
	mdb_txn_abort(t);
	return r;
}

int ist_dc_blocks_read(struct ist_dc *c, uint64_t from, uint64_t to,
		       bool (*fn)(void *ctx, const struct ist_dc_block *b), void *ctx,
		       struct ist_dc_head *ret_head)
{
	MDB_txn *t;
	int r = txn_read(c, &t);
	if (r < 0)
		return r;
	struct ist_dc_head head;
	if ((r = head_get(c, t, &head)) < 0)
		goto out;
	if (ret_head)
		*ret_head = head;
	if (from > head.height) {
		r = -IST_ENOTFOUND;
		goto out;
	}
	to = IST_MIN(to, head.height);
	for (uint64_t h = from; h <= to; h++) {
		struct ist_dc_block b;
		if ((r = block_load(c, t, h, head.height, &b)) < 0)
			break;
		bool more = fn(ctx, &b);
		ist_dc_block_fini(&b);
		if (!more)
			break;
	}
out:
	mdb_txn_abort(t);
	return r;
}

int ist_dc_inbox_get(struct ist_dc *c, uint64_t src_chain, uint64_t nonce, struct ist_dc_inbox_entry *ret)
{
	MDB_txn *t;
	int r = txn_read(c, &t);
	if (r < 0)
		return r;
	uint8_t k[16];
	key2(k, src_chain, nonce);
	MDB_val key = val(k, sizeof(k)), v;
	r = lmdb_err(mdb_get(t, c->inbox, &key, &v));
	if (r == 0 && v.mv_size != IST_HASH_BYTES + 8)
		r = -IST_EDB_CORRUPT;
	if (r == 0) {
		memcpy(ret->message_id, v.mv_data, IST_HASH_BYTES);
		ret->height = ist_get_be64((const uint8_t *)v.mv_data + IST_HASH_BYTES);
	}
	mdb_txn_abort(t);
	return r;
}

/* ---- writes ------------------------------------------------------------------------------- */

int ist_dc_send(struct ist_dc *c, const struct ist_message *m, struct ist_dc_msg *ret)
{
	if (m->dst_chain == 0 || m->dst_chain == c->chain_id)
		return -IST_EINVAL;
	if (m->payload_len > IST_WIRE_MAX_MSG_PAYLOAD)
		return -IST_ETOOBIG;
	struct ist_dc_msg out = { .m = *m };
	out.m.src_chain = c->chain_id;

	pthread_mutex_lock(&c->mu);
	MDB_txn *t;
	int r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t));
	if (r < 0)
		goto unlock;
	MDB_stat st;
	if ((r = lmdb_err(mdb_stat(t, c->pending, &st))) == 0 && st.ms_entries >= IST_DC_MAX_PENDING)
		r = -IST_EAGAIN;
	uint8_t rk[8], rv[8];
	ist_put_be64(rk, m->dst_chain);
	MDB_val key = val(rk, 8), v;
	if (r == 0) {
		int rc = mdb_get(t, c->routes, &key, &v);
		if (rc == 0 && v.mv_size == 8)
			out.m.nonce = ist_get_be64(v.mv_data);
		else if (rc == 0)
			r = -IST_EDB_CORRUPT;
		else if (rc != MDB_NOTFOUND)
			r = lmdb_err(rc);
	}
	if (r == 0 && out.m.nonce == UINT64_MAX)
		r = -IST_ERANGE;
	if (r == 0)
		r = ist_wire_message_id(&out.m, out.id);
	if (r == 0)
		r = msg_put(c, t, &out);
	if (r == 0) {
		ist_put_be64(rv, out.m.nonce + 1);
		MDB_val nv = val(rv, 8);
		r = lmdb_err(mdb_put(t, c->routes, &key, &nv, 0));
	}
	if (r == 0) {
		/* the next sequence number: after the last waiting one */
		uint64_t seq = 0;
		MDB_cursor *cur;
		if ((r = lmdb_err(mdb_cursor_open(t, c->pending, &cur))) == 0) {
			MDB_val lk, lv;
			int rc = mdb_cursor_get(cur, &lk, &lv, MDB_LAST);
			if (rc == 0 && lk.mv_size == 8)
				seq = ist_get_be64(lk.mv_data) + 1;
			else if (rc != MDB_NOTFOUND)
				r = rc ? lmdb_err(rc) : -IST_EDB_CORRUPT;
			mdb_cursor_close(cur);
		}
		uint8_t sk[8], ref[REF_BYTES];
		ist_put_be64(sk, seq);
		key2(ref, out.m.dst_chain, out.m.nonce);
		MDB_val skv = val(sk, 8), refv = val(ref, sizeof(ref));
		if (r == 0)
			r = lmdb_err(mdb_put(t, c->pending, &skv, &refv, 0));
	}
	r = txn_end(t, r);
unlock:
	pthread_mutex_unlock(&c->mu);
	if (r < 0)
		return r;
	ist_metric_inc(c->m_sent, NULL);
	*ret = out;
	return 0;
}

int ist_dc_produce(struct ist_dc *c, struct ist_dc_head *ret_head)
{
	pthread_mutex_lock(&c->mu);
	MDB_txn *t;
	struct rec head = { 0 }, b = { 0 };
	MDB_cursor *cur = NULL;
	uint8_t (*ids)[IST_HASH_BYTES] = NULL;
	uint8_t (*seqs)[8] = NULL;
	int r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t));
	if (r < 0)
		goto unlock;
	uint64_t h;
	if ((r = head_height(c, t, &h)) < 0 || (r = rec_get(c, t, h, &head)) < 0)
		goto end;
	b.height = h + 1;
	memcpy(b.parent, head.hash, IST_HASH_BYTES);
	b.ts = IST_MAX(ist_clock_now_ms(c->clock), head.ts);
	b.refs = malloc(IST_DC_MAX_BLOCK_MSGS * REF_BYTES);
	ids = malloc(IST_DC_MAX_BLOCK_MSGS * IST_HASH_BYTES);
	seqs = malloc(IST_DC_MAX_BLOCK_MSGS * 8);
	if (!b.refs || !ids || !seqs) {
		r = -IST_ENOMEM;
		goto end;
	}
	/* the waiting messages in the order sent, within the block's limits */
	if ((r = lmdb_err(mdb_cursor_open(t, c->pending, &cur))) < 0)
		goto end;
	size_t payload = 0;
	MDB_val k, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0 && b.n < IST_DC_MAX_BLOCK_MSGS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size != REF_BYTES || k.mv_size != 8) {
			r = -IST_EDB_CORRUPT;
			goto end;
		}
		struct ist_dc_msg m;
		if ((r = msg_get(c, t, v.mv_data, &m, NULL)) < 0)
			goto end;
		size_t plen = m.m.payload_len;
		ist_wire_message_fini(&m.m);
		if (b.n > 0 && payload + plen > IST_DC_MAX_BLOCK_PAYLOAD)
			break;
		payload += plen;
		memcpy(b.refs[b.n], v.mv_data, REF_BYTES);
		memcpy(ids[b.n], m.id, IST_HASH_BYTES);
		memcpy(seqs[b.n], k.mv_data, 8);
		b.n++;
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		r = lmdb_err(rc);
		goto end;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	for (size_t i = 0; i < b.n && r == 0; i++) {
		MDB_val sk = val(seqs[i], 8);
		r = lmdb_err(mdb_del(t, c->pending, &sk, NULL));
	}
	if (r < 0)
		goto end;
	ist_dc_block_hash(c->chain_id, b.height, b.parent, b.ts, (const uint8_t (*)[IST_HASH_BYTES])ids, b.n, b.hash);
	r = rec_put(c, t, &b);
end:
	if (cur)
		mdb_cursor_close(cur);
	r = txn_end(t, r);
unlock:
	pthread_mutex_unlock(&c->mu);
	free(ids);
	free(seqs);
	size_t n = b.n;
	rec_fini(&head);
	if (r < 0) {
		rec_fini(&b);
		return r;
	}
	struct ist_dc_head nh = { .height = b.height, .finalized = finalized_of(c, b.height) };
	memcpy(nh.hash, b.hash, IST_HASH_BYTES);
	rec_fini(&b);
	ist_metric_inc(c->m_blocks, NULL);
	count_head(c, &nh);
	if (n)
		ist_log_debug(SUBSYS, "block %" PRIu64 ": %zu messages", nh.height, n);
	if (ret_head)
		*ret_head = nh;
	return 0;
}

int ist_dc_reorg(struct ist_dc *c, uint64_t depth, struct ist_dc_head *ret_old, struct ist_dc_head *ret_new,
		 char *why, size_t whylen)
{
	pthread_mutex_lock(&c->mu);
	MDB_txn *t;
	struct rec *old = NULL;
	struct rec parent = { 0 };
	struct ist_dc_head oh, nh;
	int r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t));
	if (r < 0)
		goto unlock;
	if ((r = head_get(c, t, &oh)) < 0)
		goto end;
	uint64_t H = oh.height;
	if (depth == 0) {
		set_why(why, whylen, "depth must be at least 1");
		r = -IST_ERANGE;
		goto end;
	}
	if (depth > H || H - depth + 1 <= oh.finalized) {
		set_why(why, whylen,
			"a reorg of depth %" PRIu64 " would replace block %" PRIu64 ", which is final "
			"(head %" PRIu64 ", finalized height %" PRIu64 ", finality depth %" PRIu64 ")",
			depth, depth > H ? 0 : H - depth + 1, H, oh.finalized, c->depth);
		r = -IST_ERANGE;
		goto end;
	}
	uint64_t first = H - depth + 1;
	old = calloc(depth, sizeof(*old));
	if (!old) {
		r = -IST_ENOMEM;
		goto end;
	}
	for (uint64_t i = 0; i < depth && r == 0; i++)
		r = rec_get(c, t, first + i, &old[i]);
	if (r == 0)
		r = rec_get(c, t, first - 1, &parent);
	if (r < 0)
		goto end;
	/* an empty block where the first replaced one was, with a later
	 * timestamp (so another hash), then each replaced block's messages one
	 * height later */
	uint64_t ts = IST_MAX(ist_clock_now_ms(c->clock), old[0].ts + 1);
	uint8_t prev[IST_HASH_BYTES];
	memcpy(prev, parent.hash, IST_HASH_BYTES);
	for (uint64_t i = 0; i <= depth && r == 0; i++) {
		struct rec nb = { .height = first + i, .ts = ts };
		memcpy(nb.parent, prev, IST_HASH_BYTES);
		if (i > 0) {
			nb.n = old[i - 1].n;
			nb.refs = old[i - 1].refs;
		}
		r = rec_rehash(c, t, &nb);
		if (r == 0)
			r = rec_put(c, t, &nb);
		memcpy(prev, nb.hash, IST_HASH_BYTES);
	}
	if (r == 0)
		r = head_get(c, t, &nh);
end:
	r = txn_end(t, r);
unlock:
	pthread_mutex_unlock(&c->mu);
	for (uint64_t i = 0; old && i < depth; i++)
		rec_fini(&old[i]);
	free(old);
	rec_fini(&parent);
	if (r < 0)
		return r;
	ist_metric_inc(c->m_reorgs, NULL);
	count_head(c, &nh);
	ist_log_info(SUBSYS, "test hook: reorg of depth %" PRIu64 ": head %" PRIu64 " -> %" PRIu64, depth, oh.height,
		     nh.height);
	*ret_old = oh;
	*ret_new = nh;
	return 0;
}

int ist_dc_rewrite_finalized(struct ist_dc *c, uint64_t height, struct ist_dc_block *ret_block,
			     uint8_t ret_old_hash[IST_HASH_BYTES], uint8_t ret_old_id[IST_HASH_BYTES], char *why,
			     size_t whylen)
{
	pthread_mutex_lock(&c->mu);
	MDB_txn *t;
	struct rec b = { 0 };
	struct ist_dc_msg m = { 0 };
	struct ist_dc_block nb = { 0 };
	struct ist_dc_head head;
	uint8_t old_hash[IST_HASH_BYTES], old_id[IST_HASH_BYTES];
	int r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t));
	if (r < 0)
		goto unlock;
	if ((r = head_get(c, t, &head)) < 0)
		goto end;
	if (height == 0 || height > head.finalized) {
		if (height == 0)
			set_why(why, whylen, "the genesis block has no messages to rewrite");
		else if (height > head.height)
			set_why(why, whylen, "block %" PRIu64 " is above the head (%" PRIu64 ")", height, head.height);
		else
			set_why(why, whylen, "block %" PRIu64 " is not final yet (finalized height %" PRIu64
				"): use /v1/test/reorg for blocks that are not final", height, head.finalized);
		r = -IST_ERANGE;
		goto end;
	}
	if ((r = rec_get(c, t, height, &b)) < 0)
		goto end;
	if (b.n == 0) {
		set_why(why, whylen, "block %" PRIu64 " has no messages; the hook alters a block's first message",
			height);
		r = -IST_ENOTFOUND;
		goto end;
	}
	if ((r = msg_get(c, t, b.refs[0], &m, NULL)) < 0)
		goto end;
	memcpy(old_id, m.id, IST_HASH_BYTES);
	memcpy(old_hash, b.hash, IST_HASH_BYTES);
	if (m.m.payload_len) {
		m.m.payload[0] ^= 0x01;
	} else {
		if (!(m.m.payload = malloc(1))) {
			r = -IST_ENOMEM;
			goto end;
		}
		m.m.payload[0] = 0x01;
		m.m.payload_len = 1;
	}
	if ((r = ist_wire_message_id(&m.m, m.id)) < 0 || (r = msg_put(c, t, &m)) < 0)
		goto end;
	/* this block and every later one: new hashes down the chain */
	uint8_t prev[IST_HASH_BYTES];
	memcpy(prev, b.parent, IST_HASH_BYTES);
	for (uint64_t h = height; h <= head.height && r == 0; h++) {
		struct rec cur;
		if ((r = rec_get(c, t, h, &cur)) < 0)
			break;
		memcpy(cur.parent, prev, IST_HASH_BYTES);
		r = rec_rehash(c, t, &cur);
		if (r == 0)
			r = rec_put(c, t, &cur);
		memcpy(prev, cur.hash, IST_HASH_BYTES);
		rec_fini(&cur);
	}
	if (r == 0)
		r = block_load(c, t, height, head.height, &nb);
end:
	r = txn_end(t, r);
	if (r < 0)
		ist_dc_block_fini(&nb);
unlock:
	pthread_mutex_unlock(&c->mu);
	rec_fini(&b);
	ist_wire_message_fini(&m.m);
	if (r < 0)
		return r;
	ist_metric_inc(c->m_rewrites, NULL);
	ist_log_warn(SUBSYS, "test hook: rewrote final block %" PRIu64 " (a finality violation)", height);
	memcpy(ret_old_hash, old_hash, IST_HASH_BYTES);
	memcpy(ret_old_id, old_id, IST_HASH_BYTES);
	*ret_block = nb;
	return 0;
}

const char *ist_dc_refusal_name(enum ist_dc_refusal r, const struct ist_verify_result *res)
{
	switch (r) {
	case IST_DC_DELIVERED: return "delivered";
	case IST_DC_REFUSED_VERIFY: return ist_verify_reason_name(res->reason);
	case IST_DC_REFUSED_NO_TRUST: return "no-validator-set";
	case IST_DC_REFUSED_REPLAY: return "replay";
	}
	return "unknown";
}

void ist_dc_count_rejection(struct ist_dc *c, const char *reason)
{
	ist_metric_inc(c->m_rejected, reason);
}

/* Whether a certificate of `epoch` is accepted now, with the head at
 * `head` (c->mu held, c->trusted). IST_VERIFY_OK, UNKNOWN_EPOCH or
 * EPOCH_EXPIRED with the detail in *res; *ret_set: the set to verify with. */
static enum ist_verify_reason epoch_verdict(struct ist_dc *c, uint64_t epoch, uint64_t head,
					    const struct ist_valset **ret_set, struct ist_verify_result *res)
{
	uint64_t cur = c->cur->epoch;
	*ret_set = NULL;
	if (epoch == cur) {
		*ret_set = c->cur;
		return IST_VERIFY_OK;
	}
	res->reason = epoch > cur || epoch < c->first ? IST_VERIFY_UNKNOWN_EPOCH : IST_VERIFY_EPOCH_EXPIRED;
	if (epoch > cur)
		snprintf(res->detail, sizeof(res->detail),
			 "certificate of epoch %" PRIu64 ", this chain trusts epoch %" PRIu64 ": the hand-overs to epoch %"
			 PRIu64 " must come first (POST /v1/inbox/epochs)", epoch, cur, epoch);
	else if (epoch < c->first)
		snprintf(res->detail, sizeof(res->detail),
			 "certificate of epoch %" PRIu64 ", before the first epoch this chain trusts (%" PRIu64 ")", epoch,
			 c->first);
	else if (epoch + 1 < cur)
		snprintf(res->detail, sizeof(res->detail),
			 "certificate of epoch %" PRIu64 ", which this chain no longer accepts: it trusts epoch %" PRIu64
			 " (and epoch %" PRIu64 " for %" PRIu64 " blocks after its hand-over)", epoch, cur, cur - 1, c->grace);
	else if (head >= c->since && head - c->since >= c->grace)
		snprintf(res->detail, sizeof(res->detail),
			 "certificate of epoch %" PRIu64 ", whose grace ended at height %" PRIu64 " (%" PRIu64
			 " blocks after the hand-over to epoch %" PRIu64 " at height %" PRIu64 "; the head is %" PRIu64 ")",
			 epoch, c->since + c->grace, c->grace, cur, c->since, head);
	else {
		res->reason = IST_VERIFY_OK;
		*ret_set = c->prev;
	}
	return res->reason;
}

int ist_dc_deliver(struct ist_dc *c, const struct ist_delivery *d, enum ist_dc_refusal *ret_refusal,
		   struct ist_verify_result *ret_result, struct ist_dc_inbox_entry *ret_entry)
{
	memset(ret_result, 0, sizeof(*ret_result));
	memset(ret_entry, 0, sizeof(*ret_entry));
	uint64_t epoch = d->certificate.epoch;
	struct ist_valset *vs = malloc(sizeof(*vs));
	if (!vs)
		return -IST_ENOMEM;

	/* the set of the certificate's epoch, if it is accepted now */
	pthread_mutex_lock(&c->mu);
	bool trusted = c->trusted;
	uint64_t head = 0;
	int r = 0;
	const struct ist_valset *set = NULL;
	if (trusted) {
		MDB_txn *rt;
		if ((r = txn_read(c, &rt)) == 0) {
			r = head_height(c, rt, &head);
			mdb_txn_abort(rt);
		}
		if (r == 0 && epoch_verdict(c, epoch, head, &set, ret_result) == IST_VERIFY_OK)
			*vs = *set;
	}
	pthread_mutex_unlock(&c->mu);
	if (r < 0) {
		free(vs);
		return r;
	}
	if (!trusted) {
		free(vs);
		*ret_refusal = IST_DC_REFUSED_NO_TRUST;
		ist_metric_inc(c->m_rejected, "no-validator-set");
		return 0;
	}
	/* pure and slow (signature recovery): outside the lock */
	if (!set && ist_wire_message_id(&d->message, ret_result->message_id) < 0)
		memset(ret_result->message_id, 0, IST_HASH_BYTES);   /* the caller still gets the message id */
	if (!set || !ist_verify_delivery(vs, c->chain_id, c->accept, d, ret_result)) {
		free(vs);
		*ret_refusal = IST_DC_REFUSED_VERIFY;
		ist_metric_inc(c->m_rejected, ist_verify_reason_name(ret_result->reason));
		return 0;
	}
	free(vs);
	pthread_mutex_lock(&c->mu);
	MDB_txn *t;
	r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t));
	if (r < 0)
		goto unlock;
	uint8_t k[16], v[IST_HASH_BYTES + 8];
	key2(k, d->message.src_chain, d->message.nonce);
	MDB_val key = val(k, sizeof(k)), got;
	int rc = mdb_get(t, c->inbox, &key, &got);
	if (rc == 0) {
		if (got.mv_size != sizeof(v)) {
			r = -IST_EDB_CORRUPT;
		} else {
			memcpy(ret_entry->message_id, got.mv_data, IST_HASH_BYTES);
			ret_entry->height = ist_get_be64((const uint8_t *)got.mv_data + IST_HASH_BYTES);
			*ret_refusal = IST_DC_REFUSED_REPLAY;
		}
		mdb_txn_abort(t);
		goto unlock;
	}
	if (rc != MDB_NOTFOUND) {
		r = lmdb_err(rc);
		mdb_txn_abort(t);
		goto unlock;
	}
	uint64_t h = 0;
	if ((r = head_height(c, t, &h)) < 0) {
		mdb_txn_abort(t);
		goto unlock;
	}
	/* the epoch once more, in the transaction: a hand-over or blocks may
	 * have come since it was looked at */
	if (epoch_verdict(c, epoch, h, &set, ret_result) != IST_VERIFY_OK) {
		mdb_txn_abort(t);
		*ret_refusal = IST_DC_REFUSED_VERIFY;
		goto unlock;
	}
	memcpy(v, ret_result->message_id, IST_HASH_BYTES);
	ist_put_be64(v + IST_HASH_BYTES, h);
	MDB_val vv = val(v, sizeof(v));
	r = lmdb_err(mdb_put(t, c->inbox, &key, &vv, 0));
	if ((r = txn_end(t, r)) == 0) {
		memcpy(ret_entry->message_id, ret_result->message_id, IST_HASH_BYTES);
		ret_entry->height = h;
		*ret_refusal = IST_DC_DELIVERED;
	}
unlock:
	pthread_mutex_unlock(&c->mu);
	if (r < 0)
		return r;
	if (*ret_refusal == IST_DC_REFUSED_REPLAY)
		ist_metric_inc(c->m_rejected, "replay");
	else if (*ret_refusal == IST_DC_REFUSED_VERIFY)
		ist_metric_inc(c->m_rejected, ist_verify_reason_name(ret_result->reason));
	else
		ist_metric_inc(c->m_delivered, NULL);
	return 0;
}

/* ---- epochs ----------------------------------------------------------------------------- */

int ist_dc_epochs_get(struct ist_dc *c, struct ist_dc_epochs *ret)
{
	struct ist_dc_epochs e = { .grace_blocks = c->grace };
	pthread_mutex_lock(&c->mu);
	MDB_txn *t;
	int r = txn_read(c, &t);
	if (r == 0) {
		r = head_height(c, t, &e.head);
		mdb_txn_abort(t);
	}
	if (r == 0 && c->trusted) {
		e.has_trust = true;
		e.current = c->cur->epoch;
		e.first = c->first;
		e.since = c->since;
		e.grace_until = c->since + c->grace;
		e.previous = c->prev && !(e.head >= c->since && e.head - c->since >= c->grace);
		e.total_stake = c->cur->total;
		e.n_validators = c->cur->n;
	}
	pthread_mutex_unlock(&c->mu);
	if (r == 0)
		*ret = e;
	return r;
}

const char *ist_dc_handover_outcome_name(enum ist_dc_handover_outcome o, const struct ist_verify_result *res)
{
	switch (o) {
	case IST_DC_HANDOVER_ACCEPTED: return "accepted";
	case IST_DC_HANDOVER_ALREADY: return "already";
	case IST_DC_HANDOVER_REFUSED: return ist_verify_reason_name(res->reason);
	case IST_DC_HANDOVER_NO_TRUST: return "no-validator-set";
	case IST_DC_HANDOVER_CONFLICT: return "handover-conflict";
	}
	return "unknown";
}

void ist_dc_count_handover_rejection(struct ist_dc *c, const char *reason)
{
	ist_metric_inc(c->m_handover_rej, reason);
}

int ist_dc_handover(struct ist_dc *c, const struct ist_handover *h, enum ist_dc_handover_outcome *ret_outcome,
		    struct ist_verify_result *ret_result, uint64_t *ret_since, char *why, size_t whylen)
{
	memset(ret_result, 0, sizeof(*ret_result));
	set_why(why, whylen, "%s", "");
	*ret_since = 0;
	if (!h->has_handover || !h->has_certificate)
		return -IST_EINVAL;
	const struct ist_valset *next = &h->next;
	struct ist_valset *known = malloc(sizeof(*known)), *ncopy = malloc(sizeof(*ncopy));
	enum ist_dc_handover_outcome out = IST_DC_HANDOVER_REFUSED;
	MDB_txn *t = NULL;
	int r = -IST_ENOMEM;
	if (!known || !ncopy) {
		free(known);
		free(ncopy);
		return r;
	}
	*ncopy = *next;
	/* under the writers' lock from the look at the current set to the
	 * record: hand-overs are rare, and two at once must not both follow the
	 * same set */
	pthread_mutex_lock(&c->mu);
	if (!c->trusted) {
		out = IST_DC_HANDOVER_NO_TRUST;
		r = 0;
		goto unlock;
	}
	if ((r = lmdb_err(mdb_txn_begin(c->env, NULL, 0, &t))) < 0)
		goto unlock;
	uint64_t cur = c->cur->epoch;
	if (next->epoch <= cur) {
		uint64_t since = 0;
		r = epoch_get(c, t, next->epoch, known, &since, NULL);
		if (r == 0 && valset_same(known, next)) {
			out = IST_DC_HANDOVER_ALREADY;
			*ret_since = since;
			set_why(why, whylen, "epoch %" PRIu64 " is trusted already with this very set (since height %" PRIu64 ")",
				next->epoch, since);
		} else if (r == 0 || r == -IST_ENOTFOUND) {
			out = IST_DC_HANDOVER_CONFLICT;
			if (r == 0)
				set_why(why, whylen, "epoch %" PRIu64 " is trusted with another validator set: two sets "
					"certified for one epoch are a sign of equivocation upstream", next->epoch);
			else
				set_why(why, whylen, "epoch %" PRIu64 " is before the first epoch this chain trusts (%" PRIu64 ")",
					next->epoch, c->first);
		}
		if (r == -IST_ENOTFOUND)
			r = 0;
		mdb_txn_abort(t);
		goto unlock;
	}
	if (!ist_verify_handover(c->cur, next, &h->proof, &h->cert, c->accept, ret_result)) {
		mdb_txn_abort(t);
		r = 0;
		goto unlock;
	}
	uint64_t head = 0;
	if ((r = head_height(c, t, &head)) == 0)
		r = epoch_put(c, t, next, EPOCH_HOW_HANDOVER, head);
	if ((r = txn_end(t, r)) < 0)
		goto unlock;
	out = IST_DC_HANDOVER_ACCEPTED;
	free(c->prev);
	c->prev = c->cur;
	c->cur = ncopy;
	ncopy = NULL;
	c->since = head;
	*ret_since = head;
unlock:
	pthread_mutex_unlock(&c->mu);
	free(known);
	free(ncopy);
	if (r < 0)
		return r;
	*ret_outcome = out;
	if (out == IST_DC_HANDOVER_ACCEPTED) {
		ist_metric_inc(c->m_handovers, NULL);
		ist_metric_set(c->m_epoch, NULL, (double)next->epoch);
		ist_log_info(SUBSYS, "inbox: hand-over to epoch %" PRIu64 " (%zu validators, %" PRIu64 " stake) accepted at "
			     "height %" PRIu64 "; epoch %" PRIu64 " certificates are accepted for %" PRIu64 " more blocks",
			     next->epoch, next->n, next->total, *ret_since, next->epoch - 1, c->grace);
	} else if (out != IST_DC_HANDOVER_ALREADY) {
		ist_metric_inc(c->m_handover_rej, ist_dc_handover_outcome_name(out, ret_result));
	}
	return 0;
}
