/*
 * `isthmus gov`: governance on the ledger (state/gov.h). `gov propose` and
 * `gov vote` are transactions of the operators of the current set's
 * validators, signed and submitted as cli/txsubmit.h does; `gov show` and
 * `gov list` read GET /v1/gov/proposals/{id} and GET /v1/gov.
 * docs/cli-gov.md describes what a user sees.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ledger_json.h"
#include "cli/txsubmit.h"
#include "common/bytes.h"
#include "common/err.h"
#include "state/gov.h"

static int gov_propose(int argc, char **argv);
static int gov_vote(int argc, char **argv);
static int gov_show(int argc, char **argv);
static int gov_list(int argc, char **argv);

static const struct ist_cli_cmd gov_cmds[] = {
	{ "propose", gov_propose, "propose pausing or resuming a chain or a route" },
	{ "vote", gov_vote, "vote yes or no on an open proposal" },
	{ "show", gov_show, "show a proposal, its tally and its votes" },
	{ "list", gov_list, "list the proposals and what is paused" },
	{ "pauses", ist_cli_gov_pauses, "the recent pauses and resumes, and whether their certificates prove them" },
};

static const char gov_head[] =
	"usage: isthmus gov <subcommand> [<args>]\n"
	"\n"
	"Governance on the isthmus ledger. The operator of a validator of the current\n"
	"set proposes an action (pause or resume a source chain, or a route between\n"
	"two chains) and the operators vote with their validators' stake. A proposal\n"
	"passes at the first block where its yes votes hold more than 2/3 of the\n"
	"current set's stake, and takes effect in that block; one that has not passed\n"
	"when its voting period ends is rejected. A paused chain or route gets no new\n"
	"checkpoint: its messages wait and are delivered after a resume.\n"
	"\n"
	"Subcommands:\n";

static const char gov_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help               show this help\n"
	"\n"
	"Run 'isthmus gov <subcommand> --help' for the options of a subcommand.\n"
	"\n"
	"Example:\n"
	"  isthmus gov propose --key validator --pause-route 1:2\n"
	"  isthmus gov vote 1 --yes --key validator\n"
	"  isthmus gov list\n";

int ist_cli_gov(int argc, char **argv)
{
	return ist_cli_group("gov", gov_head, gov_cmds, IST_ARRAY_SIZE(gov_cmds), gov_tail, argc, argv);
}

/* ---- the transactions ----------------------------------------------------------------- */

#define STR_(x) #x
#define STR(x) STR_(x)

static const char propose_help[] =
	"usage: isthmus gov propose --key NAME (--pause-chain ID | --resume-chain ID |\n"
	"                           --pause-route SRC:DST | --resume-route SRC:DST |\n"
	"                           --route-limits SRC:DST [LIMITS] |\n"
	"                           --release-held SRC:DST:NONCE | --set-param NAME=VALUE)\n"
	"                           [--voting-blocks N] [options]\n"
	"\n"
	"Proposes one action, signed by keyset NAME, whose account must operate a\n"
	"validator of the current set. The proposer's vote counts as yes. Voting is\n"
	"open for N blocks; the proposal passes as soon as the yes votes hold more\n"
	"than 2/3 of the current set's stake. Once committed, prints the\n"
	"transaction, its height and the proposal's number:\n"
	"\n"
	"  tx ID\n"
	"  committed at height H: ok\n"
	"  proposal N\n"
	"\n"
	"Options:\n"
	"  --pause-chain ID         no new checkpoint on any route from or to chain ID\n"
	"  --resume-chain ID        undo a --pause-chain\n"
	"  --pause-route SRC:DST    no new checkpoint on the route from chain SRC to\n"
	"                           chain DST (the other direction goes on)\n"
	"  --resume-route SRC:DST   undo a --pause-route\n"
	"  --route-limits SRC:DST   set the route's limits to LIMITS, in source blocks\n"
	"                           of chain SRC (none given: remove its limits):\n"
	"    --window-blocks N      a sliding window of N source blocks, in which\n"
	"    --max-count N          at most N messages pass (1 to " STR(IST_GOV_MAX_WINDOW_COUNT) ")\n"
	"    --max-value N          worth at most N together (a message worth more\n"
	"                           passes alone in an empty window)\n"
	"    --high-value N         a message worth more than N waits\n"
	"    --delay-blocks N       N source blocks after the block it was sent in\n"
	"                           Held messages pass in nonce order.\n"
	"  --release-held SRC:DST:NONCE\n"
	"                           let the route's messages up to NONCE past its\n"
	"                           limits now\n"
	"  --set-param NAME=VALUE   change a ledger parameter: min_stake,\n"
	"                           unbonding_epochs, slash_fraction_bps,\n"
	"                           jail_missed_bps, jail_cooldown_epochs,\n"
	"                           max_validators (checked when proposed)\n"
	"  --voting-blocks N        how long voting is open, 1 to " STR(IST_GOV_MAX_VOTING_BLOCKS) " blocks\n"
	"                           (default 1000)\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Examples:\n"
	"  isthmus gov propose --key validator --pause-route 1:2 --voting-blocks 200\n"
	"  isthmus gov propose --key validator --route-limits 1:2 --window-blocks 100 \\\n"
	"      --max-count 50 --max-value 1000000 --high-value 100000 --delay-blocks 600\n";

static const char vote_help[] =
	"usage: isthmus gov vote ID (--yes | --no) --key NAME [options]\n"
	"\n"
	"Votes on open proposal ID with the stake of the validator that keyset NAME's\n"
	"account operates (a validator of the current set). A later vote of the same\n"
	"validator replaces its earlier one while the proposal is open.\n"
	"\n"
	"Options:\n"
	"  --yes                    approve the proposal\n"
	"  --no                     do not approve it\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Example:\n"
	"  isthmus gov vote 3 --yes --key validator\n";

#define VOTING_BLOCKS_DEFAULT 1000

enum {
	OPT_PAUSE_CHAIN = IST_CLI_LOPT_OWN,
	OPT_RESUME_CHAIN,
	OPT_PAUSE_ROUTE,
	OPT_RESUME_ROUTE,
	OPT_ROUTE_LIMITS,
	OPT_RELEASE_HELD,
	OPT_SET_PARAM,
	OPT_WINDOW_BLOCKS,
	OPT_MAX_COUNT,
	OPT_MAX_VALUE,
	OPT_HIGH_VALUE,
	OPT_DELAY_BLOCKS,
	OPT_VOTING_BLOCKS,
	OPT_YES,
	OPT_NO,
};

/* The names of the options above, in their order. */
static const char *const own_names[] = {
	"--pause-chain", "--resume-chain", "--pause-route", "--resume-route", "--route-limits", "--release-held",
	"--set-param", "--window-blocks", "--max-count", "--max-value", "--high-value", "--delay-blocks",
	"--voting-blocks", "--yes", "--no",
};

/* Parses "SRC:DST", two different chain ids >= 1. Returns 0 or IST_CLI_USAGE
 * after printing. */
static int route_arg(const char *cmd, const char *opt, const char *arg, uint64_t *ret_src, uint64_t *ret_dst)
{
	const char *colon = strchr(arg, ':');
	char src[24];
	uint64_t s, d;
	if (colon && (size_t)(colon - arg) < sizeof(src)) {
		memcpy(src, arg, (size_t)(colon - arg));
		src[colon - arg] = '\0';
		if (ist_json_decimal_u64(src, &s) && ist_json_decimal_u64(colon + 1, &d) && s >= 1 && d >= 1 && s != d) {
			*ret_src = s;
			*ret_dst = d;
			return 0;
		}
	}
	return ist_cli_usage_err(cmd, "%s must be SRC:DST, two different chain ids from 1 (got '%s')", opt, arg);
}

/* Parses "SRC:DST:NONCE". */
static int release_arg(const char *cmd, const char *opt, const char *arg, typeof(((struct ist_tx *)0)->u.gov_propose) *p)
{
	const char *last = strrchr(arg, ':');
	char route[48];
	if (last && (size_t)(last - arg) < sizeof(route)) {
		memcpy(route, arg, (size_t)(last - arg));
		route[last - arg] = '\0';
		if (strchr(route, ':') && ist_json_decimal_u64(last + 1, &p->release_through))
			return route_arg(cmd, opt, route, &p->src_chain, &p->dst_chain);
	}
	return ist_cli_usage_err(cmd, "%s must be SRC:DST:NONCE (got '%s')", opt, arg);
}

/* Parses "NAME=VALUE". */
static int param_arg(const char *cmd, const char *opt, const char *arg, typeof(((struct ist_tx *)0)->u.gov_propose) *p)
{
	const char *eq = strchr(arg, '=');
	char name[48];
	if (eq && (size_t)(eq - arg) < sizeof(name)) {
		memcpy(name, arg, (size_t)(eq - arg));
		name[eq - arg] = '\0';
		p->param = ist_gov_param_by_name(name);
		if (!p->param)
			return ist_cli_usage_err(cmd, "%s: unknown parameter '%s' (min_stake, unbonding_epochs, "
						 "slash_fraction_bps, jail_missed_bps, jail_cooldown_epochs, "
						 "max_validators)", opt, name);
		if (ist_json_decimal_u64(eq + 1, &p->param_value))
			return 0;
	}
	return ist_cli_usage_err(cmd, "%s must be NAME=VALUE, VALUE a decimal integer (got '%s')", opt, arg);
}

/* The proposal number of `gov vote ID`, `gov show ID`. */
static int proposal_arg(const char *cmd, int argc, char **argv, uint64_t *ret)
{
	if (optind >= argc)
		return ist_cli_usage_err(cmd, "the proposal number ID is required");
	if (optind + 1 < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind + 1]);
	if (!ist_json_decimal_u64(argv[optind], ret) || *ret < 1)
		return ist_cli_usage_err(cmd, "a proposal number is an integer from 1 (got '%s')", argv[optind]);
	return 0;
}

/* Parses and sends a gov_propose or gov_vote. */
static int gov_tx(int argc, char **argv, const char *cmd, const char *help, enum ist_tx_kind kind)
{
	static const struct option opts[] = {
		IST_CLI_TX_LONGOPTS,
		{ "pause-chain", required_argument, NULL, OPT_PAUSE_CHAIN },
		{ "resume-chain", required_argument, NULL, OPT_RESUME_CHAIN },
		{ "pause-route", required_argument, NULL, OPT_PAUSE_ROUTE },
		{ "resume-route", required_argument, NULL, OPT_RESUME_ROUTE },
		{ "route-limits", required_argument, NULL, OPT_ROUTE_LIMITS },
		{ "release-held", required_argument, NULL, OPT_RELEASE_HELD },
		{ "set-param", required_argument, NULL, OPT_SET_PARAM },
		{ "window-blocks", required_argument, NULL, OPT_WINDOW_BLOCKS },
		{ "max-count", required_argument, NULL, OPT_MAX_COUNT },
		{ "max-value", required_argument, NULL, OPT_MAX_VALUE },
		{ "high-value", required_argument, NULL, OPT_HIGH_VALUE },
		{ "delay-blocks", required_argument, NULL, OPT_DELAY_BLOCKS },
		{ "voting-blocks", required_argument, NULL, OPT_VOTING_BLOCKS },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "no", no_argument, NULL, OPT_NO },
		{ 0 },
	};
	bool propose = kind == IST_TX_GOV_PROPOSE;
	struct ist_cli_txopts o;
	ist_cli_txopts_init(&o);
	struct ist_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.kind = kind;
	typeof(tx.u.gov_propose) *p = &tx.u.gov_propose;
	p->voting_blocks = VOTING_BLOCKS_DEFAULT;
	const char *action_opt = NULL, *vote_opt = NULL, *limit_opt = NULL;
	uint64_t v;
	int r, c;
	ist_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(help);
		if ((r = ist_cli_txopts_take(cmd, c, optarg, &o)) == 0)
			continue;
		if (r != 1)
			return r;
		bool own = c >= OPT_PAUSE_CHAIN && c <= OPT_NO;
		const char *name = own ? own_names[c - OPT_PAUSE_CHAIN] : NULL;
		if (own && (propose ? c > OPT_VOTING_BLOCKS : c < OPT_YES))
			return ist_cli_usage_err(cmd, "unknown option '%s'", name);
		switch (c) {
		case OPT_PAUSE_CHAIN:
		case OPT_RESUME_CHAIN:
		case OPT_PAUSE_ROUTE:
		case OPT_RESUME_ROUTE:
			if (action_opt)
				return ist_cli_usage_err(cmd, "give one action (%s, then %s)", action_opt, name);
			action_opt = name;
			p->action = (uint32_t)(IST_GOV_PAUSE_CHAIN + (c - OPT_PAUSE_CHAIN));
			if (c == OPT_PAUSE_CHAIN || c == OPT_RESUME_CHAIN)
				r = ist_cli_u64_arg(cmd, name, optarg, 1, &p->chain);
			else
				r = route_arg(cmd, name, optarg, &p->src_chain, &p->dst_chain);
			if (r)
				return r;
			break;
		case OPT_ROUTE_LIMITS:
		case OPT_RELEASE_HELD:
		case OPT_SET_PARAM:
			if (action_opt)
				return ist_cli_usage_err(cmd, "give one action (%s, then %s)", action_opt, name);
			action_opt = name;
			p->action = (uint32_t)(IST_GOV_SET_ROUTE_LIMITS + (c - OPT_ROUTE_LIMITS));
			if (c == OPT_ROUTE_LIMITS)
				r = route_arg(cmd, name, optarg, &p->src_chain, &p->dst_chain);
			else if (c == OPT_RELEASE_HELD)
				r = release_arg(cmd, name, optarg, p);
			else
				r = param_arg(cmd, name, optarg, p);
			if (r)
				return r;
			break;
		case OPT_WINDOW_BLOCKS:
		case OPT_MAX_COUNT:
		case OPT_MAX_VALUE:
		case OPT_HIGH_VALUE:
		case OPT_DELAY_BLOCKS: {
			uint64_t *f[] = { &p->window_blocks, &p->max_count, &p->max_value, &p->high_value,
					  &p->delay_blocks };
			limit_opt = name;
			if ((r = ist_cli_u64_arg(cmd, name, optarg, 0, f[c - OPT_WINDOW_BLOCKS])))
				return r;
			break;
		}
		case OPT_VOTING_BLOCKS:
			if (!ist_json_decimal_u64(optarg, &v) || v < 1 || v > IST_GOV_MAX_VOTING_BLOCKS)
				return ist_cli_usage_err(cmd, "--voting-blocks must be an integer from 1 to %d (got '%s')",
							 IST_GOV_MAX_VOTING_BLOCKS, optarg);
			p->voting_blocks = (uint32_t)v;
			break;
		case OPT_YES:
		case OPT_NO:
			if (vote_opt && vote_opt != name)
				return ist_cli_usage_err(cmd, "give one of --yes and --no");
			vote_opt = name;
			break;
		default:
			return ist_cli_bad_option(cmd, c, argv);
		}
	}
	if (propose) {
		if (optind < argc)
			return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
		if (!action_opt)
			return ist_cli_usage_err(cmd, "give an action: --pause-chain ID, --resume-chain ID, --pause-route "
						 "SRC:DST, --resume-route SRC:DST, --route-limits SRC:DST, --release-held "
						 "SRC:DST:NONCE or --set-param NAME=VALUE");
		if (limit_opt && p->action != IST_GOV_SET_ROUTE_LIMITS)
			return ist_cli_usage_err(cmd, "%s goes with --route-limits", limit_opt);
	} else {
		uint64_t id;
		if ((r = proposal_arg(cmd, argc, argv, &id)))
			return r;
		if (!vote_opt)
			return ist_cli_usage_err(cmd, "give one of --yes and --no");
		memset(&tx.u, 0, sizeof(tx.u));
		tx.u.gov_vote.proposal = id;
		tx.u.gov_vote.approve = vote_opt == own_names[OPT_YES - OPT_PAUSE_CHAIN];
	}
	return ist_cli_tx_run(cmd, &o, &tx);
}

static int gov_propose(int argc, char **argv)
{
	return gov_tx(argc, argv, "gov propose", propose_help, IST_TX_GOV_PROPOSE);
}

static int gov_vote(int argc, char **argv)
{
	return gov_tx(argc, argv, "gov vote", vote_help, IST_TX_GOV_VOTE);
}

/* ---- gov show, gov list ----------------------------------------------------------------- */

static const char show_help[] =
	"usage: isthmus gov show ID [options]\n"
	"\n"
	"Shows proposal ID (GET /v1/gov/proposals/{id}): its action, proposer, status,\n"
	"the heights it was created at, closes at and was decided at, the yes stake\n"
	"of the last tally against the current set's, and every vote.\n"
	"\n"
	"Options:\n"
	IST_CLI_HELP_NODE
	"  --json                   print the proposal as the node gave it\n"
	"  -h, --help               show this help\n"
	"\n"
	"Example:\n"
	"  isthmus gov show 3\n";

static const char list_help[] =
	"usage: isthmus gov list [options]\n"
	"\n"
	"Lists what is paused (chains, routes) and the proposals the node keeps,\n"
	"newest first (GET /v1/gov): number, action, status, heights and tally.\n"
	"\n"
	"Options:\n"
	IST_CLI_HELP_NODE
	"  --json                   print {\"paused_chains\", \"paused_routes\",\n"
	"                           \"proposals\"} as the node gave them\n"
	"  -h, --help               show this help\n"
	"\n"
	"Example:\n"
	"  isthmus gov list --node http://127.0.0.1:26700\n";

/* "pause_route 1->2", "pause_chain 3" */
static void target_text(const struct ist_cli_lj_proposal *p, char *out, size_t len)
{
	if (p->is_route && p->has_release)
		snprintf(out, len, "%" PRIu64 "->%" PRIu64 ":%" PRIu64, p->src, p->dst, p->release_through);
	else if (p->is_route)
		snprintf(out, len, "%" PRIu64 "->%" PRIu64, p->src, p->dst);
	else if (p->is_param)
		snprintf(out, len, "%s=%" PRIu64, p->param, p->value);
	else
		snprintf(out, len, "%" PRIu64, p->chain);
}

/* The share of yes stake, "75.00%" ("-" without stake). */
static void share_text(const struct ist_cli_lj_proposal *p, char *out, size_t len)
{
	if (!p->total_stake) {
		snprintf(out, len, "-");
		return;
	}
	unsigned __int128 bp = (unsigned __int128)p->yes_stake * 10000 / p->total_stake;
	snprintf(out, len, "%u.%02u%%", (unsigned)(bp / 100), (unsigned)(bp % 100));
}

/* "window 100 blocks: 50 messages, value 1000; above 10: 5 blocks" */
static void limits_text(const struct ist_cli_lj_limits *l, char *out, size_t len)
{
	size_t k = 0;
	if (l->window_blocks)
		k += (size_t)snprintf(out + k, len - k, "window %" PRIu64 " blocks: %" PRIu64 " messages", l->window_blocks,
				      l->max_count);
	if (l->window_blocks && l->max_value && k < len)
		k += (size_t)snprintf(out + k, len - k, ", value %" PRIu64, l->max_value);
	if (l->high_value && k < len)
		k += (size_t)snprintf(out + k, len - k, "%svalue above %" PRIu64 " waits %" PRIu64 " blocks", k ? "; " : "",
				      l->high_value, l->delay_blocks);
	if (!k)
		snprintf(out, len, "none");
}

static void print_proposal(const struct ist_cli_lj_proposal *p)
{
	char target[48], share[16], hex[65];
	target_text(p, target, sizeof(target));
	share_text(p, share, sizeof(share));
	ist_hex_encode(p->proposer, 32, hex);
	printf("proposal     %" PRIu64 "\n", p->id);
	printf("action       %s %s\n", p->action, target);
	if (p->has_limits) {
		char lt[160];
		limits_text(&p->limits, lt, sizeof(lt));
		printf("limits       %s\n", lt);
	}
	if (p->has_release)
		printf("releases     messages 0..%" PRIu64 " of the route\n", p->release_through);
	printf("proposer     %s\n", hex);
	if (p->has_decided)
		printf("status       %s at height %" PRIu64 "\n", p->status, p->decided);
	else
		printf("status       %s until height %" PRIu64 "\n", p->status, p->closes);
	printf("created      height %" PRIu64 "\n", p->created);
	printf("closes       height %" PRIu64 "\n", p->closes);
	printf("yes stake    %" PRIu64 " of %" PRIu64 " (%s; passes above 2/3)\n", p->yes_stake, p->total_stake, share);
	if (!p->n_votes)
		printf("votes        none\n");
	for (size_t i = 0; i < p->n_votes; i++) {
		ist_hex_encode(p->votes[i].validator, 32, hex);
		printf("%-12s %s  %s\n", i ? "" : "votes", hex, p->votes[i].approve ? "yes" : "no");
	}
}

static void print_gov(const struct ist_cli_lj_gov *g)
{
	printf("paused chains  ");
	for (size_t i = 0; i < g->n_chains; i++)
		printf("%s%" PRIu64, i ? ", " : "", g->chains[i]);
	printf("%s\n", g->n_chains ? "" : "none");
	printf("paused routes  ");
	for (size_t i = 0; i < g->n_routes; i++)
		printf("%s%" PRIu64 "->%" PRIu64, i ? ", " : "", g->routes[i].src, g->routes[i].dst);
	printf("%s\n", g->n_routes ? "" : "none");
	printf("breakers       ");
	size_t nb = 0;
	for (size_t i = 0; i < g->n_breakers; i++)
		if (g->breakers[i].tripped)
			printf("%schain %" PRIu64 " tripped at height %" PRIu64 " (%s, %zu reporters)", nb++ ? ", " : "",
			       g->breakers[i].chain, g->breakers[i].tripped_at, g->breakers[i].reason,
			       g->breakers[i].n_reporters);
	printf("%s\n", nb ? "" : "none tripped");
	printf("route limits%s\n", g->n_limits ? "" : "   none");
	for (size_t i = 0; i < g->n_limits; i++) {
		const struct ist_cli_lj_route_limits *x = &g->limits[i];
		char lt[160] = "none", route[48];
		if (x->has_limits)
			limits_text(&x->limits, lt, sizeof(lt));
		snprintf(route, sizeof(route), "%" PRIu64 "->%" PRIu64, x->src, x->dst);
		printf("  %-10s %s (since height %" PRIu64 "); checkpointed %" PRIu64 " messages at source height %"
		       PRIu64 "%s", route, lt, x->since, x->cp_size, x->cp_height, x->released_below ? "; released" : "");
		if (x->released_below)
			printf(" below %" PRIu64, x->released_below);
		printf("\n");
	}
	if (!g->n) {
		printf("\nno proposals\n");
		return;
	}
	printf("\n%6s  %-16s  %-14s  %-8s  %10s  %10s  %10s  %7s  %5s\n", "ID", "ACTION", "TARGET", "STATUS", "CREATED",
	       "CLOSES", "DECIDED", "YES", "VOTES");
	for (size_t i = 0; i < g->n; i++) {
		const struct ist_cli_lj_proposal *p = &g->proposals[i];
		char target[48], share[16], decided[24] = "-";
		target_text(p, target, sizeof(target));
		share_text(p, share, sizeof(share));
		if (p->has_decided)
			snprintf(decided, sizeof(decided), "%" PRIu64, p->decided);
		printf("%6" PRIu64 "  %-16s  %-14s  %-8s  %10" PRIu64 "  %10" PRIu64 "  %10s  %7s  %5zu\n", p->id, p->action,
		       target, p->status, p->created, p->closes, decided, share, p->n_votes);
	}
}

/* `gov show ID` (show) or `gov list`. */
static int gov_query(int argc, char **argv, bool show)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		{ 0 },
	};
	const char *cmd = show ? "gov show" : "gov list";
	struct ist_cli_txopts o;
	ist_cli_txopts_init(&o);
	uint64_t id = 0;
	int r, c;
	ist_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(show ? show_help : list_help);
		if ((r = ist_cli_txopts_take(cmd, c, optarg, &o)) == 0)
			continue;
		if (r != 1)
			return r;
		return ist_cli_bad_option(cmd, c, argv);
	}
	if (show && (r = proposal_arg(cmd, argc, argv, &id)))
		return r;
	if (!show && optind < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	char path[64];
	if (show)
		snprintf(path, sizeof(path), "/v1/gov/proposals/%" PRIu64, id);
	else
		snprintf(path, sizeof(path), "/v1/gov");
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_proposal prop = { 0 };
	struct ist_cli_lj_gov g = { 0 };
	struct ist_json_err jerr;
	if ((r = ist_cli_node_get(&node, path, false, &a)) < 0)
		goto out;
	r = show ? ist_cli_lj_proposal_parse(a.doc, path, &prop, &jerr) : ist_cli_lj_gov_parse(a.doc, path, &g, &jerr);
	if (r < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json) {
		r = ist_cli_print_json(json_incref(a.doc));
		goto out;
	}
	if (show)
		print_proposal(&prop);
	else
		print_gov(&g);
out:
	ist_cli_lj_proposal_fini(&prop);
	ist_cli_lj_gov_fini(&g);
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}

static int gov_show(int argc, char **argv)
{
	return gov_query(argc, argv, true);
}

static int gov_list(int argc, char **argv)
{
	return gov_query(argc, argv, false);
}
