/* `isthmus keys export NAME`: the public keys as JSON, for genesis and
 * validator registration. No secret, no ciphertext. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/keys.h"
#include "common/bytes.h"
#include "common/err.h"

static const char help[] =
	"usage: isthmus keys export NAME [--output FILE [--force]] [options]\n"
	"\n"
	"Writes the public keys of keyset NAME as JSON, for a genesis file or a\n"
	"validator registration:\n"
	"  {\"name\", \"node_key\", \"attestation_key\", \"attestation_address\", \"dkg_key\"}\n"
	"(hex public keys, the EIP-55 address; a key the keyset lacks is left out).\n"
	"It holds no secret and no ciphertext; no passphrase is needed.\n"
	"\n"
	"Options:\n"
	"  --output FILE            write to FILE (mode 0644) instead of stdout\n"
	"  --force                  replace FILE if it exists\n"
	IST_CLI_KEYS_HELP_KEYSTORE
	IST_CLI_KEYS_HELP_HELP
	"\n"
	"Example:\n"
	"  isthmus keys export val1 --output val1.pub.json\n";

static json_t *export_json(const struct ist_keyset_info *info)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "name", json_string(info->name));
	for (size_t i = 0; i < info->n_keys; i++) {
		const struct ist_keystore_key *k = &info->keys[i];
		char hex[2 * IST_KEYSTORE_PUBKEY_MAX + 1];
		ist_hex_encode(k->pub, k->pub_len, hex);
		switch (k->type) {
		case IST_KEY_ED25519:
			json_object_set_new(o, "node_key", json_string(hex));
			break;
		case IST_KEY_SECP256K1: {
			char addr[43];
			ist_eth_address_format(k->addr, addr);
			json_object_set_new(o, "attestation_key", json_string(hex));
			json_object_set_new(o, "attestation_address", json_string(addr));
			break;
		}
		case IST_KEY_X25519:
			json_object_set_new(o, "dkg_key", json_string(hex));
			break;
		}
	}
	return o;
}

static int write_output(const char *file, bool force, json_t *o)
{
	char *text = json_dumps(o, JSON_INDENT(2));
	if (!text) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | (force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0) {
		int e = errno;
		free(text);
		if (e == EEXIST) {
			ist_cli_err("%s: file exists (use --force to replace it)", file);
			return -IST_EEXISTS;
		}
		ist_cli_err("%s: cannot create: %s", file, strerror(e));
		return ist_err_from_errno(e);
	}
	size_t len = strlen(text);
	text[len] = '\n';   /* replaces the NUL: the buffer is not a string now */
	size_t off = 0;
	int r = 0;
	while (off < len + 1) {
		ssize_t n = write(fd, text + off, len + 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	free(text);
	if (r < 0) {
		ist_cli_err("%s: cannot write: %s", file, strerror(-r));
		return ist_err_from_errno(-r);
	}
	return 0;
}

int ist_cli_keys_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, IST_CLI_OPT_OUTPUT },
		{ "force", no_argument, NULL, IST_CLI_OPT_FORCE },
		{ "keystore", required_argument, NULL, IST_CLI_OPT_KEYSTORE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keystore = NULL, *output = NULL;
	bool force = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case IST_CLI_OPT_OUTPUT: output = optarg; break;
		case IST_CLI_OPT_FORCE: force = true; break;
		case IST_CLI_OPT_KEYSTORE: keystore = optarg; break;
		default: return ist_cli_bad_option("keys export", c, argv);
		}
	}
	const char *name;
	int r = ist_cli_keys_name_arg("keys export", argc, argv, &name);
	if (r)
		return r;
	if ((r = ist_cli_keys_check_name("keys export", name)))
		return r;

	char *path = NULL;
	struct ist_keystore_file *f = NULL;
	if ((r = ist_cli_keys_load(keystore, name, &f, &path)) < 0)
		goto out;
	json_t *o = export_json(&f->info);
	if (!o) {
		ist_cli_err("out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	if (output) {
		r = write_output(output, force, o);
		json_decref(o);
	} else {
		r = ist_cli_print_json(o);
	}
out:
	free(f);
	free(path);
	return ist_cli_status(r);
}
