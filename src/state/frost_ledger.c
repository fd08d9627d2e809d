/* The ledger's FROST state (frost_ledger.h). */
#include "state/frost_ledger.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/ed25519.h"

#define FL_VERSION 1
#define MAX_GROUPS 4

struct queue {
	uint64_t epoch;
	uint16_t id;
	uint32_t next_seq;
	size_t n;
	struct ist_fl_nonce q[IST_FL_MAX_QUEUE];
};

struct ist_fl {
	uint64_t network_id;
	uint32_t round_blocks, timeout;
	struct ist_fl_dkg *dkg;            /* NULL: no run */
	struct ist_fl_group groups[MAX_GROUPS];
	size_t n_groups;
	struct queue **queues;
	size_t n_queues;
	struct ist_fl_job *jobs;
	size_t n_jobs, cap_jobs;
	bool dirty;
};

struct ist_fl *ist_fl_new(uint64_t network_id, uint32_t round_blocks, uint32_t sign_timeout_blocks)
{
	struct ist_fl *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->network_id = network_id;
	f->round_blocks = round_blocks ? round_blocks : 1;
	f->timeout = sign_timeout_blocks ? sign_timeout_blocks : 1;
	return f;
}

static void dkg_free(struct ist_fl_dkg *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < IST_DKG_MAX_PARTICIPANTS; i++) {
		free(d->r1[i]);
		free(d->r2[i]);
	}
	free(d);
}

static void queues_free(struct ist_fl *f)
{
	for (size_t i = 0; i < f->n_queues; i++)
		free(f->queues[i]);
	free(f->queues);
	f->queues = NULL;
	f->n_queues = 0;
}

void ist_fl_free(struct ist_fl *f)
{
	if (!f)
		return;
	dkg_free(f->dkg);
	queues_free(f);
	free(f->jobs);
	free(f);
}

bool ist_fl_dirty(const struct ist_fl *f) { return f->dirty; }
void ist_fl_clean(struct ist_fl *f) { f->dirty = false; }
const struct ist_fl_dkg *ist_fl_dkg_get(const struct ist_fl *f) { return f->dkg; }
size_t ist_fl_n_jobs(const struct ist_fl *f) { return f->n_jobs; }
const struct ist_fl_job *ist_fl_job_at(const struct ist_fl *f, size_t i) { return i < f->n_jobs ? &f->jobs[i] : NULL; }

uint16_t ist_fl_dkg_id(const struct ist_fl_dkg *d, const uint8_t key[32])
{
	for (uint16_t i = 0; d && i < d->n; i++)
		if (memcmp(d->node_keys[i], key, 32) == 0)
			return (uint16_t)(i + 1);
	return 0;
}

uint16_t ist_fl_group_id(const struct ist_fl_group *g, const uint8_t key[32])
{
	for (uint16_t i = 0; g && i < g->n; i++)
		if (memcmp(g->node_keys[i], key, 32) == 0)
			return (uint16_t)(i + 1);
	return 0;
}

int ist_fl_job_session(const struct ist_fl_job *j, const struct ist_fl_group *g, struct ist_frost_session **ret)
{
	struct ist_frost_commitment *list = calloc(j->n_signers ? j->n_signers : 1, sizeof(*list));
	if (!list)
		return -IST_ENOMEM;
	for (uint16_t i = 0; i < j->n_signers; i++)
		list[i] = j->signers[i].c;
	struct ist_frost_session *s = NULL;
	int r = ist_frost_session_new(g->group_key, list, j->n_signers, &s);
	if (r == 0)
		r = ist_frost_session_bind(s, j->digest, IST_HASH_BYTES);
	free(list);
	if (r < 0) {
		ist_frost_session_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- items ---- */

void ist_fl_item_signed_bytes(uint64_t network_id, const uint8_t *item, size_t len_wo_sig, struct ist_buf *ret)
{
	ist_buf_put(ret, IST_FL_ITEM_DOMAIN, strlen(IST_FL_ITEM_DOMAIN));
	ist_buf_put_be64(ret, network_id);
	ist_buf_put(ret, item, len_wo_sig);
}

void ist_fl_item_head(struct ist_buf *b, enum ist_fl_item type, uint64_t epoch, uint16_t sender)
{
	ist_buf_put_u8(b, (uint8_t)type);
	ist_buf_put_be64(b, epoch);
	ist_buf_put_be16(b, sender);
}

void ist_fl_nonce_head(struct ist_buf *b, uint64_t epoch, uint16_t member, uint32_t first_seq, uint16_t count)
{
	ist_buf_put_be64(b, epoch);
	ist_buf_put_be16(b, member);
	ist_buf_put_be32(b, first_seq);
	ist_buf_put_be16(b, count);
}

void ist_fl_cert_item(struct ist_buf *b, uint64_t epoch, uint64_t height, const uint8_t sig64[64])
{
	ist_buf_put_u8(b, IST_FL_CERT);
	ist_buf_put_be64(b, epoch);
	ist_buf_put_be64(b, height);
	ist_buf_put(b, sig64, 64);
}

bool ist_fl_cert_item_parse(const uint8_t *p, size_t len, uint64_t *ret_epoch, uint64_t *ret_height,
			    uint8_t ret_sig64[64])
{
	if (len != 1 + 8 + 8 + 64 || p[0] != IST_FL_CERT)
		return false;
	*ret_epoch = ist_get_be64(p + 1);
	*ret_height = ist_get_be64(p + 9);
	memcpy(ret_sig64, p + 17, 64);
	return true;
}

void ist_fl_share_signed_bytes(uint64_t network_id, uint64_t epoch, uint64_t height, uint32_t attempt, uint16_t id,
			       const uint8_t z[32], struct ist_buf *ret)
{
	uint8_t m[1 + 8 + 8 + 4 + 2 + 32];
	m[0] = IST_FL_SHARE_TAG;
	ist_put_be64(m + 1, epoch);
	ist_put_be64(m + 9, height);
	ist_put_be32(m + 17, attempt);
	ist_put_be16(m + 21, id);
	memcpy(m + 23, z, 32);
	ist_fl_item_signed_bytes(network_id, m, sizeof(m), ret);
}

static bool item_sig_ok(const struct ist_fl *f, const uint8_t key[32], const uint8_t *p, size_t len)
{
	if (len < 64)
		return false;
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_fl_item_signed_bytes(f->network_id, p, len - 64, &b);
	bool ok = ist_buf_err(&b) == 0 && ist_ed25519_verify(key, b.data, b.len, p + len - 64);
	ist_buf_fini(&b);
	return ok;
}

/* ---- groups and nonces ---- */

const struct ist_fl_group *ist_fl_group_get(const struct ist_fl *f, uint64_t epoch)
{
	for (size_t i = 0; i < f->n_groups; i++)
		if (f->groups[i].epoch == epoch)
			return &f->groups[i];
	return NULL;
}

int ist_fl_group_set(struct ist_fl *f, const struct ist_fl_group *g)
{
	for (size_t i = 0; i < f->n_groups; i++)
		if (f->groups[i].epoch == g->epoch) {
			f->groups[i] = *g;
			f->dirty = true;
			return 0;
		}
	if (f->n_groups == MAX_GROUPS) {
		memmove(&f->groups[0], &f->groups[1], (MAX_GROUPS - 1) * sizeof(f->groups[0]));
		f->n_groups--;
	}
	f->groups[f->n_groups++] = *g;
	f->dirty = true;
	return 0;
}

static struct queue *queue_get(struct ist_fl *f, uint64_t epoch, uint16_t id, bool create)
{
	for (size_t i = 0; i < f->n_queues; i++)
		if (f->queues[i]->epoch == epoch && f->queues[i]->id == id)
			return f->queues[i];
	if (!create)
		return NULL;
	struct queue **nq = realloc(f->queues, (f->n_queues + 1) * sizeof(*nq));
	if (!nq)
		return NULL;
	f->queues = nq;
	struct queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->epoch = epoch;
	q->id = id;
	f->queues[f->n_queues++] = q;
	return q;
}

void ist_fl_nonces(const struct ist_fl *f, uint64_t epoch, uint16_t id, size_t *ret_unused, uint32_t *ret_next_seq)
{
	struct queue *q = queue_get((struct ist_fl *)f, epoch, id, false);
	*ret_unused = q ? q->n : 0;
	*ret_next_seq = q ? q->next_seq : 0;
}

void ist_fl_prune(struct ist_fl *f, uint64_t epoch)
{
	size_t k = 0;
	for (size_t i = 0; i < f->n_groups; i++)
		if (f->groups[i].epoch >= epoch)
			f->groups[k++] = f->groups[i];
	f->n_groups = k;
	k = 0;
	for (size_t i = 0; i < f->n_queues; i++) {
		if (f->queues[i]->epoch >= epoch)
			f->queues[k++] = f->queues[i];
		else
			free(f->queues[i]);
	}
	f->n_queues = k;
	k = 0;
	for (size_t i = 0; i < f->n_jobs; i++)
		if (f->jobs[i].epoch >= epoch)
			f->jobs[k++] = f->jobs[i];
	f->n_jobs = k;
	f->dirty = true;
}

static int apply_nonces(struct ist_fl *f, const uint8_t *p, size_t len, const char **why)
{
	struct ist_cur c;
	ist_cur_init(&c, p, len);
	uint64_t epoch = ist_cur_be64(&c);
	uint16_t id = ist_cur_be16(&c);
	uint32_t first = ist_cur_be32(&c);
	uint16_t count = ist_cur_be16(&c);
	if (!ist_cur_ok(&c) || count < 1 || count > IST_FL_MAX_BATCH || len != 16 + 64u * count + 64) {
		*why = "malformed nonce commitments";
		return 0;
	}
	const struct ist_fl_group *g = ist_fl_group_get(f, epoch);
	if (!g || id < 1 || id > g->n || !g->qualified[id - 1]) {
		*why = "nonce commitments from no qualified member of an epoch with a group key";
		return 0;
	}
	if (!item_sig_ok(f, g->node_keys[id - 1], p, len)) {
		*why = "nonce commitments with a bad signature";
		return 0;
	}
	/* the queue is made only for a batch that counts: an ignored item
	 * leaves no trace */
	struct queue *q = queue_get(f, epoch, id, false);
	if (first != (q ? q->next_seq : 0)) {
		*why = "nonce commitments out of sequence";
		return 0;
	}
	if ((q ? q->n : 0) + count > IST_FL_MAX_QUEUE) {
		*why = "too many unused nonce commitments";
		return 0;
	}
	struct ist_fl_nonce tmp[IST_FL_MAX_BATCH];
	for (uint16_t i = 0; i < count; i++) {
		tmp[i].seq = first + i;
		tmp[i].c.id = id;
		ist_cur_get(&c, tmp[i].c.hiding, 32);
		ist_cur_get(&c, tmp[i].c.binding, 32);
		if (!ist_frost_element_valid(tmp[i].c.hiding) || !ist_frost_element_valid(tmp[i].c.binding)) {
			*why = "a nonce commitment is not a valid element";
			return 0;
		}
	}
	if (!q && !(q = queue_get(f, epoch, id, true)))
		return -IST_ENOMEM;
	memcpy(&q->q[q->n], tmp, count * sizeof(tmp[0]));
	q->n += count;
	q->next_seq = first + count;
	f->dirty = true;
	return 0;
}

/* ---- jobs ---- */

int ist_fl_job_add(struct ist_fl *f, uint64_t epoch, uint64_t height, const uint8_t digest[IST_HASH_BYTES])
{
	if (f->n_jobs == IST_FL_MAX_JOBS) {
		memmove(&f->jobs[0], &f->jobs[1], (f->n_jobs - 1) * sizeof(*f->jobs));
		f->n_jobs--;
	}
	if (f->n_jobs == f->cap_jobs) {
		size_t cap = f->cap_jobs ? f->cap_jobs * 2 : 8;
		struct ist_fl_job *j = realloc(f->jobs, cap * sizeof(*j));
		if (!j)
			return -IST_ENOMEM;
		f->jobs = j;
		f->cap_jobs = cap;
	}
	struct ist_fl_job *j = &f->jobs[f->n_jobs++];
	memset(j, 0, sizeof(*j));
	j->epoch = epoch;
	j->height = height;
	memcpy(j->digest, digest, IST_HASH_BYTES);
	f->dirty = true;
	return 0;
}

struct rank {
	bool absent;
	uint8_t h[IST_HASH_BYTES];
	uint16_t id;
};

/* the absent last, then by hash */
static int by_rank(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;
	if (x->absent != y->absent)
		return x->absent ? 1 : -1;
	return memcmp(x->h, y->h, IST_HASH_BYTES);
}

static int by_id(const void *a, const void *b)
{
	const struct ist_fl_nonce *x = a, *y = b;
	return (int)x->c.id - (int)y->c.id;
}

/* Chooses the attempt's signers, or leaves the job unassigned. */
static void assign(struct ist_fl *f, struct ist_fl_job *j, uint64_t height)
{
	const struct ist_fl_group *g = ist_fl_group_get(f, j->epoch);
	if (!g)
		return;
	struct rank *r = calloc(g->n, sizeof(*r));
	if (!r)
		return;   /* tried again at the next block (deterministic: malloc failure is not) */
	size_t k = 0;
	for (uint16_t id = 1; id <= g->n; id++) {
		struct queue *q = queue_get(f, j->epoch, id, false);
		if (!g->qualified[id - 1] || g->bad[id - 1] || !q || !q->n)
			continue;
		uint8_t in[IST_HASH_BYTES + 4 + 2];
		memcpy(in, j->digest, IST_HASH_BYTES);
		ist_put_be32(in + IST_HASH_BYTES, j->attempt);
		ist_put_be16(in + IST_HASH_BYTES + 4, id);
		ist_sha256(in, sizeof(in), r[k].h);
		r[k].absent = g->absent[id - 1];
		r[k++].id = id;
	}
	if (k >= g->t) {
		qsort(r, k, sizeof(*r), by_rank);
		j->n_signers = g->t;
		for (uint16_t i = 0; i < g->t; i++) {
			struct queue *q = queue_get(f, j->epoch, r[i].id, false);
			j->signers[i] = q->q[0];
			memmove(&q->q[0], &q->q[1], (q->n - 1) * sizeof(q->q[0]));
			q->n--;
		}
		qsort(j->signers, j->n_signers, sizeof(j->signers[0]), by_id);
		j->assigned = height;
		memset(j->got, 0, sizeof(j->got));
		f->dirty = true;
	}
	free(r);
}

void ist_fl_jobs_step(struct ist_fl *f, uint64_t height)
{
	size_t k = 0;
	for (size_t i = 0; i < f->n_jobs; i++) {
		struct ist_fl_job *j = &f->jobs[i];
		if (j->assigned && height >= j->assigned + f->timeout) {
			/* with a report of the attempt, its silent signers are
			 * absent; without one nothing is known */
			struct ist_fl_group *g = (struct ist_fl_group *)ist_fl_group_get(f, j->epoch);
			bool any = false;
			for (uint16_t x = 0; x < j->n_signers; x++)
				any |= j->got[x];
			for (uint16_t x = 0; g && any && x < j->n_signers; x++)
				if (!j->got[x] && j->signers[x].c.id <= g->n)
					g->absent[j->signers[x].c.id - 1] = true;
			j->attempt++;
			j->assigned = 0;
			j->n_signers = 0;
			f->dirty = true;
		}
		if (j->attempt >= IST_FL_MAX_ATTEMPTS) {
			f->dirty = true;
			continue;   /* dropped */
		}
		if (!j->assigned)
			assign(f, j, height);
		if (k != i)
			f->jobs[k] = *j;
		k++;
	}
	f->n_jobs = k;
}

/* A report: the signed shares of a job's current attempt. Returns 0 or
 * -IST_ENOMEM (the block is applied again: no report may be dropped). */
static int apply_shares(struct ist_fl *f, const uint8_t *p, size_t len, const char **why)
{
	struct ist_cur c;
	ist_cur_init(&c, p + 1, len - 1);
	uint64_t epoch = ist_cur_be64(&c), height = ist_cur_be64(&c);
	uint32_t attempt = ist_cur_be32(&c);
	uint16_t count = ist_cur_be16(&c);
	if (!ist_cur_ok(&c) || len != 1 + 22 + (size_t)count * (2 + 32 + 64)) {
		*why = "malformed share report";
		return 0;
	}
	struct ist_fl_group *g = (struct ist_fl_group *)ist_fl_group_get(f, epoch);
	struct ist_fl_job *j = NULL;
	for (size_t i = 0; g && i < f->n_jobs; i++)
		if (f->jobs[i].epoch == epoch && f->jobs[i].height == height)
			j = &f->jobs[i];
	if (!j || !j->assigned || j->attempt != attempt) {
		*why = "share report for no current attempt";
		return 0;
	}
	struct ist_frost_session *s = NULL;
	int r = ist_fl_job_session(j, g, &s);
	if (r < 0) {
		if (r == -IST_ENOMEM)
			return r;
		*why = "share report for an attempt whose commitments make no session";
		return 0;
	}
	for (uint16_t k = 0; k < count; k++) {
		uint16_t id = ist_cur_be16(&c);
		const uint8_t *z = ist_cur_ptr(&c, 32), *sig = ist_cur_ptr(&c, 64);
		int pos = -1;
		for (uint16_t x = 0; x < j->n_signers; x++)
			if (j->signers[x].c.id == id)
				pos = x;
		if (pos < 0 || j->got[pos] || id > g->n)
			continue;
		struct ist_buf b;
		ist_buf_init(&b, 0);
		ist_fl_share_signed_bytes(f->network_id, epoch, height, attempt, id, z, &b);
		bool signed_ok = ist_buf_err(&b) == 0 && ist_ed25519_verify(g->node_keys[id - 1], b.data, b.len, sig);
		ist_buf_fini(&b);
		if (!signed_ok)
			continue;   /* not the member's: proves nothing */
		if (ist_frost_session_verify_share(s, id, g->pubshares[id - 1], z)) {
			j->got[pos] = true;
			g->absent[id - 1] = false;
		} else if (!g->bad[id - 1]) {
			g->bad[id - 1] = true;
			g->bad_shares++;
		}
	}
	ist_frost_session_free(s);
	f->dirty = true;
	return 0;
}

static void apply_cert(struct ist_fl *f, const uint8_t *p, size_t len, const char **why)
{
	uint64_t epoch, height;
	uint8_t sig[64];
	if (!ist_fl_cert_item_parse(p, len, &epoch, &height, sig)) {
		*why = "malformed certificate item";
		return;
	}
	const struct ist_fl_group *g = ist_fl_group_get(f, epoch);
	for (size_t i = 0; g && i < f->n_jobs; i++) {
		struct ist_fl_job *j = &f->jobs[i];
		if (j->epoch != epoch || j->height != height)
			continue;
		if (crypto_sign_verify_detached(sig, j->digest, IST_HASH_BYTES, g->group_key) != 0) {
			*why = "certificate item with a bad signature";
			return;
		}
		memmove(j, j + 1, (f->n_jobs - i - 1) * sizeof(*j));
		f->n_jobs--;
		f->dirty = true;
		return;
	}
	*why = "certificate item for no pending job";
}

/* ---- DKG ---- */

int ist_fl_dkg_start(struct ist_fl *f, uint64_t epoch, bool handover, uint64_t start, uint16_t n,
		     const uint8_t (*node_keys)[32], const uint8_t (*enc_keys)[32])
{
	dkg_free(f->dkg);
	f->dkg = NULL;
	f->dirty = true;
	if (n < 1 || n > IST_DKG_MAX_PARTICIPANTS)
		return -IST_ERANGE;
	for (uint16_t i = 0; i < n; i++)
		if (!ist_dkg_enc_key_valid(enc_keys[i]))
			return -IST_ERANGE;
	struct ist_fl_dkg *d = calloc(1, sizeof(*d));
	if (!d)
		return -IST_ENOMEM;
	d->epoch = epoch;
	d->handover = handover;
	d->start = start;
	d->round = 1;
	d->round_end = start + f->round_blocks - 1;
	d->n = n;
	d->t = ist_dkg_threshold(n);
	memcpy(d->node_keys, node_keys, (size_t)n * 32);
	memcpy(d->enc_keys, enc_keys, (size_t)n * 32);
	f->dkg = d;
	return 0;
}

bool ist_fl_item_plausible(const struct ist_fl *f, bool nonce_kind, const uint8_t *p, size_t len)
{
	if (nonce_kind) {
		if (len < 16 + 64)
			return false;
		const struct ist_fl_group *g = ist_fl_group_get(f, ist_get_be64(p));
		uint16_t id = ist_get_be16(p + 8);
		return g && id >= 1 && id <= g->n && g->qualified[id - 1] && item_sig_ok(f, g->node_keys[id - 1], p, len);
	}
	if (len < 1)
		return false;
	if (p[0] == IST_FL_CERT)
		return len == 1 + 8 + 8 + 64;
	if (p[0] == IST_FL_SHARES)
		return len >= 1 + 22 && (len - 1 - 22) % (2 + 32 + 64) == 0;
	const struct ist_fl_dkg *d = f->dkg;
	if (!d || len < 11 + 64 || ist_get_be64(p + 1) != d->epoch)
		return false;
	uint16_t sender = ist_get_be16(p + 9);
	return sender >= 1 && sender <= d->n && item_sig_ok(f, d->node_keys[sender - 1], p, len);
}

void ist_fl_dkg_abort(struct ist_fl *f)
{
	dkg_free(f->dkg);
	f->dkg = NULL;
	f->dirty = true;
}

static struct ist_dkg_params params_of(const struct ist_fl *f, const struct ist_fl_dkg *d)
{
	return (struct ist_dkg_params){ .network_id = f->network_id, .epoch = d->epoch, .n = d->n, .t = d->t,
					.enc_keys = (const uint8_t (*)[IST_X25519_PUBKEY_BYTES])d->enc_keys };
}

static int apply_dkg(struct ist_fl *f, const uint8_t *p, size_t len, uint64_t height, const char **why)
{
	struct ist_fl_dkg *d = f->dkg;
	if (len < 11 + 64) {
		*why = "malformed DKG item";
		return 0;
	}
	uint8_t type = p[0];
	uint64_t epoch = ist_get_be64(p + 1);
	uint16_t sender = ist_get_be16(p + 9);
	if (!d || epoch != d->epoch || height < d->start) {
		*why = "DKG item for no running DKG";
		return 0;
	}
	if (sender < 1 || sender > d->n) {
		*why = "DKG item from no participant";
		return 0;
	}
	if (type != d->round) {
		*why = "DKG item of another round than the current one";
		return 0;
	}
	size_t i = sender - 1u;
	if (!item_sig_ok(f, d->node_keys[i], p, len)) {
		*why = "DKG item with a bad signature";
		return 0;
	}
	const uint8_t *body = p + 11;
	size_t blen = len - 11 - 64;
	struct ist_dkg_params prm = params_of(f, d);
	if (type == IST_FL_ROUND1) {
		if (d->r1[i])
			return 0;   /* first one counts */
		struct ist_dkg_round1 *r1 = malloc(sizeof(*r1));
		if (!r1)
			return -IST_ENOMEM;
		if (ist_dkg_round1_decode(body, blen, r1) < 0 || r1->dealer != sender ||
		    !ist_dkg_round1_verify(&prm, r1)) {
			free(r1);
			*why = "round-1 package does not verify";
			return 0;
		}
		d->r1[i] = r1;
	} else if (type == IST_FL_ROUND2) {
		if (d->r2[i] || !d->accepted[i])
			return 0;
		struct ist_dkg_round2 *r2 = malloc(sizeof(*r2));
		if (!r2)
			return -IST_ENOMEM;
		if (ist_dkg_round2_decode(body, blen, r2) < 0 || r2->dealer != sender ||
		    !ist_dkg_round2_check(&prm, d->accepted, r2)) {
			free(r2);
			*why = "round-2 package fails its check";
			return 0;
		}
		d->r2[i] = r2;
	} else if (type == IST_FL_ROUND3) {
		if (d->r3[i] || !d->accepted[i] || d->disq[i])
			return 0;
		if (blen < 2 || blen != 2 + (size_t)ist_get_be16(body) * IST_DKG_COMPLAINT_BYTES) {
			*why = "malformed complaint list";
			return 0;
		}
		uint16_t nc = ist_get_be16(body);
		for (uint16_t k = 0; k < nc; k++) {
			struct ist_dkg_complaint c;
			if (ist_dkg_complaint_decode(body + 2 + (size_t)k * IST_DKG_COMPLAINT_BYTES,
						     IST_DKG_COMPLAINT_BYTES, &c) < 0 ||
			    c.complainer != sender || c.dealer < 1 || c.dealer > d->n)
				continue;
			size_t di = c.dealer - 1u;
			if (!d->r1[di] || !d->r2[di] || d->disq[di])
				continue;
			enum ist_dkg_verdict v;
			if (ist_dkg_complaint_judge(&prm, d->r1[di], d->r2[di], &c, &v) < 0)
				continue;
			if (v == IST_DKG_DEALER_FAULT)
				d->disq[di] = true;
			else if (v == IST_DKG_COMPLAINER_FAULT)
				d->false_complaints++;
		}
		d->r3[i] = true;
	} else {
		*why = "unknown DKG item type";
		return 0;
	}
	f->dirty = true;
	return 0;
}

int ist_fl_apply_item(struct ist_fl *f, bool nonce_kind, const uint8_t *p, size_t len, uint64_t height,
		      const char **ret_why)
{
	const char *why = NULL;
	int r = 0;
	if (nonce_kind)
		r = apply_nonces(f, p, len, &why);
	else if (len >= 1 && p[0] == IST_FL_CERT)
		apply_cert(f, p, len, &why);
	else if (len >= 1 && p[0] == IST_FL_SHARES)
		r = apply_shares(f, p, len, &why);
	else
		r = apply_dkg(f, p, len, height, &why);
	if (ret_why)
		*ret_why = why;
	return r;
}

static bool all(const struct ist_fl_dkg *d, const bool *have_ptr, struct ist_dkg_round1 *const *r1,
		struct ist_dkg_round2 *const *r2)
{
	for (uint16_t i = 0; i < d->n; i++) {
		if (r1 && !r1[i])
			return false;
		if (r2 && d->accepted[i] && !r2[i])
			return false;
		if (have_ptr && d->accepted[i] && !d->disq[i] && !have_ptr[i])
			return false;
	}
	return true;
}

enum ist_fl_step ist_fl_dkg_step(struct ist_fl *f, uint64_t height, struct ist_fl_group *ret_group)
{
	struct ist_fl_dkg *d = f->dkg;
	if (!d)
		return IST_FL_IDLE;
	if (height < d->start)
		return IST_FL_RUNNING;
	if (d->round == 1 && (all(d, NULL, d->r1, NULL) || height >= d->round_end)) {
		size_t k = 0;
		for (uint16_t i = 0; i < d->n; i++)
			k += (d->accepted[i] = d->r1[i] != NULL);
		d->round = 2;
		d->round_end = height + f->round_blocks;
		f->dirty = true;
		if (k < d->t)
			goto failed;
		return IST_FL_RUNNING;
	}
	if (d->round == 2 && (all(d, NULL, NULL, d->r2) || height >= d->round_end)) {
		for (uint16_t i = 0; i < d->n; i++)
			if (d->accepted[i] && !d->r2[i])
				d->disq[i] = true;
		d->round = 3;
		d->round_end = height + f->round_blocks;
		f->dirty = true;
		return IST_FL_RUNNING;
	}
	if (d->round == 3 && (all(d, d->r3, NULL, NULL) || height >= d->round_end)) {
		struct ist_dkg_params prm = params_of(f, d);
		const struct ist_dkg_round1 *r1[IST_DKG_MAX_PARTICIPANTS] = { 0 };
		for (uint16_t i = 0; i < d->n; i++)
			if (d->accepted[i] && !d->disq[i])
				r1[i] = d->r1[i];
		struct ist_dkg_group *g = malloc(sizeof(*g));
		if (!g)
			return IST_FL_RUNNING;
		int r = ist_dkg_group_compute(&prm, r1, g);
		if (r < 0) {
			free(g);
			goto failed;
		}
		memset(ret_group, 0, sizeof(*ret_group));
		ret_group->epoch = d->epoch;
		ret_group->n = d->n;
		ret_group->t = d->t;
		memcpy(ret_group->qualified, g->qualified, sizeof(g->qualified));
		memcpy(ret_group->group_key, g->group_pub, 32);
		memcpy(ret_group->pubshares, g->pubshares, sizeof(g->pubshares));
		memcpy(ret_group->node_keys, d->node_keys, sizeof(d->node_keys));
		free(g);
		dkg_free(d);
		f->dkg = NULL;
		f->dirty = true;
		return IST_FL_DONE;
	}
	return IST_FL_RUNNING;
failed:
	dkg_free(d);
	f->dkg = NULL;
	f->dirty = true;
	return IST_FL_FAILED;
}

/* ---- persistence ---- */

static void put_group(struct ist_buf *b, const struct ist_fl_group *g)
{
	ist_buf_put_be64(b, g->epoch);
	ist_buf_put_be16(b, g->n);
	ist_buf_put_be16(b, g->t);
	ist_buf_put(b, g->group_key, 32);
	for (uint16_t i = 0; i < g->n; i++) {
		ist_buf_put_u8(b, (uint8_t)((g->qualified[i] ? 1 : 0) | (g->absent[i] ? 2 : 0) | (g->bad[i] ? 4 : 0)));
		ist_buf_put(b, g->node_keys[i], 32);
		ist_buf_put(b, g->pubshares[i], 32);
	}
	ist_buf_put_be32(b, g->bad_shares);
}

static bool rd_group(struct ist_cur *c, struct ist_fl_group *g)
{
	memset(g, 0, sizeof(*g));
	g->epoch = ist_cur_be64(c);
	g->n = ist_cur_be16(c);
	g->t = ist_cur_be16(c);
	if (!ist_cur_ok(c) || g->n > IST_DKG_MAX_PARTICIPANTS || g->t > g->n)
		return false;
	ist_cur_get(c, g->group_key, 32);
	for (uint16_t i = 0; i < g->n; i++) {
		uint8_t fl = ist_cur_u8(c);
		g->qualified[i] = fl & 1;
		g->absent[i] = (fl & 2) != 0;
		g->bad[i] = (fl & 4) != 0;
		ist_cur_get(c, g->node_keys[i], 32);
		ist_cur_get(c, g->pubshares[i], 32);
	}
	g->bad_shares = ist_cur_be32(c);
	return ist_cur_ok(c);
}

static void put_nonce(struct ist_buf *b, const struct ist_fl_nonce *x)
{
	ist_buf_put_be32(b, x->seq);
	ist_buf_put_be16(b, x->c.id);
	ist_buf_put(b, x->c.hiding, 32);
	ist_buf_put(b, x->c.binding, 32);
}

static void rd_nonce(struct ist_cur *c, struct ist_fl_nonce *x)
{
	x->seq = ist_cur_be32(c);
	x->c.id = ist_cur_be16(c);
	ist_cur_get(c, x->c.hiding, 32);
	ist_cur_get(c, x->c.binding, 32);
}

void ist_fl_encode(const struct ist_fl *f, struct ist_buf *b)
{
	ist_buf_put_u8(b, FL_VERSION);
	ist_buf_put_u8(b, f->dkg != NULL);
	if (f->dkg) {
		const struct ist_fl_dkg *d = f->dkg;
		ist_buf_put_be64(b, d->epoch);
		ist_buf_put_u8(b, d->handover);
		ist_buf_put_be64(b, d->start);
		ist_buf_put_u8(b, d->round);
		ist_buf_put_be64(b, d->round_end);
		ist_buf_put_be16(b, d->n);
		ist_buf_put_be32(b, d->false_complaints);
		for (uint16_t i = 0; i < d->n; i++) {
			ist_buf_put(b, d->node_keys[i], 32);
			ist_buf_put(b, d->enc_keys[i], 32);
			uint8_t fl = (uint8_t)((d->accepted[i] ? 1 : 0) | (d->r3[i] ? 2 : 0) | (d->disq[i] ? 4 : 0));
			ist_buf_put_u8(b, fl);
			size_t l1 = d->r1[i] ? ist_dkg_round1_encoded_len(d->r1[i]) : 0;
			ist_buf_put_be32(b, (uint32_t)l1);
			if (l1) {
				uint8_t *tmp = malloc(l1);
				if (!tmp) {
					b->err = -IST_ENOMEM;
					return;
				}
				ist_dkg_round1_encode(d->r1[i], tmp);
				ist_buf_put(b, tmp, l1);
				free(tmp);
			}
			size_t l2 = d->r2[i] ? ist_dkg_round2_encoded_len(d->r2[i]) : 0;
			ist_buf_put_be32(b, (uint32_t)l2);
			if (l2) {
				uint8_t *tmp = malloc(l2);
				if (!tmp) {
					b->err = -IST_ENOMEM;
					return;
				}
				ist_dkg_round2_encode(d->r2[i], tmp);
				ist_buf_put(b, tmp, l2);
				free(tmp);
			}
		}
	}
	ist_buf_put_be32(b, (uint32_t)f->n_groups);
	for (size_t i = 0; i < f->n_groups; i++)
		put_group(b, &f->groups[i]);
	ist_buf_put_be32(b, (uint32_t)f->n_queues);
	for (size_t i = 0; i < f->n_queues; i++) {
		const struct queue *q = f->queues[i];
		ist_buf_put_be64(b, q->epoch);
		ist_buf_put_be16(b, q->id);
		ist_buf_put_be32(b, q->next_seq);
		ist_buf_put_be32(b, (uint32_t)q->n);
		for (size_t k = 0; k < q->n; k++)
			put_nonce(b, &q->q[k]);
	}
	ist_buf_put_be32(b, (uint32_t)f->n_jobs);
	for (size_t i = 0; i < f->n_jobs; i++) {
		const struct ist_fl_job *j = &f->jobs[i];
		ist_buf_put_be64(b, j->epoch);
		ist_buf_put_be64(b, j->height);
		ist_buf_put(b, j->digest, IST_HASH_BYTES);
		ist_buf_put_be32(b, j->attempt);
		ist_buf_put_be64(b, j->assigned);
		ist_buf_put_be16(b, j->n_signers);
		for (uint16_t k = 0; k < j->n_signers; k++) {
			put_nonce(b, &j->signers[k]);
			ist_buf_put_u8(b, j->got[k]);
		}
	}
}

int ist_fl_decode(struct ist_fl *f, const uint8_t *p, size_t len)
{
	struct ist_cur c;
	ist_cur_init(&c, p, len);
	struct ist_fl *n = ist_fl_new(f->network_id, f->round_blocks, f->timeout);
	if (!n)
		return -IST_ENOMEM;
	int rc = -IST_EDB_CORRUPT;
	if (ist_cur_u8(&c) != FL_VERSION)
		goto fail;
	if (ist_cur_u8(&c)) {
		struct ist_fl_dkg *d = n->dkg = calloc(1, sizeof(*d));
		if (!d) {
			rc = -IST_ENOMEM;
			goto fail;
		}
		d->epoch = ist_cur_be64(&c);
		d->handover = ist_cur_u8(&c) != 0;
		d->start = ist_cur_be64(&c);
		d->round = ist_cur_u8(&c);
		d->round_end = ist_cur_be64(&c);
		d->n = ist_cur_be16(&c);
		d->false_complaints = ist_cur_be32(&c);
		if (!ist_cur_ok(&c) || d->n < 1 || d->n > IST_DKG_MAX_PARTICIPANTS || d->round < 1 || d->round > 3)
			goto fail;
		d->t = ist_dkg_threshold(d->n);
		for (uint16_t i = 0; i < d->n; i++) {
			ist_cur_get(&c, d->node_keys[i], 32);
			ist_cur_get(&c, d->enc_keys[i], 32);
			uint8_t fl = ist_cur_u8(&c);
			d->accepted[i] = fl & 1;
			d->r3[i] = (fl & 2) != 0;
			d->disq[i] = (fl & 4) != 0;
			uint32_t l1 = ist_cur_be32(&c);
			if (l1) {
				const uint8_t *q = ist_cur_ptr(&c, l1);
				if (!q || !(d->r1[i] = malloc(sizeof(*d->r1[i]))) ||
				    ist_dkg_round1_decode(q, l1, d->r1[i]) < 0)
					goto fail;
			}
			uint32_t l2 = ist_cur_be32(&c);
			if (l2) {
				const uint8_t *q = ist_cur_ptr(&c, l2);
				if (!q || !(d->r2[i] = malloc(sizeof(*d->r2[i]))) ||
				    ist_dkg_round2_decode(q, l2, d->r2[i]) < 0)
					goto fail;
			}
			if (!ist_cur_ok(&c))
				goto fail;
		}
	}
	uint32_t ng = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || ng > MAX_GROUPS)
		goto fail;
	for (uint32_t i = 0; i < ng; i++)
		if (!rd_group(&c, &n->groups[n->n_groups++]))
			goto fail;
	uint32_t nq = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || nq > MAX_GROUPS * IST_DKG_MAX_PARTICIPANTS)
		goto fail;
	for (uint32_t i = 0; i < nq; i++) {
		uint64_t e = ist_cur_be64(&c);
		uint16_t id = ist_cur_be16(&c);
		struct queue *q = queue_get(n, e, id, true);
		if (!q) {
			rc = -IST_ENOMEM;
			goto fail;
		}
		q->next_seq = ist_cur_be32(&c);
		uint32_t k = ist_cur_be32(&c);
		if (!ist_cur_ok(&c) || k > IST_FL_MAX_QUEUE)
			goto fail;
		for (uint32_t x = 0; x < k; x++)
			rd_nonce(&c, &q->q[x]);
		q->n = k;
	}
	uint32_t nj = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || nj > IST_FL_MAX_JOBS)
		goto fail;
	for (uint32_t i = 0; i < nj; i++) {
		uint8_t dg[IST_HASH_BYTES];
		uint64_t e = ist_cur_be64(&c), h = ist_cur_be64(&c);
		ist_cur_get(&c, dg, IST_HASH_BYTES);
		if (!ist_cur_ok(&c))
			goto fail;
		if ((rc = ist_fl_job_add(n, e, h, dg)) < 0)
			goto fail;
		rc = -IST_EDB_CORRUPT;
		struct ist_fl_job *j = &n->jobs[n->n_jobs - 1];
		j->attempt = ist_cur_be32(&c);
		j->assigned = ist_cur_be64(&c);
		j->n_signers = ist_cur_be16(&c);
		if (!ist_cur_ok(&c) || j->n_signers > IST_DKG_MAX_PARTICIPANTS)
			goto fail;
		for (uint16_t k = 0; k < j->n_signers; k++) {
			rd_nonce(&c, &j->signers[k]);
			j->got[k] = ist_cur_u8(&c) != 0;
			if (j->signers[k].c.id < 1)   /* identifiers index the group from 1 */
				goto fail;
		}
	}
	if (!ist_cur_done(&c))
		goto fail;
	dkg_free(f->dkg);
	queues_free(f);
	free(f->jobs);
	*f = *n;
	free(n);
	f->dirty = false;
	return 0;
fail:
	ist_fl_free(n);
	return rc;
}
