#include "storage/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "storage/internal.h"

#define SUBSYS "storage"
#define LOCK_FILE "isthmus.lock"
#define DATA_FILE "data.mdb"

/* ---- errors ---- */

int ist_store_lmdb_err(int rc, const char *what)
{
	if (rc == 0)
		return 0;
	/* a miss or a collision is an ordinary answer, not worth a log line */
	if (rc != MDB_NOTFOUND && rc != MDB_KEYEXIST)
		ist_log_debug(SUBSYS, "%s: %s", what, mdb_strerror(rc));
	switch (rc) {
	case MDB_NOTFOUND:         return -IST_ENOTFOUND;
	case MDB_KEYEXIST:         return -IST_EEXISTS;
	case MDB_MAP_FULL:         return -IST_EDB_FULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:          return -IST_EDB_CORRUPT;
	case MDB_VERSION_MISMATCH: return -IST_EDB_SCHEMA;
	/* every reader slot is taken: transient, the caller may retry */
	case MDB_READERS_FULL:     return -IST_EAGAIN;
	case MDB_BAD_VALSIZE:      return -IST_EINVAL;
	case EAGAIN:
	case EBUSY:                return -IST_EDB_LOCKED;
	case ENOMEM:               return -IST_ENOMEM;
	case EACCES:
	case EPERM:
	case EROFS:                return -IST_EPERM;
	case ENOENT:               return -IST_ENOTFOUND;
	case EIO:
	case ENOSPC:               return -IST_EIO;
	default:                   return -IST_EDB;
	}
}

int ist_store_write_err(struct ist_txn *txn, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		txn->map_full = true;
	return ist_store_lmdb_err(rc, what);
}

int ist_store_errf(char *errbuf, size_t errlen, const char *path, int err, const char *fmt, ...)
{
	if (errbuf && errlen > 0) {
		int n = snprintf(errbuf, errlen, "%s: ", path ? path : "(store)");
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return err;
}

/* ---- the reader gate (see struct ist_store) ---- */

static int gate_enter(struct ist_store *s)
{
	pthread_mutex_lock(&s->gate_mu);
	while (s->resizing)
		pthread_cond_wait(&s->gate_cv, &s->gate_mu);
	if (__atomic_load_n(&s->broken, __ATOMIC_RELAXED)) {
		pthread_mutex_unlock(&s->gate_mu);
		return -IST_EDB;
	}
	s->readers++;
	pthread_mutex_unlock(&s->gate_mu);
	return 0;
}

static void gate_leave(struct ist_store *s)
{
	pthread_mutex_lock(&s->gate_mu);
	IST_REQUIRE(s->readers > 0);
	if (--s->readers == 0 && s->resizing)
		pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->gate_mu);
}

/* Sets the map size (0: adopt the size another process recorded) with every
 * reader kept out. The caller holds write_mu and has no transaction open. */
static int remap(struct ist_store *s, uint64_t size)
{
	pthread_mutex_lock(&s->gate_mu);
	s->resizing = true;
	while (s->readers > 0)
		pthread_cond_wait(&s->gate_cv, &s->gate_mu);
	pthread_mutex_unlock(&s->gate_mu);

	int rc = mdb_env_set_mapsize(s->env, (size_t)size);

	pthread_mutex_lock(&s->gate_mu);
	if (rc != 0) {
		/* LMDB unmapped the file and could not map it again: no
		 * transaction can work on this handle any more */
		__atomic_store_n(&s->broken, true, __ATOMIC_RELAXED);
		ist_log_error(SUBSYS, "%s: remapping the database to %" PRIu64 " bytes failed: %s; restart needed",
			      s->path, size, mdb_strerror(rc));
	}
	s->resizing = false;
	pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->gate_mu);
	return rc == 0 ? 0 : ist_store_lmdb_err(rc, "mdb_env_set_mapsize");
}

/* Doubles the map, up to map_max. The caller holds write_mu. */
static int grow(struct ist_store *s)
{
	MDB_envinfo info;
	int rc = mdb_env_info(s->env, &info);
	if (rc != 0)
		return ist_store_lmdb_err(rc, "mdb_env_info");
	uint64_t cur = info.me_mapsize;
	if (cur >= s->map_max) {
		ist_log_warn(SUBSYS, "%s: database map full at %" PRIu64 " bytes (the configured maximum)",
			     s->path, cur);
		return -IST_EDB_FULL;
	}
	uint64_t next = cur > s->map_max / 2 ? s->map_max : cur * 2;
	next -= next % s->page_size;
	if (next <= cur)
		return -IST_EDB_FULL;
	int r = remap(s, next);
	if (r != 0)
		return r;
	__atomic_add_fetch(&s->grow_count, 1, __ATOMIC_RELAXED);
	ist_log_info(SUBSYS, "%s: database map grown from %" PRIu64 " to %" PRIu64 " bytes", s->path, cur, next);
	return 0;
}

/* ---- open and close ---- */

static uint64_t round_up(uint64_t v, uint64_t unit)
{
	uint64_t r = v % unit;
	return r == 0 ? v : v + (unit - r);
}

/* mkdir -p with mode 0700 for every directory created. */
static int mkdir_p(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return ENOMEM;
	int err = 0;
	for (char *q = p + 1; ; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			err = errno;
			break;
		}
		*q = c;
		if (c == '\0')
			break;
		while (q[1] == '/')
			q++;
	}
	free(p);
	if (err)
		return err;
	struct stat st;
	if (stat(dir, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static int take_lock(struct ist_store *s, char *errbuf, size_t errlen)
{
	_cleanup_free_ char *lock_path = join(s->path, LOCK_FILE);
	if (!lock_path)
		return -IST_ENOMEM;
	s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		/* saved: ist_store_lmdb_err may log, which may change errno */
		int e = errno;
		return ist_store_errf(errbuf, errlen, s->path, ist_store_lmdb_err(e, "open lock file"),
				      "cannot open %s: %s", LOCK_FILE, strerror(e));
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK)
			return ist_store_errf(errbuf, errlen, s->path, -IST_EDB_LOCKED,
					      "database in use by another process (%s is locked); "
					      "is another isthmusd running on this home?", LOCK_FILE);
		return ist_store_errf(errbuf, errlen, s->path, -IST_EIO, "cannot lock %s: %s", LOCK_FILE,
				      strerror(e));
	}
	return 0;
}

void ist_store_close(struct ist_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	pthread_mutex_destroy(&s->write_mu);
	pthread_mutex_destroy(&s->gate_mu);
	pthread_cond_destroy(&s->gate_cv);
	free(s->path);
	free(s);
}

const char *ist_store_path(const struct ist_store *s)
{
	return s->path;
}

int ist_store_open(const char *dir, const struct ist_store_options *opts, struct ist_store **ret_store,
		   char *errbuf, size_t errlen)
{
	if (errbuf && errlen > 0)
		errbuf[0] = '\0';
	if (!dir || !*dir || !ret_store)
		return ist_store_errf(errbuf, errlen, dir, -IST_EINVAL, "invalid arguments");

	struct ist_store_options o = { 0 };
	if (opts)
		o = *opts;
	if (o.chain_id && (o.chain_id_len == 0 || o.chain_id_len > IST_STORE_CHAIN_ID_MAX))
		return ist_store_errf(errbuf, errlen, dir, -IST_EINVAL, "chain id must be 1..%d bytes",
				      IST_STORE_CHAIN_ID_MAX);
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t page = psz > 0 ? (uint64_t)psz : 4096;
	uint64_t map_size = o.map_size ? o.map_size : IST_STORE_DEFAULT_MAP_SIZE;
	uint64_t map_max = o.map_size_max ? o.map_size_max : IST_STORE_DEFAULT_MAP_MAX;
	map_size = round_up(IST_MAX(map_size, IST_STORE_MIN_MAP_SIZE), page);
	map_max = round_up(IST_MAX(map_max, map_size), page);
	if (map_max > SIZE_MAX / 2)
		return ist_store_errf(errbuf, errlen, dir, -IST_EINVAL, "maximum map size too large");
	unsigned max_readers = o.max_readers ? o.max_readers : IST_STORE_DEFAULT_MAX_READERS;

	struct ist_store *s = calloc(1, sizeof(*s));
	if (!s)
		return ist_store_errf(errbuf, errlen, dir, -IST_ENOMEM, "out of memory");
	s->lock_fd = -1;
	s->read_only = o.read_only;
	s->map_max = map_max;
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->gate_mu, NULL);
	pthread_cond_init(&s->gate_cv, NULL);
	int r;
	s->path = strdup(dir);
	_cleanup_free_ char *data_path = join(dir, DATA_FILE);
	if (!s->path || !data_path) {
		r = ist_store_errf(errbuf, errlen, dir, -IST_ENOMEM, "out of memory");
		goto fail;
	}

	if (!o.read_only && !o.must_exist) {
		int e = mkdir_p(dir);
		if (e) {
			r = ist_store_errf(errbuf, errlen, dir, ist_store_lmdb_err(e, "mkdir"),
					   "cannot create directory: %s", strerror(e));
			goto fail;
		}
	}
	struct stat st;
	if (stat(dir, &st) != 0) {
		int e = errno;
		r = ist_store_errf(errbuf, errlen, dir, e == ENOENT ? -IST_ENOTFOUND : ist_store_lmdb_err(e, "stat"),
				   "no store here (%s)", strerror(e));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		r = ist_store_errf(errbuf, errlen, dir, -IST_EINVAL, "not a directory");
		goto fail;
	}
	if (st.st_mode & 077)
		ist_log_warn(SUBSYS, "%s: directory is accessible by group or others (mode %03o); chmod 700 it",
			     dir, (unsigned)(st.st_mode & 0777));

	/* before the lock, whose file would be the first thing made here */
	if (o.must_exist && !o.read_only && stat(data_path, &st) != 0) {
		r = ist_store_errf(errbuf, errlen, dir, -IST_ENOTFOUND, "no store here (%s missing)", DATA_FILE);
		goto fail;
	}
	if (!o.read_only) {
		r = take_lock(s, errbuf, errlen);
		if (r)
			goto fail;
	}

	bool exists = stat(data_path, &st) == 0;
	if (!exists && o.read_only) {
		r = ist_store_errf(errbuf, errlen, dir, -IST_ENOTFOUND, "no store here (%s missing)", DATA_FILE);
		goto fail;
	}

	int rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, IST_STORE_DB_COUNT + 4);
	if (rc == 0)
		rc = mdb_env_set_maxreaders(s->env, max_readers);
	/* A new store starts at map_size; an existing one at the size its
	 * meta page records (LMDB's default when none is set). */
	if (rc == 0 && !exists)
		rc = mdb_env_set_mapsize(s->env, (size_t)map_size);
	if (rc != 0) {
		r = ist_store_errf(errbuf, errlen, dir, ist_store_lmdb_err(rc, "mdb_env_create"),
				   "cannot set up LMDB: %s", mdb_strerror(rc));
		goto fail;
	}
	/* MDB_NOTLS: read transactions are not tied to a thread (NNG's pool
	 * may end one on another thread) and reader slots are per
	 * transaction, not per thread. Default durability: fsync on commit. */
	rc = mdb_env_open(s->env, dir, MDB_NOTLS | (o.read_only ? MDB_RDONLY : 0), 0600);
	if (rc != 0) {
		r = ist_store_lmdb_err(rc, "mdb_env_open");
		if (rc == MDB_VERSION_MISMATCH || rc == MDB_INVALID)
			r = ist_store_errf(errbuf, errlen, dir, r,
					   "%s is not a database this LMDB (%s) can read: %s", DATA_FILE,
					   mdb_version(NULL, NULL, NULL), mdb_strerror(rc));
		else
			r = ist_store_errf(errbuf, errlen, dir, r, "cannot open LMDB environment: %s",
					   mdb_strerror(rc));
		goto fail;
	}

	/* free the reader slots of processes that died holding them (a
	 * SIGKILLed node): they would pin old pages forever */
	int dead = 0;
	if (mdb_reader_check(s->env, &dead) == 0 && dead > 0)
		ist_log_info(SUBSYS, "%s: cleared %d stale reader slot(s)", dir, dead);

	MDB_stat ms;
	MDB_envinfo info;
	rc = mdb_env_stat(s->env, &ms);
	if (rc == 0)
		rc = mdb_env_info(s->env, &info);
	if (rc != 0) {
		r = ist_store_errf(errbuf, errlen, dir, ist_store_lmdb_err(rc, "mdb_env_stat"),
				   "cannot read LMDB environment: %s", mdb_strerror(rc));
		goto fail;
	}
	s->page_size = ms.ms_psize;
	if (info.me_mapsize > s->map_max)
		s->map_max = info.me_mapsize;
	if (!o.read_only && info.me_mapsize < map_size) {
		rc = mdb_env_set_mapsize(s->env, (size_t)map_size);
		if (rc != 0) {
			r = ist_store_errf(errbuf, errlen, dir, ist_store_lmdb_err(rc, "mdb_env_set_mapsize"),
					   "cannot map %" PRIu64 " bytes: %s", map_size, mdb_strerror(rc));
			goto fail;
		}
	}

	r = ist_store_schema_open(s, &o, errbuf, errlen);
	if (r)
		goto fail;
	*ret_store = s;
	return 0;
fail:
	ist_store_close(s);
	return r;
}

/* ---- transactions ---- */

int ist_store_read_begin(struct ist_store *s, struct ist_txn **ret_txn)
{
	if (!s || !ret_txn)
		return -IST_EINVAL;
	struct ist_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return -IST_ENOMEM;
	t->store = s;
	for (;;) {
		int r = gate_enter(s);
		if (r) {
			free(t);
			return r;
		}
		int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t->txn);
		if (rc == MDB_MAP_RESIZED) {
			/* another process grew the map beyond ours: adopt its size */
			gate_leave(s);
			pthread_mutex_lock(&s->write_mu);
			r = remap(s, 0);
			pthread_mutex_unlock(&s->write_mu);
			if (r) {
				free(t);
				return r;
			}
			continue;
		}
		if (rc != 0) {
			gate_leave(s);
			free(t);
			return ist_store_lmdb_err(rc, "begin read transaction");
		}
		break;
	}
	*ret_txn = t;
	return 0;
}

void ist_store_read_end(struct ist_txn *txn)
{
	if (!txn)
		return;
	IST_REQUIRE(!txn->write);
	mdb_txn_abort(txn->txn);
	gate_leave(txn->store);
	free(txn);
}

/* The write loop; the caller holds write_mu. */
static int write_locked(struct ist_store *s, ist_store_write_fn fn, void *ctx, bool internal)
{
	for (;;) {
		if (__atomic_load_n(&s->broken, __ATOMIC_RELAXED))
			return -IST_EDB;
		struct ist_txn t = { .store = s, .write = true, .internal = internal };
		int rc = mdb_txn_begin(s->env, NULL, 0, &t.txn);
		if (rc == MDB_MAP_RESIZED) {
			int r = remap(s, 0);
			if (r)
				return r;
			continue;
		}
		if (rc != 0)
			return ist_store_lmdb_err(rc, "begin write transaction");

		int r = fn(&t, ctx);
		IST_REQUIRE(r <= 0);
		if (t.map_full) {
			/* whatever fn made of the error, the transaction is dead */
			mdb_txn_abort(t.txn);
			r = grow(s);
			if (r)
				return r;
			continue;
		}
		if (r != 0) {
			mdb_txn_abort(t.txn);
			return r;
		}
		rc = mdb_txn_commit(t.txn); /* frees the transaction, failed or not */
		if (rc == MDB_MAP_FULL) {
			ist_log_debug(SUBSYS, "commit: %s", mdb_strerror(rc));
			r = grow(s);
			if (r)
				return r;
			continue;
		}
		return ist_store_lmdb_err(rc, "commit");
	}
}

int ist_store_write(struct ist_store *s, ist_store_write_fn fn, void *ctx)
{
	if (!s || !fn)
		return -IST_EINVAL;
	if (s->read_only)
		return -IST_EPERM;
	pthread_mutex_lock(&s->write_mu);
	int r = write_locked(s, fn, ctx, false);
	pthread_mutex_unlock(&s->write_mu);
	return r;
}

int ist_store_write_internal(struct ist_store *s, ist_store_write_fn fn, void *ctx)
{
	pthread_mutex_lock(&s->write_mu);
	int r = write_locked(s, fn, ctx, true);
	pthread_mutex_unlock(&s->write_mu);
	return r;
}

/* ---- generic access ---- */

static bool key_ok(const void *key, size_t klen)
{
	return key && klen > 0 && klen <= IST_STORE_KEY_MAX;
}

static bool db_ok(enum ist_store_db db)
{
	return (unsigned)db < IST_STORE_DB_COUNT;
}

/* "schema" and "v/..." of meta belong to the version machinery. */
static bool reserved(const struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen)
{
	if (txn->internal || db != IST_STORE_DB_META)
		return false;
	return (klen == 6 && memcmp(key, "schema", 6) == 0) || (klen >= 2 && memcmp(key, "v/", 2) == 0);
}

static int put_flags(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen,
		     const void *val, size_t vlen, unsigned flags)
{
	if (!txn || !txn->write || !db_ok(db) || !key_ok(key, klen) || (!val && vlen > 0) ||
	    reserved(txn, db, key, klen))
		return -IST_EINVAL;
	static const uint8_t empty[1];
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
	MDB_val v = { .mv_size = vlen, .mv_data = (void *)(val ? val : empty) };
	int rc = mdb_put(txn->txn, txn->store->dbi[db], &k, &v, flags);
	return ist_store_write_err(txn, rc, "mdb_put");
}

int ist_store_put(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen,
		  const void *val, size_t vlen)
{
	return put_flags(txn, db, key, klen, val, vlen, 0);
}

int ist_store_insert(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	return put_flags(txn, db, key, klen, val, vlen, MDB_NOOVERWRITE);
}

int ist_store_get(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen,
		  const uint8_t **ret_val, size_t *ret_vlen)
{
	if (!txn || !db_ok(db) || !key_ok(key, klen) || !ret_val || !ret_vlen)
		return -IST_EINVAL;
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
	MDB_val v;
	int rc = mdb_get(txn->txn, txn->store->dbi[db], &k, &v);
	if (rc != 0)
		return ist_store_lmdb_err(rc, "mdb_get");
	*ret_val = v.mv_data;
	*ret_vlen = v.mv_size;
	return 0;
}

int ist_store_get_fixed(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen, void *out,
			size_t len)
{
	const uint8_t *v;
	size_t n;
	int r = ist_store_get(txn, db, key, klen, &v, &n);
	if (r)
		return r;
	if (n != len)
		return -IST_EDB_CORRUPT;
	memcpy(out, v, len);
	return 0;
}

int ist_store_del(struct ist_txn *txn, enum ist_store_db db, const void *key, size_t klen)
{
	if (!txn || !txn->write || !db_ok(db) || !key_ok(key, klen) || reserved(txn, db, key, klen))
		return -IST_EINVAL;
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
	int rc = mdb_del(txn->txn, txn->store->dbi[db], &k, NULL);
	return ist_store_write_err(txn, rc, "mdb_del");
}

int ist_store_count(struct ist_txn *txn, enum ist_store_db db, uint64_t *ret_entries)
{
	if (!txn || !db_ok(db) || !ret_entries)
		return -IST_EINVAL;
	MDB_stat st;
	int rc = mdb_stat(txn->txn, txn->store->dbi[db], &st);
	if (rc != 0)
		return ist_store_lmdb_err(rc, "mdb_stat");
	*ret_entries = st.ms_entries;
	return 0;
}

/* ---- cursors ---- */

struct ist_store_cursor {
	MDB_cursor *c;
};

int ist_store_cursor_open(struct ist_txn *txn, enum ist_store_db db, struct ist_store_cursor **ret_cur)
{
	if (!txn || !db_ok(db) || !ret_cur)
		return -IST_EINVAL;
	struct ist_store_cursor *cur = calloc(1, sizeof(*cur));
	if (!cur)
		return -IST_ENOMEM;
	int rc = mdb_cursor_open(txn->txn, txn->store->dbi[db], &cur->c);
	if (rc != 0) {
		free(cur);
		return ist_store_lmdb_err(rc, "mdb_cursor_open");
	}
	*ret_cur = cur;
	return 0;
}

void ist_store_cursor_close(struct ist_store_cursor *cur)
{
	if (!cur)
		return;
	mdb_cursor_close(cur->c);
	free(cur);
}

int ist_store_cursor_get(struct ist_store_cursor *cur, enum ist_store_cursor_op op, const void *key, size_t klen,
			 const uint8_t **ret_key, size_t *ret_klen, const uint8_t **ret_val, size_t *ret_vlen)
{
	if (!cur)
		return -IST_EINVAL;
	MDB_val k = { 0 }, v = { 0 };
	int rc;
	switch (op) {
	case IST_STORE_FIRST: rc = mdb_cursor_get(cur->c, &k, &v, MDB_FIRST); break;
	case IST_STORE_LAST:  rc = mdb_cursor_get(cur->c, &k, &v, MDB_LAST); break;
	case IST_STORE_NEXT:  rc = mdb_cursor_get(cur->c, &k, &v, MDB_NEXT); break;
	case IST_STORE_PREV:  rc = mdb_cursor_get(cur->c, &k, &v, MDB_PREV); break;
	case IST_STORE_SEEK_GE:
	case IST_STORE_SEEK_LE:
		if (!key_ok(key, klen))
			return -IST_EINVAL;
		k.mv_data = (void *)key;
		k.mv_size = klen;
		rc = mdb_cursor_get(cur->c, &k, &v, MDB_SET_RANGE);
		if (op == IST_STORE_SEEK_LE) {
			if (rc == MDB_NOTFOUND) {
				/* every key is smaller: the last one */
				rc = mdb_cursor_get(cur->c, &k, &v, MDB_LAST);
			} else if (rc == 0 && (k.mv_size != klen || memcmp(k.mv_data, key, klen) != 0)) {
				/* landed on the first greater key: step back */
				rc = mdb_cursor_get(cur->c, &k, &v, MDB_PREV);
			}
		}
		break;
	default:
		return -IST_EINVAL;
	}
	if (rc != 0)
		return ist_store_lmdb_err(rc, "mdb_cursor_get");
	if (ret_key)
		*ret_key = k.mv_data;
	if (ret_klen)
		*ret_klen = k.mv_size;
	if (ret_val)
		*ret_val = v.mv_data;
	if (ret_vlen)
		*ret_vlen = v.mv_size;
	return 0;
}

/* ---- statistics ---- */

int ist_store_stat(struct ist_store *s, struct ist_store_stat *ret)
{
	if (!s || !ret)
		return -IST_EINVAL;
	int r = gate_enter(s); /* env_info reads the meta pages in the map */
	if (r)
		return r;
	MDB_envinfo info;
	int rc = mdb_env_info(s->env, &info);
	gate_leave(s);
	if (rc != 0)
		return ist_store_lmdb_err(rc, "mdb_env_info");
	ret->page_size = s->page_size;
	ret->used_bytes = ((uint64_t)info.me_last_pgno + 1) * s->page_size;
	ret->map_bytes = info.me_mapsize;
	ret->map_max_bytes = s->map_max;
	ret->readers = info.me_numreaders;
	ret->max_readers = info.me_maxreaders;
	ret->grow_count = __atomic_load_n(&s->grow_count, __ATOMIC_RELAXED);
	return 0;
}
