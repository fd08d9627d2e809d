/* `isthmus keys list`: every keyset of the keystore, broken files included. */
#include <stdlib.h>
#include <string.h>

#include "cli/keys.h"
#include "common/err.h"

static const char help[] =
	"usage: isthmus keys list [--json] [options]\n"
	"\n"
	"Lists every NAME.json of the keystore directory, one per line:\n"
	"  NAME<TAB>KIND<TAB>FILE\n"
	"where KIND is validator or the key types. A file that cannot be read is listed\n"
	"as NAME<TAB>broken<TAB>ERROR (the error names the file) and does not stop the\n"
	"listing; the exit status stays 0 (run 'isthmus keys show NAME' to get status\n"
	"1 for a broken file). No passphrase is needed.\n"
	"\n"
	"Options:\n"
	"  --json                   print a JSON array of {name, kind, file, created,\n"
	"                           keys} or, for a broken file, {name, file, error}\n"
	IST_CLI_KEYS_HELP_KEYSTORE
	IST_CLI_KEYS_HELP_HELP
	"\n"
	"Example:\n"
	"  isthmus keys list --keystore /var/lib/isthmus/keys\n";

int ist_cli_keys_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keystore", required_argument, NULL, IST_CLI_OPT_KEYSTORE },
		{ "json", no_argument, NULL, IST_CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keystore = NULL;
	bool json = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case IST_CLI_OPT_KEYSTORE: keystore = optarg; break;
		case IST_CLI_OPT_JSON: json = true; break;
		default: return ist_cli_bad_option("keys list", c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err("keys list", "unexpected argument '%s'", argv[optind]);

	char *dir = NULL;
	char **names = NULL;
	size_t n = 0;
	struct ist_keystore_file *f = NULL;
	json_t *arr = NULL;
	char err[1024];
	int r = ist_cli_keys_dir(keystore, false, NULL, &dir);
	if (r < 0)
		goto out;
	if ((r = ist_keystore_list(dir, &names, &n, err, sizeof(err))) < 0) {
		ist_cli_err("%s", err);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	arr = json ? json_array() : NULL;
	if (!f || (json && !arr)) {
		ist_cli_err("out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char *path = NULL;
		if ((r = ist_keystore_path(dir, names[i], &path)) < 0) {
			ist_cli_err("out of memory");
			goto out;
		}
		int lr = ist_keystore_load_public(path, f, err, sizeof(err));
		if (lr == 0)
			lr = ist_cli_keys_check_holds(&f->info, path, names[i], err, sizeof(err));
		if (json) {
			json_t *o;
			if (lr == 0) {
				o = ist_cli_keys_info_json(&f->info, path);
			} else {
				o = json_object();
				json_object_set_new(o, "name", json_string(names[i]));
				json_object_set_new(o, "file", json_string(path));
				json_object_set_new(o, "error", json_string(err));
			}
			json_array_append_new(arr, o);
		} else if (lr == 0) {
			char kind[64];
			printf("%s\t%s\t%s\n", names[i], ist_cli_keys_kind(&f->info, kind, sizeof(kind)), path);
		} else {
			for (char *p = err; *p; p++)
				if (*p == '\t')
					*p = ' ';
			printf("%s\tbroken\t%s\n", names[i], err);
		}
		free(path);
	}
	if (json) {
		r = ist_cli_print_json(arr);
		arr = NULL;
	}
out:
	json_decref(arr);
	free(f);
	ist_keystore_names_free(names, n);
	free(dir);
	return ist_cli_status(r);
}
