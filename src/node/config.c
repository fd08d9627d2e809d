/*
 * config.json: parsing, defaults, formatting, and the checks against the
 * genesis and the keystore that decide whether a node may start.
 */
#include "node/config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "common/err.h"
#include "wire/types.h"

#define NAME_RULE "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.' or '-'"
#define LOG_RULE "must be a level (error, warn, info, debug, trace), optionally followed by ,SUBSYSTEM=LEVEL overrides"

const char *ist_node_role_name(enum ist_node_role role)
{
	return role == IST_NODE_ROLE_OBSERVER ? "observer" : "validator";
}

void ist_node_config_init(struct ist_node_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->key_name, sizeof(cfg->key_name), "%s", IST_NODE_DEFAULT_KEY_NAME);
	snprintf(cfg->moniker, sizeof(cfg->moniker), "%s", cfg->key_name);
	cfg->role = IST_NODE_ROLE_VALIDATOR;
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", IST_NODE_DEFAULT_LISTEN);
	snprintf(cfg->api, sizeof(cfg->api), "%s", IST_NODE_DEFAULT_API);
	snprintf(cfg->keystore, sizeof(cfg->keystore), "%s", IST_NODE_KEYS_DIR);
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", IST_NODE_DATA_DIR);
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	cfg->log_format = IST_LOG_TEXT;
	cfg->limits.max_peer_msgs_per_sec = 1000;
	cfg->limits.max_peer_burst = 2000;
	cfg->limits.max_frame_bytes = IST_WIRE_MAX_ENVELOPE_BYTES;
	cfg->metrics_enabled = true;
	cfg->mempool.max_items = IST_MEMPOOL_DEFAULT_MAX_ITEMS;
	cfg->mempool.max_bytes = IST_MEMPOOL_DEFAULT_MAX_BYTES;
	cfg->mempool.max_per_sender = IST_MEMPOOL_DEFAULT_MAX_PER_SENDER;
	cfg->mempool.accept_data = false;
}

void ist_node_config_fini(struct ist_node_config *cfg)
{
	free(cfg->peers);
	free(cfg->chains);
	free(cfg->home);
	free(cfg->config_path);
	free(cfg->genesis_path);
	free(cfg->keystore_path);
	free(cfg->key_path);
	free(cfg->passphrase_path);
	free(cfg->data_path);
	memset(cfg, 0, sizeof(*cfg));
}

bool ist_node_log_spec_valid(const char *spec)
{
	size_t n = strlen(spec);
	if (n == 0 || n > IST_NODE_LOG_SPEC_MAX)
		return false;
	char buf[IST_NODE_LOG_SPEC_MAX + 1];
	memcpy(buf, spec, n + 1);
	int overrides = 0;
	char *p = buf;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		char *eq = strchr(p, '=');
		enum ist_log_level lvl;
		if (eq) {
			*eq = '\0';
			size_t sn = strlen(p);
			if (sn == 0 || sn > 23 || ++overrides > 16)
				return false;
			for (size_t i = 0; i < sn; i++)
				if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '-'))
					return false;
			p = eq + 1;
		}
		if (ist_log_level_parse(p, &lvl) < 0)
			return false;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

/* ---- parsing ------------------------------------------------------------------ */

static void copy_checked(struct ist_json_reader *jr, const char *path, const char *s, char *out, size_t cap,
			 const char *rule)
{
	if (!ist_json_ok(jr))
		return;
	if (strlen(s) >= cap) {
		json_t *j = json_string(s);
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, path, "%s (got %s)", rule,
				 j ? ist_json_describe(j, got, sizeof(got)) : "a string");
		json_decref(j);
		return;
	}
	memcpy(out, s, strlen(s) + 1);
}

static void path_field(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, char *out,
		       bool required_nonempty)
{
	char path[IST_JSON_ERR_FIELD_MAX];
	ist_json_path(path, parent, key);
	const char *s = ist_json_string(jr, obj, parent, key, false, out);
	if (!ist_json_ok(jr) || s == out)
		return;
	if ((required_nonempty && !*s) || strlen(s) > IST_NODE_PATH_MAX) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must be a path of 1 to %d bytes (got %zu bytes)",
				 IST_NODE_PATH_MAX, strlen(s));
		return;
	}
	memcpy(out, s, strlen(s) + 1);
}

static void url_field(struct ist_json_reader *jr, json_t *obj, const char *key, const char *schemes, char *out)
{
	const char *s = ist_json_string(jr, obj, "", key, false, out);
	char problem[256];
	if (ist_json_ok(jr) && ist_node_url_parse(s, schemes, true, NULL, problem, sizeof(problem)) < 0) {
		ist_json_fail(jr, -IST_ECONFIG, key, "%s", problem);
		return;
	}
	if (ist_json_ok(jr) && s != out)
		memcpy(out, s, strlen(s) + 1);
}

static void parse_key(struct ist_json_reader *jr, json_t *root, struct ist_node_config *c)
{
	static const char *const fields[] = { "keystore", "name", "passphrase_file", NULL };
	json_t *o = ist_json_member(jr, root, "", "key", false);
	if (!o || !ist_json_object(jr, o, "key", fields))
		return;
	path_field(jr, o, "key", "keystore", c->keystore, true);
	const char *name = ist_json_string(jr, o, "key", "name", false, c->key_name);
	if (ist_json_ok(jr) && !ist_keystore_name_valid(name)) {
		json_t *j = json_string(name);
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, "key.name", NAME_RULE " (got %s)",
				 j ? ist_json_describe(j, got, sizeof(got)) : "a string");
		json_decref(j);
	}
	if (ist_json_ok(jr) && name != c->key_name)
		memmove(c->key_name, name, strlen(name) + 1);
	path_field(jr, o, "key", "passphrase_file", c->passphrase_file, true);
}

static void parse_log(struct ist_json_reader *jr, json_t *root, struct ist_node_config *c)
{
	static const char *const fields[] = { "level", "format", NULL };
	json_t *o = ist_json_member(jr, root, "", "log", false);
	if (!o || !ist_json_object(jr, o, "log", fields))
		return;
	const char *level = ist_json_string(jr, o, "log", "level", false, c->log_level);
	if (ist_json_ok(jr) && !ist_node_log_spec_valid(level)) {
		json_t *j = json_string(level);
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, "log.level", LOG_RULE " (got %s)",
				 j ? ist_json_describe(j, got, sizeof(got)) : "a string");
		json_decref(j);
	}
	if (ist_json_ok(jr) && level != c->log_level)
		memcpy(c->log_level, level, strlen(level) + 1);
	json_t *fmt = ist_json_member(jr, o, "log", "format", false);
	if (fmt && ist_json_ok(jr)) {
		const char *f = json_string_value(fmt);
		if (f && strcmp(f, "text") == 0) {
			c->log_format = IST_LOG_TEXT;
		} else if (f && strcmp(f, "json") == 0) {
			c->log_format = IST_LOG_JSON;
		} else {
			char got[96];
			ist_json_fail(jr, -IST_ECONFIG, "log.format", "must be \"text\" or \"json\" (got %s)",
					 ist_json_describe(fmt, got, sizeof(got)));
		}
	}
}

static void parse_peers(struct ist_json_reader *jr, json_t *root, struct ist_node_config *c)
{
	static const char *const fields[] = { "node_key", "address", NULL };
	json_t *a = ist_json_member(jr, root, "", "peers", false);
	if (!a || !ist_json_ok(jr))
		return;
	char got[96];
	if (!json_is_array(a)) {
		ist_json_fail(jr, -IST_ECONFIG, "peers", "must be an array (got %s)",
				 ist_json_describe(a, got, sizeof(got)));
		return;
	}
	size_t n = json_array_size(a);
	if (n > IST_NODE_MAX_PEERS) {
		ist_json_fail(jr, -IST_ECONFIG, "peers", "must list at most %d peers (got %zu)", IST_NODE_MAX_PEERS, n);
		return;
	}
	if (n == 0)
		return;
	c->peers = calloc(n, sizeof(*c->peers));
	if (!c->peers) {
		ist_json_fail(jr, -IST_ENOMEM, "", "out of memory");
		return;
	}
	c->n_peers = n;
	for (size_t i = 0; i < n && ist_json_ok(jr); i++) {
		char base[IST_JSON_ERR_FIELD_MAX], path[IST_JSON_ERR_FIELD_MAX], problem[256];
		struct ist_node_peer *p = &c->peers[i];
		json_t *o = json_array_get(a, i);
		ist_json_index(base, "peers", i);
		if (!ist_json_object(jr, o, base, fields))
			return;
		ist_json_hex(jr, o, base, "node_key", p->node_key, sizeof(p->node_key), "an Ed25519 public key");
		const char *addr = ist_json_string(jr, o, base, "address", true, NULL);
		ist_json_path(path, base, "address");
		if (ist_json_ok(jr) && ist_node_url_parse(addr, IST_NODE_URL_P2P, false, NULL, problem, sizeof(problem)) < 0)
			ist_json_fail(jr, -IST_ECONFIG, path, "%s", problem);
		if (ist_json_ok(jr))
			memcpy(p->address, addr, strlen(addr) + 1);
		ist_json_path(path, base, "node_key");
		for (size_t j = 0; j < i && ist_json_ok(jr); j++)
			if (memcmp(c->peers[j].node_key, p->node_key, sizeof(p->node_key)) == 0)
				ist_json_fail(jr, -IST_ECONFIG, path, "duplicate of peers[%zu].node_key", j);
	}
}

static void parse_limits(struct ist_json_reader *jr, json_t *root, struct ist_node_config *c)
{
	static const char *const fields[] = { "max_peer_msgs_per_sec", "max_peer_burst", "max_frame_bytes", NULL };
	json_t *o = ist_json_member(jr, root, "", "limits", false);
	if (!o || !ist_json_object(jr, o, "limits", fields))
		return;
	struct ist_node_limits *l = &c->limits;
	l->max_peer_msgs_per_sec = (uint32_t)ist_json_uint(jr, o, "limits", "max_peer_msgs_per_sec", false,
							      l->max_peer_msgs_per_sec, 1, IST_NODE_MAX_MSGS_PER_SEC);
	l->max_peer_burst = (uint32_t)ist_json_uint(jr, o, "limits", "max_peer_burst", false, l->max_peer_burst, 1,
						       IST_NODE_MAX_MSGS_PER_SEC);
	l->max_frame_bytes = (uint32_t)ist_json_uint(jr, o, "limits", "max_frame_bytes", false, l->max_frame_bytes,
							IST_NODE_MIN_FRAME_BYTES, IST_WIRE_MAX_ENVELOPE_BYTES);
}

static void parse_mempool(struct ist_json_reader *jr, json_t *root, struct ist_node_config *c)
{
	static const char *const fields[] = { "max_items", "max_bytes", "max_per_sender", "accept_data", NULL };
	json_t *o = ist_json_member(jr, root, "", "mempool", false);
	if (!o || !ist_json_object(jr, o, "mempool", fields))
		return;
	struct ist_node_mempool *m = &c->mempool;
	m->max_items = (uint32_t)ist_json_uint(jr, o, "mempool", "max_items", false, m->max_items, 1,
						  IST_NODE_MEMPOOL_MAX_ITEMS);
	m->max_bytes = (uint32_t)ist_json_uint(jr, o, "mempool", "max_bytes", false, m->max_bytes,
						  IST_NODE_MIN_BLOCK_BYTES, IST_NODE_MEMPOOL_MAX_BYTES);
	m->max_per_sender = (uint32_t)ist_json_uint(jr, o, "mempool", "max_per_sender", false, m->max_per_sender,
						       1, IST_NODE_MEMPOOL_MAX_ITEMS);
	m->accept_data = ist_json_bool(jr, o, "mempool", "accept_data", false);
}

static void parse_chains(struct ist_json_reader *jr, json_t *root, struct ist_node_config *c)
{
	static const char *const fields[] = { "id", "rpc", "finality_depth", "poll_ms", NULL };
	json_t *a = ist_json_member(jr, root, "", "chains", false);
	if (!a || !ist_json_ok(jr))
		return;
	char got[96];
	if (!json_is_array(a) || json_array_size(a) > IST_NODE_MAX_CHAINS) {
		ist_json_fail(jr, -IST_ECONFIG, "chains", "must be an array of at most %d chains (got %s)",
				 IST_NODE_MAX_CHAINS, ist_json_describe(a, got, sizeof(got)));
		return;
	}
	size_t n = json_array_size(a);
	if (n == 0)
		return;
	c->chains = calloc(n, sizeof(*c->chains));
	if (!c->chains) {
		ist_json_fail(jr, -IST_ENOMEM, "", "out of memory");
		return;
	}
	c->n_chains = n;
	for (size_t i = 0; i < n && ist_json_ok(jr); i++) {
		char base[IST_JSON_ERR_FIELD_MAX], path[IST_JSON_ERR_FIELD_MAX], problem[256];
		struct ist_node_chain_rpc *ch = &c->chains[i];
		json_t *o = json_array_get(a, i);
		ist_json_index(base, "chains", i);
		if (!ist_json_object(jr, o, base, fields))
			return;
		ch->id = ist_json_u64(jr, o, base, "id", true, 0, 1);
		ch->finality_depth = ist_json_uint(jr, o, base, "finality_depth", false, 0, 0,
						      IST_NODE_MAX_FINALITY_DEPTH);
		ch->poll_ms = (uint32_t)ist_json_uint(jr, o, base, "poll_ms", false, IST_NODE_DEFAULT_POLL_MS, 50,
							 60000);
		json_t *urls = ist_json_member(jr, o, base, "rpc", true);
		ist_json_path(path, base, "rpc");
		if (urls && ist_json_ok(jr) &&
		    (!json_is_array(urls) || json_array_size(urls) < 1 || json_array_size(urls) > IST_NODE_MAX_RPC_URLS)) {
			if (json_is_array(urls))
				snprintf(got, sizeof(got), "%zu", json_array_size(urls));
			else
				ist_json_describe(urls, got, sizeof(got));
			ist_json_fail(jr, -IST_ECONFIG, path, "must be an array of 1 to %d http:// URLs (got %s)",
					 IST_NODE_MAX_RPC_URLS, got);
			return;
		}
		for (size_t k = 0; urls && k < json_array_size(urls) && ist_json_ok(jr); k++) {
			const char *u = json_string_value(json_array_get(urls, k));
			char upath[IST_JSON_ERR_FIELD_MAX + 32];
			snprintf(upath, sizeof(upath), "%s[%zu]", path, k);
			if (!u || ist_node_url_parse(u, IST_NODE_URL_HTTP, false, NULL, problem, sizeof(problem)) < 0) {
				ist_json_fail(jr, -IST_ECONFIG, upath, "%s", u ? problem : "must be a string");
				return;
			}
			if (strlen(u) > IST_NODE_URL_MAX) {
				ist_json_fail(jr, -IST_ECONFIG, upath, "longer than %d bytes", IST_NODE_URL_MAX);
				return;
			}
			memcpy(ch->rpc[k], u, strlen(u) + 1);
			ch->n_rpc = k + 1;
		}
		ist_json_path(path, base, "id");
		for (size_t j = 0; j < i && ist_json_ok(jr); j++)
			if (c->chains[j].id == ch->id)
				ist_json_fail(jr, -IST_ECONFIG, path, "duplicate of chains[%zu].id", j);
	}
}

static int derive(struct ist_node_config *c, const char *label, const char *home)
{
	char *key_file = NULL;
	int r = 0;
	if (!(c->home = strdup(home)) || !(c->config_path = strdup(label)))
		return -IST_ENOMEM;
	if ((r = ist_node_home_path(home, IST_NODE_GENESIS_FILE, &c->genesis_path)) < 0 ||
	    (r = ist_node_home_path(home, c->keystore, &c->keystore_path)) < 0 ||
	    (r = ist_node_home_path(home, c->data_dir, &c->data_path)) < 0)
		return r;
	if (c->passphrase_file[0] && (r = ist_node_home_path(home, c->passphrase_file, &c->passphrase_path)) < 0)
		return r;
	if (asprintf(&key_file, "%s/%s.json", c->keystore_path, c->key_name) < 0)
		return -IST_ENOMEM;
	c->key_path = key_file;
	return 0;
}

int ist_node_config_parse(const char *json, size_t len, const char *label, const char *home,
			  struct ist_node_config *ret_cfg, struct ist_json_err *err)
{
	static const char *const fields[] = { "moniker", "role", "listen", "api", "key", "data_dir", "log", "peers",
					      "limits", "mempool", "chains", "metrics", NULL };
	static const char *const metrics_fields[] = { "enabled", NULL };
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, err);
	if (len > IST_NODE_CONFIG_FILE_MAX)
		return ist_json_fail(&jr, -IST_ETOOBIG, "", "larger than %d bytes", IST_NODE_CONFIG_FILE_MAX);
	struct ist_node_config c;
	ist_node_config_init(&c);
	char problem[256];
	json_t *root = ist_json_parse(&jr, json, len);
	if (!root)
		return jr.code;
	if (!ist_json_object(&jr, root, "", fields))
		goto out;
	/* the key first: the moniker defaults to its name */
	parse_key(&jr, root, &c);
	snprintf(c.moniker, sizeof(c.moniker), "%s", c.key_name);
	const char *moniker = ist_json_string(&jr, root, "", "moniker", false, c.moniker);
	if (ist_json_ok(&jr) && !ist_keystore_name_valid(moniker)) {
		char got[96];
		json_t *j = json_string(moniker);
		ist_json_fail(&jr, -IST_ECONFIG, "moniker", NAME_RULE " (got %s)",
				 j ? ist_json_describe(j, got, sizeof(got)) : "a string");
		json_decref(j);
	}
	copy_checked(&jr, "moniker", moniker, c.moniker, sizeof(c.moniker), NAME_RULE);
	json_t *role = ist_json_member(&jr, root, "", "role", false);
	if (role && ist_json_ok(&jr)) {
		const char *s = json_string_value(role);
		if (s && strcmp(s, "validator") == 0) {
			c.role = IST_NODE_ROLE_VALIDATOR;
		} else if (s && strcmp(s, "observer") == 0) {
			c.role = IST_NODE_ROLE_OBSERVER;
		} else {
			char got[96];
			ist_json_fail(&jr, -IST_ECONFIG, "role", "must be \"validator\" or \"observer\" (got %s)",
					 ist_json_describe(role, got, sizeof(got)));
		}
	}
	url_field(&jr, root, "listen", IST_NODE_URL_P2P, c.listen);
	url_field(&jr, root, "api", IST_NODE_URL_HTTP, c.api);
	path_field(&jr, root, "", "data_dir", c.data_dir, true);
	parse_log(&jr, root, &c);
	parse_peers(&jr, root, &c);
	parse_limits(&jr, root, &c);
	parse_mempool(&jr, root, &c);
	parse_chains(&jr, root, &c);
	json_t *metrics = ist_json_member(&jr, root, "", "metrics", false);
	if (metrics && ist_json_object(&jr, metrics, "metrics", metrics_fields))
		c.metrics_enabled = ist_json_bool(&jr, metrics, "metrics", "enabled", true);
	if (!ist_json_ok(&jr))
		goto out;

	if (ist_node_url_parse(c.listen, IST_NODE_URL_P2P, true, &c.listen_url, problem, sizeof(problem)) < 0 ||
	    ist_node_url_parse(c.api, IST_NODE_URL_HTTP, true, &c.api_url, problem, sizeof(problem)) < 0) {
		ist_json_fail(&jr, -IST_EINTERNAL, "", "default URL does not parse");
		goto out;
	}
	if (c.listen_url.port == c.api_url.port && strcmp(c.listen_url.host, c.api_url.host) == 0) {
		ist_json_fail(&jr, -IST_ECONFIG, "api", "must not use the host and port of listen (%s)", c.listen);
		goto out;
	}
	int r = derive(&c, label, home);
	if (r < 0)
		ist_json_fail(&jr, r, "", "out of memory");
out:
	json_decref(root);
	if (jr.code) {
		ist_node_config_fini(&c);
		return jr.code;
	}
	*ret_cfg = c;
	return 0;
}

int ist_node_config_load(const char *home, struct ist_node_config *ret_cfg, struct ist_json_err *err)
{
	char *path = NULL, *text = NULL;
	size_t len = 0;
	int r = ist_node_home_path(home, IST_NODE_CONFIG_FILE, &path);
	if (r < 0) {
		ist_json_err_set(err, IST_NODE_CONFIG_FILE, "", "out of memory");
		return r;
	}
	r = ist_json_file_read(path, IST_NODE_CONFIG_FILE_MAX, &text, &len, err);
	if (r == 0)
		r = ist_node_config_parse(text, len, path, home, ret_cfg, err);
	free(text);
	free(path);
	return r;
}

/* ---- formatting ------------------------------------------------------------------ */

int ist_node_config_format(const struct ist_node_config *cfg, char **ret_json)
{
	char problem[256];
	if (!ist_keystore_name_valid(cfg->moniker) || !ist_keystore_name_valid(cfg->key_name) ||
	    !ist_node_log_spec_valid(cfg->log_level) || !cfg->keystore[0] || !cfg->data_dir[0] ||
	    ist_node_url_parse(cfg->listen, IST_NODE_URL_P2P, true, NULL, problem, sizeof(problem)) < 0 ||
	    ist_node_url_parse(cfg->api, IST_NODE_URL_HTTP, true, NULL, problem, sizeof(problem)) < 0)
		return -IST_EINVAL;
	json_t *root = json_object(), *key = json_object(), *log = json_object(), *limits = json_object(),
	       *mempool = json_object(), *metrics = json_object();
	int bad = !root || !key || !log || !limits || !mempool || !metrics;
	bad |= json_object_set_new(root, "moniker", json_string(cfg->moniker));
	bad |= json_object_set_new(root, "role", json_string(ist_node_role_name(cfg->role)));
	bad |= json_object_set_new(root, "listen", json_string(cfg->listen));
	bad |= json_object_set_new(root, "api", json_string(cfg->api));
	bad |= json_object_set_new(key, "keystore", json_string(cfg->keystore));
	bad |= json_object_set_new(key, "name", json_string(cfg->key_name));
	if (cfg->passphrase_file[0])
		bad |= json_object_set_new(key, "passphrase_file", json_string(cfg->passphrase_file));
	bad |= json_object_set(root, "key", key);
	bad |= json_object_set_new(root, "data_dir", json_string(cfg->data_dir));
	bad |= json_object_set_new(log, "level", json_string(cfg->log_level));
	bad |= json_object_set_new(log, "format", json_string(cfg->log_format == IST_LOG_JSON ? "json" : "text"));
	bad |= json_object_set(root, "log", log);
	if (cfg->n_peers > 0) {
		json_t *peers = json_array();
		bad |= !peers;
		for (size_t i = 0; i < cfg->n_peers; i++) {
			char hex[2 * IST_ED25519_PUBKEY_BYTES + 1];
			json_t *o = json_object();
			ist_hex_encode(cfg->peers[i].node_key, sizeof(cfg->peers[i].node_key), hex);
			bad |= !o;
			bad |= json_object_set_new(o, "node_key", json_string(hex));
			bad |= json_object_set_new(o, "address", json_string(cfg->peers[i].address));
			bad |= json_array_append_new(peers, o);
		}
		bad |= json_object_set_new(root, "peers", peers);
	}
	bad |= json_object_set_new(limits, "max_peer_msgs_per_sec", json_integer(cfg->limits.max_peer_msgs_per_sec));
	bad |= json_object_set_new(limits, "max_peer_burst", json_integer(cfg->limits.max_peer_burst));
	bad |= json_object_set_new(limits, "max_frame_bytes", json_integer(cfg->limits.max_frame_bytes));
	bad |= json_object_set(root, "limits", limits);
	bad |= json_object_set_new(mempool, "max_items", json_integer(cfg->mempool.max_items));
	bad |= json_object_set_new(mempool, "max_bytes", json_integer(cfg->mempool.max_bytes));
	bad |= json_object_set_new(mempool, "max_per_sender", json_integer(cfg->mempool.max_per_sender));
	bad |= json_object_set_new(mempool, "accept_data", json_boolean(cfg->mempool.accept_data));
	bad |= json_object_set(root, "mempool", mempool);
	if (cfg->n_chains > 0) {
		json_t *chains = json_array();
		bad |= !chains;
		for (size_t i = 0; i < cfg->n_chains; i++) {
			const struct ist_node_chain_rpc *ch = &cfg->chains[i];
			json_t *o = json_object(), *urls = json_array();
			bad |= !o || !urls;
			bad |= json_object_set_new(o, "id", json_integer((json_int_t)ch->id));
			for (size_t k = 0; k < ch->n_rpc; k++)
				bad |= json_array_append_new(urls, json_string(ch->rpc[k]));
			bad |= json_object_set_new(o, "rpc", urls);
			bad |= json_object_set_new(o, "finality_depth", json_integer((json_int_t)ch->finality_depth));
			bad |= json_object_set_new(o, "poll_ms", json_integer(ch->poll_ms));
			bad |= json_array_append_new(chains, o);
		}
		bad |= json_object_set_new(root, "chains", chains);
	}
	bad |= json_object_set_new(metrics, "enabled", json_boolean(cfg->metrics_enabled));
	bad |= json_object_set(root, "metrics", metrics);
	int r = ist_json_dump_text(bad ? NULL : root, ret_json);
	json_decref(key);
	json_decref(log);
	json_decref(limits);
	json_decref(mempool);
	json_decref(metrics);
	json_decref(root);
	return r;
}

/* ---- checks against the genesis and the keystore --------------------------------- */

/* Copies a keystore error line "LABEL: problem" into `err` as file LABEL. */
static void keystore_err(struct ist_json_err *err, const char *label, const char *line)
{
	size_t n = strlen(label);
	if (strncmp(line, label, n) == 0 && line[n] == ':' && line[n + 1] == ' ')
		line += n + 2;
	ist_json_err_set(err, label, "", "%s", line);
}

static int check_keys(const struct ist_node_config *cfg, const struct ist_node_genesis *g,
		      struct ist_node_identity *id, struct ist_json_err *err)
{
	char line[1024];
	int r = ist_keystore_dir_check(cfg->keystore_path, false, line, sizeof(line));
	if (r < 0) {
		keystore_err(err, cfg->keystore_path, line);
		return r;
	}
	struct stat st;
	if (stat(cfg->key_path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077)) {
		ist_json_err_set(err, cfg->key_path, "",
				 "key file is accessible by group or others (mode %04o); fix with: chmod 600 %s",
				 (unsigned)(st.st_mode & 07777), cfg->key_path);
		return -IST_EPERM;
	}
	struct ist_keystore_file *f = calloc(1, sizeof(*f));
	if (!f) {
		ist_json_err_set(err, cfg->key_path, "", "out of memory");
		return -IST_ENOMEM;
	}
	r = ist_keystore_load_public(cfg->key_path, f, line, sizeof(line));
	if (r < 0) {
		keystore_err(err, cfg->key_path, line);
		goto out;
	}
	const struct ist_keyset_info *info = &f->info;
	if (strcmp(info->name, cfg->key_name) != 0) {
		ist_json_err_set(err, cfg->key_path, "", "the file holds keyset \"%s\", not \"%s\"", info->name,
				 cfg->key_name);
		r = -IST_ECONFIG;
		goto out;
	}
	const struct ist_keystore_key *node = ist_keyset_info_find(info, IST_KEY_ED25519);
	const struct ist_keystore_key *att = ist_keyset_info_find(info, IST_KEY_SECP256K1);
	const struct ist_keystore_key *dkg = ist_keyset_info_find(info, IST_KEY_X25519);
	if (!node || !att || !dkg) {
		ist_json_err_set(err, cfg->config_path, "key.name",
				 "keyset \"%s\" (%s) is not a validator keyset (it needs node, attestation and dkg keys)",
				 cfg->key_name, cfg->key_path);
		r = -IST_ECONFIG;
		goto out;
	}
	long idx = ist_node_genesis_find(g, node->pub);
	if (idx < 0) {
		/* a validator that joins by staking (isthmus stake register):
		 * it follows the chain until its stake puts it in a set */
		id->validator = true;
		id->index = IST_NODE_NOT_IN_GENESIS;
		id->keys = *info;
		r = 0;
		goto out;
	}
	const struct ist_node_validator *v = &g->validators[idx];
	const char *differs = NULL;
	if (memcmp(att->pub, v->attestation_key, IST_SECP_PUBKEY_BYTES) != 0)
		differs = "attestation_key";
	else if (memcmp(dkg->pub, v->dkg_key, IST_X25519_PUBKEY_BYTES) != 0)
		differs = "dkg_key";
	if (differs) {
		ist_json_err_set(err, cfg->config_path, "key.name",
				 "keyset \"%s\" has the node key of genesis validators[%ld] (\"%s\") but not its %s",
				 cfg->key_name, idx, v->name, differs);
		r = -IST_ECONFIG;
		goto out;
	}
	id->validator = true;
	id->index = (size_t)idx;
	id->keys = *info;
	r = 0;
out:
	free(f);
	return r;
}

int ist_node_config_check_genesis(const struct ist_node_config *cfg, const struct ist_node_genesis *g,
				  struct ist_node_identity *ret_id, struct ist_json_err *err)
{
	struct ist_node_identity id;
	memset(&id, 0, sizeof(id));
	int r;
	/* the largest frame the genesis lets a peer send: a proposal with the
	 * largest block and timeout certificate, in an envelope */
	uint64_t need = (uint64_t)g->consensus.max_block_bytes + IST_WIRE_MAX_TC_BYTES + 256 + 16;
	if (cfg->limits.max_frame_bytes < need) {
		ist_json_err_set(err, cfg->config_path, "limits.max_frame_bytes",
				 "must be at least %llu to carry the largest proposal of the genesis "
				 "(consensus.max_block_bytes %u) (got %u)",
				 (unsigned long long)need, g->consensus.max_block_bytes, cfg->limits.max_frame_bytes);
		return -IST_ECONFIG;
	}
	for (size_t i = 0; i < cfg->n_chains; i++) {
		if (!ist_node_genesis_chain(g, cfg->chains[i].id)) {
			char path[IST_JSON_ERR_FIELD_MAX];
			ist_json_index(path, "chains", i);
			strncat(path, ".id", sizeof(path) - strlen(path) - 1);
			ist_json_err_set(err, cfg->config_path, path, "chain %llu is not in the chains of %s",
					 (unsigned long long)cfg->chains[i].id, cfg->genesis_path);
			return -IST_ECONFIG;
		}
	}
	/* a validator attests every route: it must watch every chain */
	for (size_t k = 0; cfg->role == IST_NODE_ROLE_VALIDATOR && k < g->n_chains; k++) {
		bool found = false;
		for (size_t i = 0; i < cfg->n_chains; i++)
			found |= cfg->chains[i].id == g->chains[k].id;
		if (!found) {
			ist_json_err_set(err, cfg->config_path, "chains",
					 "has no RPC for chain %llu (%s) of %s: a validator watches every chain of its network",
					 (unsigned long long)g->chains[k].id, g->chains[k].name, cfg->genesis_path);
			return -IST_ECONFIG;
		}
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (ist_node_genesis_find(g, cfg->peers[i].node_key) < 0) {
			char path[IST_JSON_ERR_FIELD_MAX];
			ist_json_index(path, "peers", i);
			strncat(path, ".node_key", sizeof(path) - strlen(path) - 1);
			ist_json_err_set(err, cfg->config_path, path, "is not a validator's node key in %s",
					 cfg->genesis_path);
			return -IST_ECONFIG;
		}
	}
	if (cfg->passphrase_path) {
		struct stat st;
		if (stat(cfg->passphrase_path, &st) < 0) {
			int e = errno;
			ist_json_err_set(err, cfg->config_path, "key.passphrase_file", "%s: %s", cfg->passphrase_path,
					 e == ENOENT ? "no such file" : strerror(e));
			return e == ENOENT ? -IST_ENOTFOUND : ist_err_from_errno(e);
		}
		if (!S_ISREG(st.st_mode)) {
			ist_json_err_set(err, cfg->config_path, "key.passphrase_file", "%s: not a regular file",
					 cfg->passphrase_path);
			return -IST_ECONFIG;
		}
		if (st.st_mode & 077) {
			ist_json_err_set(err, cfg->config_path, "key.passphrase_file",
					 "%s is accessible by group or others (mode %04o); fix with: chmod 600 %s",
					 cfg->passphrase_path, (unsigned)(st.st_mode & 07777), cfg->passphrase_path);
			return -IST_EPERM;
		}
	}
	if (cfg->role == IST_NODE_ROLE_VALIDATOR && (r = check_keys(cfg, g, &id, err)) < 0)
		return r;
	if (ret_id)
		*ret_id = id;
	return 0;
}

int ist_node_home_load(const char *home, struct ist_node_config *ret_cfg, struct ist_node_genesis *ret_g,
		       struct ist_node_identity *ret_id, struct ist_json_err *err)
{
	struct ist_node_config cfg;
	struct ist_node_genesis g;
	ist_node_config_init(&cfg);
	ist_node_genesis_init(&g);
	int r = ist_node_config_load(home, &cfg, err);
	if (r == 0)
		r = ist_node_genesis_load(cfg.genesis_path, &g, err);
	if (r == 0)
		r = ist_node_config_check_genesis(&cfg, &g, ret_id, err);
	if (r < 0) {
		ist_node_config_fini(&cfg);
		ist_node_genesis_fini(&g);
		return r;
	}
	*ret_cfg = cfg;
	*ret_g = g;
	return 0;
}
