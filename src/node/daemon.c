/*
 * isthmusd: the validator node (node.h does the work).
 *
 *   isthmusd --home DIR [--log-level SPEC]
 *
 * Signals: SIGTERM and SIGINT stop the node cleanly (exit 0). Every thread
 * blocks them; the main thread waits for them with sigwait, so no handler
 * runs in an arbitrary thread. A fatal error of the consensus thread comes
 * back as SIGUSR1 (exit 1). Errors at start are one line on stderr, exit 1.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "node/node.h"

#ifndef IST_VERSION
#define IST_VERSION "0.0.0"
#endif

static const char help[] =
	"usage: isthmusd --home DIR [--log-level SPEC]\n"
	"\n"
	"Runs an isthmus validator from its node home (made by 'isthmus init' or\n"
	"'isthmus testnet'): reads DIR/config.json, DIR/genesis.json and the\n"
	"keystore, opens the database in the config's data_dir, connects to the\n"
	"other validators and takes part in consensus. The keystore passphrase\n"
	"comes from the config's key.passphrase_file, else $ISTHMUS_PASSPHRASE.\n"
	"SIGTERM or SIGINT (Ctrl-C) stops it cleanly; a restart resumes from the\n"
	"database. Only one isthmusd may run on a home at a time.\n"
	"\n"
	"Options:\n"
	"  --home DIR          the node home (required)\n"
	"  --log-level SPEC    error|warn|info|debug|trace, optionally with\n"
	"                      per-subsystem overrides: info,consensus=debug\n"
	"                      (default: the config's log.level)\n"
	"  --version           print the version and exit\n"
	"  -h, --help          print this help and exit\n";

static void on_fatal(void *ctx)
{
	(void)ctx;
	kill(getpid(), SIGUSR1);
}

int main(int argc, char **argv)
{
	/* no core dumps: they would hold the node key */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	static const struct option longopts[] = {
		{ "home", required_argument, NULL, 'H' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *home = NULL, *level = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': home = optarg; break;
		case 'l': level = optarg; break;
		case 'V':
#ifdef IST_FAULT_INJECTION
			printf("isthmusd %s (fault injection compiled in: a test build, never for a real network)\n",
			       IST_VERSION);
#else
			printf("isthmusd %s\n", IST_VERSION);
#endif
			return 0;
		case 'h': fputs(help, stdout); return 0;
		default:
			fprintf(stderr, "isthmusd: unknown or incomplete option '%s' (try --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "isthmusd: unexpected argument '%s' (try --help)\n", argv[optind]);
		return 2;
	}
	if (!home) {
		fprintf(stderr, "isthmusd: --home DIR is required (try --help)\n");
		return 2;
	}

	/* block the signals in every thread (they inherit the mask) */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	char err[IST_NODE_ERRBUF_BYTES] = "";
	struct ist_node_options opts = { .home = home, .log_level = level, .on_fatal = on_fatal };
	struct ist_node *n = NULL;
	int r = ist_node_new(&opts, &n, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "isthmusd: %s\n", err[0] ? err : ist_strerror(r));
		return 1;
	}
	if ((r = ist_node_start(n, err, sizeof(err))) < 0) {
		fprintf(stderr, "isthmusd: %s\n", err[0] ? err : ist_strerror(r));
		(void)ist_node_free(n);
		return 1;
	}
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	if (sig == SIGUSR1)
		ist_log_error("node", "stopping after a fatal error");
	else
		ist_log_info("node", "received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	ist_node_stop(n);
	r = ist_node_free(n);
	if (r == 0 && sig != SIGUSR1) {
		ist_log_info("node", "stopped cleanly");
		return 0;
	}
	return 1;
}
