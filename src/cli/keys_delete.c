/* `isthmus keys delete NAME`: unlinks a key file, after confirmation. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/keys.h"
#include "common/err.h"

static const char help[] =
	"usage: isthmus keys delete NAME [--yes] [options]\n"
	"\n"
	"Deletes KEYSTORE/NAME.json. Without --yes it asks for confirmation (type the\n"
	"name) when stdin is a terminal, and refuses (status 2) when it is not.\n"
	"The file is unlinked, not wiped: copies and backups, and what the file system\n"
	"or the disk may keep, remain the operator's business. The file need not be a\n"
	"valid key file, so a broken one can be removed too.\n"
	"\n"
	"Options:\n"
	"  --yes                    delete without asking\n"
	IST_CLI_KEYS_HELP_KEYSTORE
	IST_CLI_KEYS_HELP_HELP
	"\n"
	"Example:\n"
	"  isthmus keys delete old-val --yes\n";

/* Asks on the terminal; true when the operator typed the name. */
static bool confirm(const char *name, const char *path)
{
	fprintf(stderr, "Delete %s? Only a backup can bring it back.\nType the name (%s) to confirm: ", path, name);
	fflush(stderr);
	char line[IST_KEYSTORE_NAME_MAX + 8];
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, name) == 0;
}

int ist_cli_keys_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, IST_CLI_OPT_YES },
		{ "keystore", required_argument, NULL, IST_CLI_OPT_KEYSTORE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keystore = NULL;
	bool yes = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":hy", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case 'y':
		case IST_CLI_OPT_YES: yes = true; break;
		case IST_CLI_OPT_KEYSTORE: keystore = optarg; break;
		default: return ist_cli_bad_option("keys delete", c, argv);
		}
	}
	const char *name;
	int r = ist_cli_keys_name_arg("keys delete", argc, argv, &name);
	if (r)
		return r;
	if ((r = ist_cli_keys_check_name("keys delete", name)))
		return r;

	char *dir = NULL, *path = NULL;
	int status = IST_CLI_ERROR;
	if (ist_cli_keys_dir(keystore, false, name, &dir) < 0)
		goto out;
	if (ist_keystore_path(dir, name, &path) < 0) {
		ist_cli_err("out of memory");
		goto out;
	}
	struct stat st;
	if (lstat(path, &st) < 0) {
		ist_cli_err("%s: no such key file", path);
		goto out;
	}
	if (!yes) {
		if (!isatty(STDIN_FILENO)) {
			ist_cli_err("%s: not deleted: stdin is not a terminal, confirm with --yes", path);
			status = IST_CLI_USAGE;
			goto out;
		}
		if (!confirm(name, path)) {
			ist_cli_err("%s: not deleted", path);
			goto out;
		}
	}
	char err[1024];
	if (ist_keystore_delete(dir, name, err, sizeof(err)) < 0) {
		ist_cli_err("%s", err);
		goto out;
	}
	printf("deleted %s\n", path);
	status = IST_CLI_OK;
out:
	free(path);
	free(dir);
	return status;
}
