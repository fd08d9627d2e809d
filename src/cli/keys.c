/*
 * `isthmus keys`: the sub-table and the helpers its subcommands share.
 */
#include "cli/keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"

static const struct ist_cli_cmd keys_cmds[] = {
	{ "new", ist_cli_keys_new, "make a validator keyset (or one key) and store it encrypted" },
	{ "list", ist_cli_keys_list, "list the keysets of the keystore" },
	{ "show", ist_cli_keys_show, "show the public keys and the Ethereum address of a keyset" },
	{ "export", ist_cli_keys_export, "write the public keys as JSON, for genesis or registration" },
	{ "import", ist_cli_keys_import, "import a keyset from a key file backup or from hex secrets" },
	{ "delete", ist_cli_keys_delete, "delete a key file" },
};

static const char keys_head[] =
	"usage: isthmus keys <subcommand> [<args>]\n"
	"\n"
	"Manages the keys of a validator. A keyset is one file KEYSTORE/NAME.json (mode\n"
	"0600, in a 0700 directory) holding an Ed25519 node key, a secp256k1 attestation\n"
	"key and an X25519 DKG key (or a single key), encrypted with a passphrase\n"
	"(Argon2id, XChaCha20-Poly1305). Public keys are readable without it.\n"
	"\n"
	"Subcommands:\n";

static const char keys_tail[] =
	"\n"
	"Options:\n"
	IST_CLI_KEYS_HELP_HELP
	"\n"
	"The keystore directory is --keystore DIR, else $ISTHMUS_HOME/keys, else\n"
	"~/.isthmus/keys; a directory that group or others may access is refused.\n"
	IST_CLI_KEYS_HELP_PASSPHRASE("")
	"Run 'isthmus keys <subcommand> --help' for the options of a subcommand.\n"
	"\n"
	"Example:\n"
	"  isthmus keys new val1 && isthmus keys show val1\n";

int ist_cli_keys(int argc, char **argv)
{
	return ist_cli_group("keys", keys_head, keys_cmds, IST_ARRAY_SIZE(keys_cmds), keys_tail, argc, argv);
}

/* ---- shared helpers -------------------------------------------------------- */

int ist_cli_keys_dir(const char *opt, bool create, const char *name, char **ret_dir)
{
	char *dir = ist_cli_keystore_dir(opt);
	if (!dir)
		return -IST_EINVAL;
	char err[1024];
	int r = ist_keystore_dir_check(dir, create, err, sizeof(err));
	if (r < 0) {
		/* a command about one key names the key file it did not find */
		if (r == -IST_ENOTFOUND && name)
			ist_cli_err("%s/%s.json: no such key file (no keystore directory)", dir, name);
		else
			ist_cli_err("%s", err);
		free(dir);
		return r;
	}
	*ret_dir = dir;
	return 0;
}

int ist_cli_keys_name_arg(const char *cmd, int argc, char **argv, const char **ret_name)
{
	if (optind >= argc)
		return ist_cli_usage_err(cmd, "missing NAME");
	if (optind + 1 < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind + 1]);
	*ret_name = argv[optind];
	return 0;
}

int ist_cli_keys_check_name(const char *cmd, const char *name)
{
	if (!ist_keystore_name_valid(name))
		return ist_cli_usage_err(cmd, "invalid keyset name (1 to %d of A-Z a-z 0-9 . _ -, not starting "
					 "with '.' or '-')", IST_KEYSTORE_NAME_MAX);
	return 0;
}

int ist_cli_keys_type_arg(const char *cmd, const char *type, enum ist_key_type ret_types[IST_KEYSTORE_MAX_KEYS],
			  size_t *ret_n)
{
	if (ist_keyset_kind_parse(type, ret_types, ret_n) < 0)
		return ist_cli_usage_err(cmd, "unknown --type (validator, ed25519, secp256k1 or x25519)");
	return 0;
}

int ist_cli_keys_dir_for_new(const char *opt, const char *name, bool force, char **ret_dir)
{
	char *dir = NULL, *path = NULL;
	int r = ist_cli_keys_dir(opt, true, NULL, &dir);
	if (r < 0)
		return r;
	if ((r = ist_keystore_path(dir, name, &path)) < 0) {
		ist_cli_err("out of memory");
		goto fail;
	}
	if (!force && access(path, F_OK) == 0) {
		ist_cli_err("%s: key file already exists (use --force to replace it)", path);
		r = -IST_EEXISTS;
		goto fail;
	}
	free(path);
	*ret_dir = dir;
	return 0;
fail:
	free(path);
	free(dir);
	return r;
}

int ist_cli_keys_write(const char *dir, struct ist_keyset *ks, struct ist_cli_pass *pass,
		       const struct ist_keystore_kdf *kdf, bool force, bool json, const char *verb, const char *prep)
{
	char *path = NULL;
	char err[1024];
	int r = ist_keystore_write(dir, ks, pass->buf, pass->len, kdf, force, &path, err, sizeof(err));
	ist_cli_passphrase_free(pass);
	if (r < 0) {
		ist_cli_err("%s", err);
		return r;
	}
	struct ist_keystore_file *f = calloc(1, sizeof(*f));
	if (!f) {
		ist_cli_err("out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	/* show what is on disk, creation time included */
	if ((r = ist_keystore_load_public(path, f, err, sizeof(err))) < 0) {
		ist_cli_err("%s", err);
		goto out;
	}
	if (json) {
		r = ist_cli_print_json(ist_cli_keys_info_json(&f->info, path));
	} else {
		printf("%s keyset %s %s %s\n", verb, ist_keyset_info(ks)->name, prep, path);
		ist_cli_keys_info_print(&f->info, NULL);
	}
out:
	free(f);
	free(path);
	return r;
}

int ist_cli_keys_check_holds(const struct ist_keyset_info *info, const char *path, const char *name, char *err,
			     size_t errlen)
{
	if (strcmp(info->name, name) == 0)
		return 0;
	snprintf(err, errlen, "%s: the file holds keyset \"%s\", not \"%s\"", path, info->name, name);
	return -IST_EPARSE;
}

int ist_cli_keys_load(const char *opt, const char *name, struct ist_keystore_file **ret_file, char **ret_path)
{
	struct ist_keystore_file *f = calloc(1, sizeof(*f));
	char *dir = NULL, *path = NULL;
	char err[1024];
	if (!f) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	int r = ist_cli_keys_dir(opt, false, name, &dir);
	if (r < 0)
		goto fail;
	if ((r = ist_keystore_path(dir, name, &path)) < 0) {
		ist_cli_err("%s: invalid keyset name", dir);
		goto fail;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077)) {
		ist_cli_err("%s: key file is accessible by group or others (mode %04o); fix with: chmod 600 %s", path,
			    (unsigned)(st.st_mode & 07777), path);
		r = -IST_EPERM;
		goto fail;
	}
	if ((r = ist_keystore_load_public(path, f, err, sizeof(err))) < 0 ||
	    (r = ist_cli_keys_check_holds(&f->info, path, name, err, sizeof(err))) < 0) {
		ist_cli_err("%s", err);
		goto fail;
	}
	free(dir);
	*ret_file = f;
	*ret_path = path;
	return 0;
fail:
	free(f);
	free(path);
	free(dir);
	return r;
}

const char *ist_cli_keys_kind(const struct ist_keyset_info *info, char *buf, size_t len)
{
	if (info->n_keys == 3 && info->keys[0].type == IST_KEY_ED25519 && info->keys[1].type == IST_KEY_SECP256K1 &&
	    info->keys[2].type == IST_KEY_X25519)
		return "validator";
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < info->n_keys && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", ist_key_type_name(info->keys[i].type));
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

json_t *ist_cli_keys_info_json(const struct ist_keyset_info *info, const char *path)
{
	char kind[64];
	json_t *o = json_object();
	/* json_object_set_new consumes the value even when it fails, and fails
	 * for a NULL one (a constructor out of memory) */
	bool ok = json_object_set_new(o, "name", json_string(info->name)) == 0 &&
		  json_object_set_new(o, "kind", json_string(ist_cli_keys_kind(info, kind, sizeof(kind)))) == 0;
	/* FIXME: a path that is not UTF-8 cannot be a JSON string
	 * (json_string refuses it) and is left out silently */
	if (ok && path)
		json_object_set_new(o, "file", json_string(path));
	ok = ok && (!info->created[0] || json_object_set_new(o, "created", json_string(info->created)) == 0) &&
	     json_object_set_new(o, "keys", ist_keystore_keys_json(info)) == 0;
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void ist_cli_keys_info_print(const struct ist_keyset_info *info, const char *path)
{
	char kind[64];
	printf("name         %s\n", info->name);
	printf("kind         %s\n", ist_cli_keys_kind(info, kind, sizeof(kind)));
	if (path)
		printf("file         %s\n", path);
	if (info->created[0])
		printf("created      %s\n", info->created);
	for (size_t i = 0; i < info->n_keys; i++) {
		const struct ist_keystore_key *k = &info->keys[i];
		char hex[2 * IST_KEYSTORE_PUBKEY_MAX + 1];
		ist_hex_encode(k->pub, k->pub_len, hex);
		printf("%-12s %-10s %s\n", ist_key_type_purpose(k->type), ist_key_type_name(k->type), hex);
		if (k->type == IST_KEY_SECP256K1) {
			char addr[43];
			ist_eth_address_format(k->addr, addr);
			printf("%-12s %-10s %s\n", "address", "eip55", addr);
		}
	}
}
