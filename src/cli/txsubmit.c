/*
 * The ledger commands' common options, node client and transaction life
 * (cli/txsubmit.h).
 */
#include "cli/txsubmit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/keys.h"
#include "cli/ledger_json.h"
#include "common/bytes.h"
#include "common/err.h"
#include "crypto/ed25519.h"
#include "wire/canonical.h"
#include "wire/codec.h"

/* Polling GET /v1/txs/{id}: the first interval, and the longest. */
#define POLL_FIRST_MS 200
#define POLL_MAX_MS 1000
/* Off a terminal, the first progress line after this many seconds, then one
 * every PROGRESS_EVERY_S. */
#define PROGRESS_FIRST_S 2
#define PROGRESS_EVERY_S 5

/* ---- options ---------------------------------------------------------------------- */

void ist_cli_txopts_init(struct ist_cli_txopts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_s = IST_CLI_TX_TIMEOUT_DEFAULT;
}

int ist_cli_u64_arg(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t *ret)
{
	if (!ist_json_decimal_u64(arg, ret) || *ret < min)
		return ist_cli_usage_err(cmd, "%s must be an integer from %" PRIu64 " to 2^64-1 (got '%s')", opt, min, arg);
	return 0;
}

int ist_cli_hex32_arg(const char *cmd, const char *opt, const char *arg, uint8_t ret32[32])
{
	uint8_t b[32];
	if (ist_hex_decode(arg, b, sizeof(b)) < 0)
		return ist_cli_usage_err(cmd, "%s must be 64 hex digits (32 bytes)", opt);
	memcpy(ret32, b, sizeof(b));
	return 0;
}

int ist_cli_txopts_take(const char *cmd, int c, const char *arg, struct ist_cli_txopts *o)
{
	uint64_t v;
	int r;
	switch (c) {
	case IST_CLI_LOPT_NODE: o->node = arg; return 0;
	case IST_CLI_LOPT_KEYSTORE: o->keystore = arg; return 0;
	case IST_CLI_LOPT_PASSFILE: o->passfile = arg; return 0;
	case IST_CLI_LOPT_KEY: o->key = arg; return 0;
	case IST_CLI_LOPT_JSON: o->json = true; return 0;
	case IST_CLI_LOPT_NO_WAIT: o->no_wait = true; return 0;
	case IST_CLI_LOPT_FEE:
		return ist_cli_u64_arg(cmd, "--fee", arg, 0, &o->fee);
	case IST_CLI_LOPT_NONCE:
		if ((r = ist_cli_u64_arg(cmd, "--nonce", arg, 0, &o->nonce)))
			return r;
		o->has_nonce = true;
		return 0;
	case IST_CLI_LOPT_NETWORK_ID:
		if ((r = ist_cli_u64_arg(cmd, "--network-id", arg, 1, &o->network_id)))
			return r;
		o->has_network_id = true;
		return 0;
	case IST_CLI_LOPT_TIMEOUT:
		if (!ist_json_decimal_u64(arg, &v) || v < 1 || v > IST_CLI_TX_TIMEOUT_MAX)
			return ist_cli_usage_err(cmd, "--timeout must be an integer from 1 to %d seconds (got '%s')",
						 IST_CLI_TX_TIMEOUT_MAX, arg);
		o->timeout_s = (uint32_t)v;
		return 0;
	default:
		return 1;
	}
}

void ist_cli_short_id(const uint8_t id32[32], char out[16])
{
	ist_hex_encode(id32, 4, out);
	memcpy(out + 8, "\xe2\x80\xa6", 4);   /* U+2026 and the NUL */
}

const char *ist_cli_tx_kind_name(enum ist_tx_kind kind)
{
	switch (kind) {
	case IST_TX_TRANSFER: return "transfer";
	case IST_TX_REGISTER_VALIDATOR: return "register_validator";
	case IST_TX_BOND: return "bond";
	case IST_TX_UNBOND: return "unbond";
	case IST_TX_WITHDRAW: return "withdraw";
	case IST_TX_UNJAIL: return "unjail";
	case IST_TX_GOV_PROPOSE: return "gov_propose";
	case IST_TX_GOV_VOTE: return "gov_vote";
	}
	return "?";
}

/* ---- the node ---------------------------------------------------------------------- */

int ist_cli_node_open(const char *cmd, const char *opt, struct ist_cli_node *ret)
{
	const char *url = opt, *what = "--node";
	const char *env = getenv("ISTHMUS_NODE");
	if (!url && env && *env) {
		url = env;
		what = "ISTHMUS_NODE";
	}
	if (!url)
		url = IST_CLI_NODE_DEFAULT;
	char err[IST_HTTP_CLIENT_ERR_MAX + IST_HTTP_CLIENT_URL_MAX];
	struct ist_cli_node n = { 0 };
	int r = ist_http_client_new(url, IST_CLI_RPC_TIMEOUT_MS, IST_CLI_RPC_MAX_BODY, &n.http, err, sizeof(err));
	if (r == -IST_EINVAL)
		return ist_cli_usage_err(cmd, "%s %s", what, err);
	if (r < 0) {
		ist_cli_err("%s", err);
		return IST_CLI_ERROR;
	}
	snprintf(n.url, sizeof(n.url), "%s", url);
	*ret = n;
	return 0;
}

void ist_cli_node_close(struct ist_cli_node *n)
{
	if (!n)
		return;
	ist_http_client_free(n->http);
	n->http = NULL;
}

/* One request; prints nothing. The failure's text in `err`. */
static int call(struct ist_cli_node *n, const char *method, const char *path, json_t *body, uint32_t timeout_ms,
		struct ist_cli_rpc_answer *ret, char *err, size_t errlen)
{
	return ist_cli_rpc_call(n->http, method, path, body, timeout_ms, ret, err, errlen);
}

static void print_call_err(const struct ist_cli_node *n, const char *method, const char *path, int r, const char *err)
{
	if (r == -IST_ENET)
		ist_cli_err("cannot reach the node at %s: %s", n->url, err);
	else
		ist_cli_err("%s: %s %s: %s", n->url, method, path, err);
}

int ist_cli_node_get(struct ist_cli_node *n, const char *path, bool quiet_404, struct ist_cli_rpc_answer *ret)
{
	char err[IST_HTTP_CLIENT_ERR_MAX];
	struct ist_cli_rpc_answer a = { 0 };
	int r = call(n, "GET", path, NULL, 0, &a, err, sizeof(err));
	if (r < 0) {
		print_call_err(n, "GET", path, r, err);
		return r;
	}
	if (a.status != 200) {
		char code[IST_CLI_RPC_CODE_MAX], detail[IST_CLI_RPC_DETAIL_MAX];
		ist_cli_rpc_error(&a, code, detail);
		r = a.status == 404 ? -IST_ENOTFOUND : -IST_EIO;
		if (!(r == -IST_ENOTFOUND && quiet_404))
			ist_cli_err("%s: GET %s: %u%s%s: %s", n->url, path, (unsigned)a.status, code[0] ? " " : "", code,
				    detail);
		ist_cli_rpc_answer_fini(&a);
		return r;
	}
	if (!a.doc) {
		ist_cli_err("%s: GET %s: the answer is not a JSON object", n->url, path);
		return -IST_EPARSE;
	}
	*ret = a;
	return 0;
}

int ist_cli_node_bad_answer(const struct ist_cli_node *n, const char *path, int r, const struct ist_json_err *err)
{
	if (r == -IST_ENOMEM) {
		ist_cli_err("out of memory");
		return r;
	}
	char line[1024];
	/* the decoder's label is the path: print only the field and problem */
	struct ist_json_err e = *err;
	e.file[0] = '\0';
	const char *text = ist_json_err_format(&e, line, sizeof(line));
	if (strncmp(text, ": ", 2) == 0)
		text += 2;
	ist_cli_err("%s: GET %s: unexpected answer: %s", n->url, path, text);
	return -IST_EPARSE;
}

/* ---- keysets ------------------------------------------------------------------------ */

int ist_cli_keyset_open(const char *cmd, const char *keystore, const char *name, bool validator,
			struct ist_keystore_file **ret_file, char **ret_path)
{
	int r;
	if ((r = ist_cli_keys_check_name(cmd, name)))
		return r;
	struct ist_keystore_file *f = NULL;
	char *path = NULL;
	if (ist_cli_keys_load(keystore, name, &f, &path) < 0)
		return IST_CLI_ERROR;
	char kind[64];
	if (validator && strcmp(ist_cli_keys_kind(&f->info, kind, sizeof(kind)), "validator") != 0) {
		ist_cli_err("%s: keyset %s holds %s keys, not the three keys of a validator (ed25519, secp256k1, "
			    "x25519)", path, name, kind);
		r = IST_CLI_ERROR;
	} else if (!ist_cli_keyset_account(f)) {
		ist_cli_err("%s: keyset %s has no ed25519 key: it cannot sign transactions", path, name);
		r = IST_CLI_ERROR;
	}
	if (r) {
		free(f);
		free(path);
		return r;
	}
	*ret_file = f;
	*ret_path = path;
	return 0;
}

const uint8_t *ist_cli_keyset_account(const struct ist_keystore_file *f)
{
	const struct ist_keystore_key *k = ist_keyset_info_find(&f->info, IST_KEY_ED25519);
	return k ? k->pub : NULL;
}

/* ---- a transaction ------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The network id and the nonce the transaction needs, from the node unless given. */
static int resolve_context(const struct ist_cli_txopts *o, struct ist_cli_node *node, struct ist_tx *tx)
{
	struct ist_json_err jerr;
	int r;
	if (o->has_network_id) {
		tx->network_id = o->network_id;
	} else {
		struct ist_cli_rpc_answer a = { 0 };
		if ((r = ist_cli_node_get(node, "/v1/status", false, &a)) < 0)
			return r;
		r = ist_cli_lj_network_id(a.doc, "/v1/status", &tx->network_id, &jerr);
		ist_cli_rpc_answer_fini(&a);
		if (r < 0)
			return ist_cli_node_bad_answer(node, "/v1/status", r, &jerr);
	}
	if (o->has_nonce) {
		tx->nonce = o->nonce;
	} else {
		char path[128] = "/v1/accounts/";
		ist_hex_encode(tx->sender, sizeof(tx->sender), path + strlen(path));
		struct ist_cli_rpc_answer a = { 0 };
		if ((r = ist_cli_node_get(node, path, false, &a)) < 0)
			return r;
		struct ist_cli_lj_account acc;
		r = ist_cli_lj_account_parse(a.doc, path, &acc, &jerr);
		ist_cli_rpc_answer_fini(&a);
		if (r == 0 && memcmp(acc.key, tx->sender, sizeof(acc.key)) != 0) {
			ist_json_err_set(&jerr, path, "key", "is another account than the one asked for");
			r = -IST_ECONFIG;
		}
		if (r == 0)
			tx->nonce = acc.nonce;
		ist_cli_lj_account_fini(&acc);
		if (r < 0)
			return ist_cli_node_bad_answer(node, path, r, &jerr);
	}
	return 0;
}

/* Decrypts the keyset and signs tx with its Ed25519 key. */
static int sign_tx(const struct ist_cli_txopts *o, const char *path, const struct ist_keystore_file *f,
		   struct ist_tx *tx)
{
	uint8_t msg[IST_WIRE_MAX_TX_SIGNING_BYTES];
	size_t msg_len = 0;
	int r = ist_wire_tx_signing_bytes(tx, msg, &msg_len);
	if (r < 0) {
		ist_cli_err("cannot make the transaction's signing bytes: %s", ist_strerror(r));
		return r;
	}
	size_t idx = 0;
	while (idx < f->info.n_keys && f->info.keys[idx].type != IST_KEY_ED25519)
		idx++;
	struct ist_cli_pass pass = { 0 };
	struct ist_keyset *ks = NULL;
	char err[1024];
	if ((r = ist_cli_passphrase_get(o->passfile, false, f->info.name, &pass)) < 0)
		return r;
	r = ist_keystore_decrypt(path, f, pass.buf, pass.len, &ks, err, sizeof(err));
	ist_cli_passphrase_free(&pass);
	if (r < 0) {
		ist_cli_err("%s", err);
		return r;
	}
	if ((r = ist_keyset_unseal(ks)) < 0) {
		ist_cli_err("cannot read the secret key: %s", ist_strerror(r));
		goto out;
	}
	r = ist_ed25519_sign(ist_keyset_secret(ks, idx), msg, msg_len, tx->signature);
	ist_keyset_seal(ks);
	if (r < 0)
		ist_cli_err("cannot sign: %s", ist_strerror(r));
out:
	ist_keyset_free(ks);   /* wipes the secrets */
	return r;
}

/* The outcome as JSON: {"id","kind","sender","nonce","fee","status", and
 * when committed "height","index","result" ("reason"; "proposal" for an
 * applied gov_propose)}. */
static json_t *outcome_json(const struct ist_tx *tx, const uint8_t id[32], const char *status,
			    const struct ist_cli_lj_tx *st)
{
	json_t *o = json_object();
	bool bad = !o;
	bad = bad || json_object_set_new(o, "id", ist_json_from_hex(id, 32)) < 0;
	bad = bad || json_object_set_new(o, "kind", json_string(ist_cli_tx_kind_name(tx->kind))) < 0;
	bad = bad || json_object_set_new(o, "sender", ist_json_from_hex(tx->sender, sizeof(tx->sender))) < 0;
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, tx->nonce);
	bad = bad || json_object_set_new(o, "nonce", json_string(num)) < 0;
	snprintf(num, sizeof(num), "%" PRIu64, tx->fee);
	bad = bad || json_object_set_new(o, "fee", json_string(num)) < 0;
	bad = bad || json_object_set_new(o, "status", json_string(status)) < 0;
	if (!bad && st && st->committed) {
		bad = json_object_set_new(o, "height", ist_json_from_u64(st->height)) < 0 ||
		      json_object_set_new(o, "index", json_integer(st->index)) < 0 ||
		      json_object_set_new(o, "result", json_string(st->ok ? "ok" : "failed")) < 0 ||
		      (!st->ok && json_object_set_new(o, "reason", json_string(st->reason)) < 0);
		bad = bad || (st->has_proposal && json_object_set_new(o, "proposal", ist_json_from_u64(st->proposal)) < 0);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* POST /v1/txs. Returns 0 (accepted, or already waiting: *ret_dup), or an
 * error (printed). */
static int submit(struct ist_cli_node *node, const struct ist_tx *tx, const uint8_t id[32], bool *ret_dup)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = ist_wire_tx_encode(tx, &buf, &len);
	if (r < 0) {
		ist_cli_err("cannot encode the transaction: %s", ist_strerror(r));
		return r;
	}
	json_t *body = json_object();
	if (!body || json_object_set_new(body, "tx", ist_json_from_hex(buf, len)) < 0) {
		free(buf);
		json_decref(body);
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	free(buf);
	char err[IST_HTTP_CLIENT_ERR_MAX];
	struct ist_cli_rpc_answer a = { 0 };
	r = call(node, "POST", "/v1/txs", body, 0, &a, err, sizeof(err));
	json_decref(body);
	if (r < 0) {
		print_call_err(node, "POST", "/v1/txs", r, err);
		return r;
	}
	*ret_dup = false;
	if (a.status == 409) {
		/* the same signed transaction (same id) is in the mempool already:
		 * waiting for it is what the user wants */
		*ret_dup = true;
		ist_cli_rpc_answer_fini(&a);
		return 0;
	}
	if (a.status != 202 && a.status != 200) {
		char code[IST_CLI_RPC_CODE_MAX], detail[IST_CLI_RPC_DETAIL_MAX];
		ist_cli_rpc_error(&a, code, detail);
		ist_cli_err("%s refused the transaction: %u%s%s: %s%s", node->url, (unsigned)a.status, code[0] ? " " : "",
			    code, detail, a.status == 503 ? " (retry later)" : "");
		ist_cli_rpc_answer_fini(&a);
		return a.status == 503 ? -IST_EAGAIN : -IST_EINVAL;
	}
	struct ist_json_err jerr;
	uint8_t got[32];
	r = a.doc ? ist_cli_lj_submitted(a.doc, "/v1/txs", got, &jerr) : -IST_EPARSE;
	ist_cli_rpc_answer_fini(&a);
	if (r == -IST_EPARSE) {
		ist_cli_err("%s: POST /v1/txs: the answer is not a JSON object", node->url);
		return r;
	}
	if (r == 0 && memcmp(got, id, 32) != 0) {
		char want[65];
		ist_hex_encode(id, 32, want);
		ist_json_err_set(&jerr, "/v1/txs", "id", "is not the transaction's id (%s)", want);
		r = -IST_ECONFIG;
	}
	if (r < 0) {
		char line[1024];
		jerr.file[0] = '\0';
		const char *text = ist_json_err_format(&jerr, line, sizeof(line));
		if (strncmp(text, ": ", 2) == 0)
			text += 2;
		ist_cli_err("%s: POST /v1/txs: unexpected answer: %s", node->url, text);
		return -IST_EPARSE;
	}
	return 0;
}

/* The progress line on stderr. */
struct progress {
	bool tty, shown;
	uint64_t next_line_s;   /* off a terminal: the second of the next line */
	char short_id[16];
};

static void progress_show(struct progress *p, uint64_t elapsed_s)
{
	if (p->tty) {
		fprintf(stderr, "\rwaiting for commit of tx %s (%" PRIu64 " s)\033[K", p->short_id, elapsed_s);
		fflush(stderr);
		p->shown = true;
	} else if (elapsed_s >= p->next_line_s) {
		fprintf(stderr, "waiting for commit of tx %s (%" PRIu64 " s)\n", p->short_id, elapsed_s);
		p->next_line_s = elapsed_s + PROGRESS_EVERY_S;
	}
}

static void progress_end(struct progress *p)
{
	if (p->tty && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->shown = false;
	}
}

/* Polls GET /v1/txs/{id} until committed or the deadline. Returns 0 with
 * *ret (committed), -IST_ETIMEOUT (with *ret_last: what the node said last,
 * "pending", "unknown" or "unreachable"), or -IST_EPARSE (printed). */
static int wait_commit(struct ist_cli_node *node, const uint8_t id[32], uint32_t timeout_s, struct ist_cli_lj_tx *ret,
		       const char **ret_last)
{
	char path[128] = "/v1/txs/";
	ist_hex_encode(id, 32, path + strlen(path));
	struct progress p = { .tty = isatty(STDERR_FILENO) == 1, .next_line_s = PROGRESS_FIRST_S };
	ist_cli_short_id(id, p.short_id);
	uint64_t start = now_ms(), deadline = start + (uint64_t)timeout_s * 1000, interval = POLL_FIRST_MS;
	const char *last = "unknown";
	int r = -IST_ETIMEOUT;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			break;
		progress_show(&p, (now - start) / 1000);
		uint64_t left = deadline - now;
		char err[IST_HTTP_CLIENT_ERR_MAX];
		struct ist_cli_rpc_answer a = { 0 };
		int c = call(node, "GET", path, NULL, (uint32_t)(left < IST_CLI_RPC_TIMEOUT_MS ? left : IST_CLI_RPC_TIMEOUT_MS),
			     &a, err, sizeof(err));
		if (c < 0) {
			last = "unreachable";   /* a node restarting: try again until the deadline */
		} else if (a.status == 404) {
			last = "unknown";
		} else if (a.status == 200 && a.doc) {
			struct ist_json_err jerr;
			struct ist_cli_lj_tx st;
			c = ist_cli_lj_tx_parse(a.doc, path, &st, &jerr);
			if (c == 0 && memcmp(st.id, id, 32) != 0) {
				ist_json_err_set(&jerr, path, "id", "is another transaction than the one asked for");
				c = -IST_ECONFIG;
			}
			ist_cli_rpc_answer_fini(&a);
			if (c < 0) {
				progress_end(&p);
				return ist_cli_node_bad_answer(node, path, c, &jerr);
			}
			if (st.committed) {
				*ret = st;
				r = 0;
				break;
			}
			last = "pending";
		} else {
			last = "unavailable";
		}
		ist_cli_rpc_answer_fini(&a);
		now = now_ms();
		if (now >= deadline)
			break;
		uint64_t nap = deadline - now < interval ? deadline - now : interval;
		sleep_ms(nap);
		interval = interval * 2 > POLL_MAX_MS ? POLL_MAX_MS : interval * 2;
	}
	progress_end(&p);
	*ret_last = last;
	return r;
}

int ist_cli_tx_send(const char *cmd, const struct ist_cli_txopts *o, struct ist_cli_node *node, struct ist_tx *tx)
{
	struct ist_keystore_file *f = NULL;
	char *path = NULL;
	int r;
	if (!o->key)
		return ist_cli_usage_err(cmd, "--key NAME is required");
	if ((r = ist_cli_keyset_open(cmd, o->keystore, o->key, tx->kind == IST_TX_REGISTER_VALIDATOR, &f, &path)))
		return r;
	memcpy(tx->sender, ist_cli_keyset_account(f), sizeof(tx->sender));
	tx->fee = o->fee;
	if (tx->kind == IST_TX_REGISTER_VALIDATOR) {
		const struct ist_keyset_info *info = &f->info;
		memcpy(tx->u.register_validator.node_key, ist_keyset_info_find(info, IST_KEY_ED25519)->pub,
		       IST_ED25519_PUBKEY_BYTES);
		memcpy(tx->u.register_validator.attest_key, ist_keyset_info_find(info, IST_KEY_SECP256K1)->pub,
		       IST_SECP_PUBKEY_BYTES);
		memcpy(tx->u.register_validator.dkg_key, ist_keyset_info_find(info, IST_KEY_X25519)->pub,
		       IST_X25519_PUBKEY_BYTES);
	}
	if (tx->kind == IST_TX_BOND || tx->kind == IST_TX_UNBOND) {
		/* the default validator: the keyset's own (all zeros means unset) */
		static const uint8_t zero[32];
		uint8_t *v = tx->kind == IST_TX_BOND ? tx->u.bond.validator : tx->u.unbond.validator;
		if (memcmp(v, zero, 32) == 0)
			memcpy(v, tx->sender, 32);
	}
	uint8_t id[32];
	char hex[65], short_id[16];
	struct ist_cli_lj_tx st;
	memset(&st, 0, sizeof(st));
	bool dup = false;
	const char *last = NULL;
	if ((r = resolve_context(o, node, tx)) < 0 || (r = sign_tx(o, path, f, tx)) < 0)
		goto out;
	if ((r = ist_wire_tx_id(tx, id)) < 0) {
		ist_cli_err("cannot compute the transaction id: %s", ist_strerror(r));
		goto out;
	}
	ist_hex_encode(id, 32, hex);
	ist_cli_short_id(id, short_id);
	if ((r = submit(node, tx, id, &dup)) < 0)
		goto out;
	if (dup)
		ist_cli_warn("tx %s is already in the node's mempool: waiting for it", short_id);
	if (o->no_wait) {
		if (o->json)
			r = ist_cli_print_json(outcome_json(tx, id, "submitted", NULL));
		else
			printf("%s\n", hex);
		goto out;
	}
	r = wait_commit(node, id, o->timeout_s, &st, &last);
	if (r == -IST_ETIMEOUT) {
		if (o->json)
			(void)ist_cli_print_json(outcome_json(tx, id, last, NULL));
		ist_cli_err("tx %s not committed within %" PRIu32 " s (the node says: %s); it may still commit: see "
			    "'isthmus query tx %s'", hex, o->timeout_s, last, hex);
		goto out;
	}
	if (r < 0)
		goto out;
	if (o->json) {
		r = ist_cli_print_json(outcome_json(tx, id, "committed", &st));
	} else {
		printf("tx %s\n", hex);
		if (st.ok)
			printf("committed at height %" PRIu64 ": ok\n", st.height);
		if (st.ok && st.has_proposal)
			printf("proposal %" PRIu64 "\n", st.proposal);
		else if (!st.ok)
			printf("committed at height %" PRIu64 ": failed: %s\n", st.height, st.reason);
	}
	if (r == 0 && !st.ok) {
		ist_cli_err("tx %s failed: %s (its fee is charged and its nonce used)", short_id, st.reason);
		r = -IST_EINVAL;
	}
out:
	free(f);
	free(path);
	return ist_cli_status(r);
}

int ist_cli_tx_run(const char *cmd, const struct ist_cli_txopts *o, struct ist_tx *tx)
{
	if (!o->key)
		return ist_cli_usage_err(cmd, "--key NAME is required");
	struct ist_cli_node node;
	int r = ist_cli_node_open(cmd, o->node, &node);
	if (r)
		return r;
	r = ist_cli_tx_send(cmd, o, &node, tx);
	ist_cli_node_close(&node);
	return r;
}
