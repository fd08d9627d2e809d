/*
 * Fuzz target 'cli-ledger-json': the decoders of the node's ledger answers
 * that `isthmus tx`, `stake`, `gov` and `query` read (cli/ledger_json.h), outside
 * input. The bytes are parsed as JSON (as the CLI's HTTP client does) and
 * the document goes through every decoder. Whatever it is: no crash, no
 * leak, a code of the contract, and on success values within the bounds the
 * printers rely on.
 *
 * Seed corpus: tests/fuzz/corpus/cli-ledger-json/ (answers of the shapes in
 * docs/api.md, and broken ones).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ledger_json.h"
#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_code(int r)
{
	check(r == 0 || r == -IST_ECONFIG || r == -IST_ENOMEM);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (!doc)
		return 0;
	struct ist_json_err err;
	uint64_t nid = 0;
	int r = ist_cli_lj_network_id(doc, "status", &nid, &err);
	check_code(r);
	check(r < 0 || nid >= 1);

	uint8_t id[32];
	check_code(ist_cli_lj_submitted(doc, "submitted", id, &err));

	struct ist_cli_lj_account a;
	r = ist_cli_lj_account_parse(doc, "account", &a, &err);
	check_code(r);
	check(r < 0 || (a.n_bonds <= IST_CLI_LJ_MAX_BONDS && a.n_unbonding <= IST_CLI_LJ_MAX_BONDS));
	ist_cli_lj_account_fini(&a);

	struct ist_cli_lj_tx t;
	r = ist_cli_lj_tx_parse(doc, "tx", &t, &err);
	check_code(r);
	check(r < 0 || !t.committed || t.ok || memchr(t.reason, '\0', sizeof(t.reason)));
	check(r < 0 || !t.has_proposal || t.proposal >= 1);

	struct ist_cli_lj_staking s;
	r = ist_cli_lj_staking_parse(doc, "staking", &s, &err);
	check_code(r);
	for (size_t i = 0; r == 0 && i < s.n; i++) {
		check(s.validators[i].commission_bps <= 10000);
		check(memchr(s.validators[i].status, '\0', sizeof(s.validators[i].status)) != NULL);
		(void)ist_cli_lj_staking_find(&s, s.validators[i].node_key);
	}
	ist_cli_lj_staking_fini(&s);

	struct ist_cli_lj_valset v;
	r = ist_cli_lj_valset_parse(doc, "valset", &v, &err);
	check_code(r);
	ist_cli_lj_valset_fini(&v);

	struct ist_cli_lj_epochs es;
	check_code(ist_cli_lj_epochs_parse(doc, "epochs", &es, &err));

	struct ist_cli_lj_epoch e;
	r = ist_cli_lj_epoch_parse(doc, "epoch", &e, &err);
	check_code(r);
	ist_cli_lj_epoch_fini(&e);

	struct ist_cli_lj_evidence ev;
	r = ist_cli_lj_evidence_parse(doc, "evidence", &ev, &err);
	check_code(r);
	ist_cli_lj_evidence_fini(&ev);

	struct ist_cli_lj_proposal p;
	r = ist_cli_lj_proposal_parse(doc, "proposal", &p, &err);
	check_code(r);
	check(r < 0 || (p.id >= 1 && p.n_votes <= IST_CLI_LJ_MAX_VOTES && (p.n_votes == 0) == (p.votes == NULL)));
	check(r < 0 || memchr(p.status, '\0', sizeof(p.status)) != NULL);
	ist_cli_lj_proposal_fini(&p);

	struct ist_cli_lj_gov g;
	r = ist_cli_lj_gov_parse(doc, "gov", &g, &err);
	check_code(r);
	check(r < 0 || (g.n <= IST_CLI_LJ_MAX_PROPOSALS && g.n_chains <= IST_CLI_LJ_MAX_PAUSED &&
			g.n_routes <= IST_CLI_LJ_MAX_PAUSED));
	for (size_t i = 0; r == 0 && i < g.n; i++)
		check(g.proposals[i].id >= 1 && g.proposals[i].n_votes <= IST_CLI_LJ_MAX_VOTES);
	ist_cli_lj_gov_fini(&g);

	struct ist_cli_lj_pauses ps;
	r = ist_cli_lj_pauses_parse(doc, "pauses", &ps, &err);
	check_code(r);
	for (size_t i = 0; r == 0 && i < ps.n; i++)
		check(ps.v[i].p.height >= 1 && ps.v[i].proof.path_len <= IST_WIRE_MAX_PROOF_DEPTH &&
		      (ps.v[i].cert == NULL) == (ps.v[i].cert_len == 0));
	ist_cli_lj_pauses_fini(&ps);

	struct ist_cli_lj_delivery_status ds;
	r = ist_cli_lj_delivery_status_parse(doc, "delivery", &ds, &err);
	check_code(r);
	check(r < 0 || !ds.held || (!ds.ready && strcmp(ds.reason, "held") == 0));

	char line[1024];
	(void)ist_json_err_format(&err, line, sizeof(line));
	json_decref(doc);
	return 0;
}
