/*
 * `isthmus safety`: its sub-table, `isthmus safety export` and `isthmus
 * safety import`, which move a validator's safety state (node/safety.h)
 * between homes, so that a validator moved to another machine never votes
 * twice in one view.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/err.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/safety.h"

static int safety_export(int argc, char **argv);
static int safety_import(int argc, char **argv);

static const struct ist_cli_cmd safety_cmds[] = {
	{ "export", safety_export, "write a stopped validator's safety state as JSON" },
	{ "import", safety_import, "load a safety state into a stopped validator's home" },
};

static const char safety_head[] =
	"usage: isthmus safety <subcommand> [<args>]\n"
	"\n"
	"Moves the safety state of a validator between node homes. The state is what\n"
	"stops a validator from signing twice in one view: the last view it voted or\n"
	"timed out in, its last timeout, and its highest QC (which is also its lock).\n"
	"isthmusd keeps it in its database; a validator moved to another machine, or\n"
	"given a new data directory, must take it along (docs/operator-guide.md,\n"
	"\"Moving a validator\").\n"
	"\n"
	"Subcommands:\n";

static const char safety_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help               show this help\n"
	"\n"
	"Both refuse to run while isthmusd runs on the home.\n"
	"\n"
	"Example:\n"
	"  isthmus safety export --home old/ --output val1.safety.json\n"
	"  isthmus safety import --home new/ val1.safety.json\n";

static const char export_help[] =
	"usage: isthmus safety export [--home DIR] [--output FILE [--force]]\n"
	"\n"
	"Writes the safety state of a stopped validator as JSON (docs/cli-safety.md):\n"
	"its chain id, network id, genesis hash and node key, the epoch, the last voted\n"
	"view, the last timeout view, the highest QC (view and block) and the state\n"
	"bytes in hex. Nothing in it is secret. Refused while isthmusd runs on the home\n"
	"(a running validator goes on voting) and when the node has no state yet.\n"
	"\n"
	"Options:\n"
	"  --home DIR               the node home (default: $ISTHMUS_HOME, else ~/.isthmus)\n"
	"  --output FILE            write to FILE (mode 0600, atomically) instead of\n"
	"                           stdout ('-': stdout)\n"
	"  --force                  replace FILE if it exists\n"
	"  -h, --help               show this help\n"
	"\n"
	"Once the state is exported to move the validator, never start isthmusd on this\n"
	"home again: two running copies of one validator double sign.\n"
	"\n"
	"Example:\n"
	"  isthmus safety export --home /var/lib/isthmus --output val1.safety.json\n";

static const char import_help[] =
	"usage: isthmus safety import [--home DIR] FILE\n"
	"\n"
	"Loads a safety state written by 'isthmus safety export' into the home of the\n"
	"same validator, before its node starts. FILE must be for this home's chain\n"
	"(chain id, network id, genesis hash) and node key. A state the home already\n"
	"has is never lowered: FILE's must be of a later epoch, or of the same epoch\n"
	"with a last voted view, a last timeout view and a highest QC view each at\n"
	"least the home's. It is written in one durable database transaction; the\n"
	"data directory is made when missing. Refused while isthmusd runs on the home.\n"
	"\n"
	"Options:\n"
	"  --home DIR               the node home (default: $ISTHMUS_HOME, else ~/.isthmus)\n"
	"  -h, --help               show this help\n"
	"\n"
	"Example:\n"
	"  isthmus safety import --home /var/lib/isthmus val1.safety.json\n";

int ist_cli_safety(int argc, char **argv)
{
	return ist_cli_group("safety", safety_head, safety_cmds, IST_ARRAY_SIZE(safety_cmds), safety_tail, argc, argv);
}

/* ---- shared ------------------------------------------------------------------- */

enum {
	OPT_HOME = 0x200,
	OPT_OUTPUT,
	OPT_FORCE,
};

static int node_err(const struct ist_json_err *e, int r)
{
	char line[2048];
	ist_cli_err("%s", ist_json_err_format(e, line, sizeof(line)));
	return r;
}

/* A validator home, and its node key: what a safety state belongs to. */
struct home {
	char *dir;
	struct ist_node_config cfg;
	struct ist_node_genesis g;
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
};

static int home_load(const char *opt, struct home *h)
{
	struct ist_node_identity id;
	struct ist_json_err err;
	ist_node_config_init(&h->cfg);
	ist_node_genesis_init(&h->g);
	if (!(h->dir = ist_cli_home_dir(opt)))
		return -IST_EINVAL;
	int r = ist_node_home_load(h->dir, &h->cfg, &h->g, &id, &err);
	if (r < 0)
		return node_err(&err, r);
	const struct ist_keystore_key *k = id.validator ? ist_keyset_info_find(&id.keys, IST_KEY_ED25519) : NULL;
	if (!k) {
		ist_cli_err("%s: role: an observer signs nothing and has no safety state", h->cfg.config_path);
		return -IST_ECONFIG;
	}
	memcpy(h->node_key, k->pub, IST_ED25519_PUBKEY_BYTES);
	return 0;
}

static void home_fini(struct home *h)
{
	ist_node_config_fini(&h->cfg);
	ist_node_genesis_fini(&h->g);
	free(h->dir);
}

/* "epoch E, last voted view V, highest QC view Q" */
static void describe(const struct ist_cons_safety *s, char *buf, size_t len)
{
	snprintf(buf, len, "epoch %llu, last voted view %llu, highest QC view %llu", (unsigned long long)s->epoch,
		 (unsigned long long)s->last_voted_view, (unsigned long long)s->high_qc.view);
}

/* ---- export ---------------------------------------------------------------------- */

static int safety_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "home", required_argument, NULL, OPT_HOME },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *home_opt = NULL, *output = NULL;
	bool force = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(export_help);
		case OPT_HOME: home_opt = optarg; break;
		case OPT_OUTPUT: output = optarg; break;
		case OPT_FORCE: force = true; break;
		default: return ist_cli_bad_option("safety export", c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err("safety export", "unexpected argument '%s'", argv[optind]);
	if (output && strcmp(output, "-") == 0)
		output = NULL;
	if (force && !output)
		return ist_cli_usage_err("safety export", "--force needs --output FILE");

	struct home h = { 0 };
	struct ist_node_safety_file *f = calloc(1, sizeof(*f));
	char *text = NULL;
	char line[2048];
	int r = -IST_ENOMEM;
	if (!f) {
		ist_cli_err("out of memory");
		goto out;
	}
	if ((r = home_load(home_opt, &h)) < 0)
		goto out;
	if ((r = ist_node_safety_export(&h.cfg, &h.g, h.node_key, f, line, sizeof(line))) < 0) {
		ist_cli_err("%s", line);
		goto out;
	}
	if ((r = ist_node_safety_file_format(f, &text)) < 0) {
		ist_cli_err("out of memory");
		goto out;
	}
	if (!output) {
		if (fputs(text, stdout) == EOF) {
			ist_cli_err("cannot write to standard output");
			r = -IST_EIO;
		}
		goto out;
	}
	struct ist_json_err err;
	if ((r = ist_node_file_write(output, text, strlen(text), force, &err)) < 0) {
		if (r == -IST_EEXISTS)
			ist_cli_err("%s: file exists (use --force to replace it)", output);
		else
			node_err(&err, r);
		goto out;
	}
	describe(&f->safety, line, sizeof(line));
	printf("exported the safety state of %s to %s: %s\n", h.cfg.data_path, output, line);
out:
	free(text);
	free(f);
	home_fini(&h);
	return ist_cli_status(r);
}

/* ---- import ---------------------------------------------------------------------- */

static int safety_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "home", required_argument, NULL, OPT_HOME },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *home_opt = NULL;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(import_help);
		case OPT_HOME: home_opt = optarg; break;
		default: return ist_cli_bad_option("safety import", c, argv);
		}
	}
	if (optind >= argc)
		return ist_cli_usage_err("safety import", "missing FILE");
	if (optind + 1 < argc)
		return ist_cli_usage_err("safety import", "unexpected argument '%s'", argv[optind + 1]);
	const char *file = argv[optind];

	struct home h = { 0 };
	struct ist_node_safety_file *f = calloc(1, sizeof(*f));
	struct ist_cons_safety *prev = malloc(sizeof(*prev));
	struct ist_json_err err;
	char *text = NULL;
	size_t len = 0;
	char line[2048], now[256], before[256];
	int r = -IST_ENOMEM;
	if (!f || !prev) {
		ist_cli_err("out of memory");
		goto out;
	}
	if ((r = home_load(home_opt, &h)) < 0)
		goto out;
	if ((r = ist_json_file_read(file, IST_NODE_SAFETY_FILE_MAX, &text, &len, &err)) < 0 ||
	    (r = ist_node_safety_file_parse(text, len, file, f, &err)) < 0 ||
	    (r = ist_node_safety_file_check(f, file, &h.g, h.node_key, &err)) < 0) {
		node_err(&err, r);
		goto out;
	}
	bool had = false;
	if ((r = ist_node_safety_import(&h.cfg, &h.g, f, &had, prev, line, sizeof(line))) < 0) {
		ist_cli_err("%s", line);
		goto out;
	}
	describe(&f->safety, now, sizeof(now));
	if (had)
		describe(prev, before, sizeof(before));
	printf("imported the safety state of %s into %s: %s (%s%s)\n", file, h.cfg.data_path, now,
	       had ? "replacing " : "the home had none", had ? before : "");
out:
	free(text);
	free(prev);
	free(f);
	home_fini(&h);
	return ist_cli_status(r);
}
