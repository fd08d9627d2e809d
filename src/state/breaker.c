/* Automatic circuit breakers (breaker.h). */
#include "state/breaker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define BREAKER_VERSION 1

struct ist_breaker {
	struct ist_breaker_chain *chains[IST_BREAKER_MAX_CHAINS];   /* by chain id; each owned */
	size_t n;
	bool dirty;
};

/* bad(why, why_len, fmt, ...): a refusal with its reason (common/err.h) */
#define bad ist_err_reason

struct ist_breaker *ist_breaker_new(void)
{
	return calloc(1, sizeof(struct ist_breaker));
}

static void drop_all(struct ist_breaker *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->chains[i]);
	b->n = 0;
}

void ist_breaker_free(struct ist_breaker *b)
{
	if (!b)
		return;
	drop_all(b);
	free(b);
}

const char *ist_breaker_reason_name(enum ist_breaker_reason r)
{
	switch (r) {
	case IST_BREAKER_FINALITY_VIOLATION:
		return "finality_violation";
	case IST_BREAKER_CONFLICTING_CHECKPOINTS:
		return "conflicting_checkpoints";
	case IST_BREAKER_NONE:
		break;
	}
	return "none";
}

bool ist_breaker_dirty(const struct ist_breaker *b) { return b->dirty; }
void ist_breaker_clean(struct ist_breaker *b) { b->dirty = false; }
size_t ist_breaker_n_chains(const struct ist_breaker *b) { return b->n; }
const struct ist_breaker_chain *ist_breaker_chain_at(const struct ist_breaker *b, size_t i) { return i < b->n ? b->chains[i] : NULL; }

/* The position of `chain` in b->chains, or where it would go. */
static size_t chain_pos(const struct ist_breaker *b, uint64_t chain, bool *found)
{
	size_t i = 0;
	while (i < b->n && b->chains[i]->chain < chain)
		i++;
	*found = i < b->n && b->chains[i]->chain == chain;
	return i;
}

const struct ist_breaker_chain *ist_breaker_chain_get(const struct ist_breaker *b, uint64_t chain)
{
	bool found;
	size_t i = chain_pos(b, chain, &found);
	return found ? b->chains[i] : NULL;
}

/* The chain's entry, made when missing. NULL: out of memory, or the table
 * is full. */
static struct ist_breaker_chain *chain_make(struct ist_breaker *b, uint64_t chain)
{
	bool found;
	size_t i = chain_pos(b, chain, &found);
	if (found)
		return b->chains[i];
	if (b->n == IST_BREAKER_MAX_CHAINS)
		return NULL;
	struct ist_breaker_chain *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->chain = chain;
	memmove(&b->chains[i + 1], &b->chains[i], (b->n - i) * sizeof(b->chains[0]));
	b->chains[i] = c;
	b->n++;
	return c;
}

static uint64_t set_stake(const struct ist_gov_set *set, const uint8_t key[32])
{
	for (uint32_t i = 0; i < set->n; i++)
		if (!memcmp(set->node_keys[i], key, 32))
			return set->stakes[i];
	return 0;
}

static bool in_set(const struct ist_gov_set *set, const uint8_t key[32])
{
	for (uint32_t i = 0; i < set->n; i++)
		if (!memcmp(set->node_keys[i], key, 32))
			return true;
	return false;
}

static bool over_third(uint64_t part, uint64_t total)
{
	return total && (unsigned __int128)part * 3 > (unsigned __int128)total;
}

int ist_breaker_report_check(const struct ist_breaker *b, const struct ist_gov_set *set, uint64_t chain,
			     const uint8_t reporter[32], uint64_t source_height, char *why, size_t why_len)
{
	if (!chain)
		return bad(why, why_len, "a finality report for chain 0 (chain ids are 1 or more)");
	if (!in_set(set, reporter))
		return bad(why, why_len, "the reporter is not a validator of the current set");
	const struct ist_breaker_chain *c = ist_breaker_chain_get(b, chain);
	if (!c) {
		if (b->n == IST_BREAKER_MAX_CHAINS)
			return bad(why, why_len, "%d chains have a breaker tally already", IST_BREAKER_MAX_CHAINS);
		return 0;
	}
	if (c->has_resumed && source_height <= c->resumed_below)
		return bad(why, why_len, "a violation at source height %" PRIu64 " of chain %" PRIu64
			   ": governance resumed the chain from violations up to height %" PRIu64,
			   source_height, chain, c->resumed_below);
	for (uint16_t i = 0; i < c->n_reports; i++)
		if (!memcmp(c->reports[i].validator, reporter, 32))
			return bad(why, why_len, "this validator's report for chain %" PRIu64 " is counted already "
				   "(height %" PRIu64 ")", chain, c->reports[i].height);
	if (c->n_reports == IST_WIRE_MAX_VALIDATORS)
		return bad(why, why_len, "chain %" PRIu64 " has %d reports already", chain, IST_WIRE_MAX_VALIDATORS);
	return 0;
}

int ist_breaker_report_add(struct ist_breaker *b, uint64_t chain, const uint8_t reporter[32], uint64_t source_height,
			   uint64_t height)
{
	struct ist_breaker_chain *c = chain_make(b, chain);
	if (!c)
		return b->n == IST_BREAKER_MAX_CHAINS ? 0 : -IST_ENOMEM;   /* the check refused a full table */
	if (c->n_reports == IST_WIRE_MAX_VALIDATORS)
		return 0;
	struct ist_breaker_report *r = &c->reports[c->n_reports++];
	memcpy(r->validator, reporter, 32);
	r->source_height = source_height;
	r->height = height;
	b->dirty = true;
	return 0;
}

int ist_breaker_offence(struct ist_breaker *b, uint64_t chain, const uint8_t offender[32], uint64_t epoch,
			uint64_t stake, uint64_t total)
{
	if (!chain)
		return 0;
	struct ist_breaker_chain *c = chain_make(b, chain);
	if (!c)
		return b->n == IST_BREAKER_MAX_CHAINS ? 0 : -IST_ENOMEM;
	if (c->tripped || c->n_offenders == IST_WIRE_MAX_VALIDATORS)
		return 0;
	for (uint16_t i = 0; i < c->n_offenders; i++)
		if (!memcmp(c->offenders[i].validator, offender, 32) && c->offenders[i].epoch == epoch)
			return 0;
	struct ist_breaker_offender *o = &c->offenders[c->n_offenders++];
	memcpy(o->validator, offender, 32);
	o->epoch = epoch;
	o->stake = stake;
	o->total = total;
	b->dirty = true;
	return 0;
}

/* The chains governance resumed in block `height`: clear them. */
static void clear_resumed(struct ist_breaker *b, const struct ist_gov *g, uint64_t height)
{
	size_t np = ist_gov_n_proposals(g);
	for (size_t i = 0; i < np; i++) {
		const struct ist_gov_proposal *p = ist_gov_proposal_at(g, i);
		if (p->status != IST_GOV_PASSED || p->decided != height || p->action != IST_GOV_RESUME_CHAIN)
			continue;
		bool found;
		size_t k = chain_pos(b, p->chain, &found);
		if (!found)
			continue;
		struct ist_breaker_chain *c = b->chains[k];
		for (uint16_t r = 0; r < c->n_reports; r++)
			if (!c->has_resumed || c->reports[r].source_height > c->resumed_below) {
				c->resumed_below = c->reports[r].source_height;
				c->has_resumed = true;
			}
		c->tripped = false;
		c->tripped_at = 0;
		c->reason = IST_BREAKER_NONE;
		c->n_reports = 0;
		c->n_offenders = 0;
		b->dirty = true;
	}
}

static bool offenders_over_third(const struct ist_breaker_chain *c)
{
	for (uint16_t i = 0; i < c->n_offenders; i++) {
		uint64_t sum = 0;
		for (uint16_t j = 0; j < c->n_offenders; j++)
			if (c->offenders[j].epoch == c->offenders[i].epoch)
				sum += c->offenders[j].stake;
		if (over_third(sum, c->offenders[i].total))
			return true;
	}
	return false;
}

void ist_breaker_step(struct ist_breaker *b, struct ist_gov *g, uint64_t height, const struct ist_gov_set *set)
{
	clear_resumed(b, g, height);
	for (size_t i = 0; i < b->n; i++) {
		struct ist_breaker_chain *c = b->chains[i];
		if (c->tripped)
			continue;
		uint64_t reported = 0;
		for (uint16_t r = 0; r < c->n_reports; r++)
			reported += set_stake(set, c->reports[r].validator);
		enum ist_breaker_reason why = over_third(reported, set->total) ? IST_BREAKER_FINALITY_VIOLATION
					      : offenders_over_third(c)      ? IST_BREAKER_CONFLICTING_CHECKPOINTS
									     : IST_BREAKER_NONE;
		if (why == IST_BREAKER_NONE)
			continue;
		c->tripped = true;
		c->tripped_at = height;
		c->reason = why;
		ist_gov_breaker_trip(g, c->chain, height);
		b->dirty = true;
	}
}

/* ---- the API's JSON ---- */

static void put_key(struct ist_buf *out, const uint8_t key[32])
{
	ist_buf_puts(out, "\"");
	ist_buf_put_hex(out, key, 32);
	ist_buf_puts(out, "\"");
}

void ist_breaker_json(const struct ist_breaker *b, struct ist_buf *out)
{
	ist_buf_puts(out, "[");
	bool first = true;
	for (size_t i = 0; i < b->n; i++) {
		const struct ist_breaker_chain *c = b->chains[i];
		if (!c->tripped && !c->n_reports && !c->n_offenders)
			continue;   /* only the floor of a resumed chain */
		ist_buf_puts(out, first ? "{" : ",{");
		first = false;
		ist_buf_putf(out, "\"chain\":\"%" PRIu64 "\",\"tripped\":%s,", c->chain, c->tripped ? "true" : "false");
		if (c->tripped)
			ist_buf_putf(out, "\"tripped_at\":%" PRIu64 ",\"reason\":\"%s\",", c->tripped_at,
				     ist_breaker_reason_name(c->reason));
		else
			ist_buf_puts(out, "\"tripped_at\":null,\"reason\":null,");
		ist_buf_puts(out, "\"reporters\":[");
		for (uint16_t r = 0; r < c->n_reports; r++) {
			ist_buf_puts(out, r ? "," : "");
			put_key(out, c->reports[r].validator);
		}
		ist_buf_puts(out, "],\"reports\":[");
		for (uint16_t r = 0; r < c->n_reports; r++) {
			ist_buf_puts(out, r ? ",{\"validator\":" : "{\"validator\":");
			put_key(out, c->reports[r].validator);
			ist_buf_putf(out, ",\"source_height\":\"%" PRIu64 "\",\"height\":%" PRIu64 "}",
				     c->reports[r].source_height, c->reports[r].height);
		}
		ist_buf_puts(out, "],\"offenders\":[");
		for (uint16_t r = 0; r < c->n_offenders; r++) {
			ist_buf_puts(out, r ? ",{\"validator\":" : "{\"validator\":");
			put_key(out, c->offenders[r].validator);
			ist_buf_putf(out, ",\"epoch\":%" PRIu64 ",\"stake\":\"%" PRIu64 "\",\"total_stake\":\"%" PRIu64 "\"}",
				     c->offenders[r].epoch, c->offenders[r].stake, c->offenders[r].total);
		}
		ist_buf_puts(out, "]}");
	}
	ist_buf_puts(out, "]");
}

/* ---- persistence ---- */

void ist_breaker_encode(const struct ist_breaker *b, struct ist_buf *out)
{
	ist_buf_put_u8(out, BREAKER_VERSION);
	ist_buf_put_be32(out, (uint32_t)b->n);
	for (size_t i = 0; i < b->n; i++) {
		const struct ist_breaker_chain *c = b->chains[i];
		ist_buf_put_be64(out, c->chain);
		ist_buf_put_u8(out, (uint8_t)((c->tripped ? 1 : 0) | (c->has_resumed ? 2 : 0)));
		ist_buf_put_be64(out, c->tripped_at);
		ist_buf_put_u8(out, (uint8_t)c->reason);
		ist_buf_put_be64(out, c->resumed_below);
		ist_buf_put_be16(out, c->n_reports);
		for (uint16_t r = 0; r < c->n_reports; r++) {
			ist_buf_put(out, c->reports[r].validator, 32);
			ist_buf_put_be64(out, c->reports[r].source_height);
			ist_buf_put_be64(out, c->reports[r].height);
		}
		ist_buf_put_be16(out, c->n_offenders);
		for (uint16_t r = 0; r < c->n_offenders; r++) {
			ist_buf_put(out, c->offenders[r].validator, 32);
			ist_buf_put_be64(out, c->offenders[r].epoch);
			ist_buf_put_be64(out, c->offenders[r].stake);
			ist_buf_put_be64(out, c->offenders[r].total);
		}
	}
}

int ist_breaker_decode(struct ist_breaker *b, const uint8_t *p, size_t len)
{
	struct ist_breaker *n = ist_breaker_new();
	if (!n)
		return -IST_ENOMEM;
	int rc = -IST_EDB_CORRUPT;
	struct ist_cur c;
	ist_cur_init(&c, p, len);
	uint8_t version = ist_cur_u8(&c);
	uint32_t nc = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || version != BREAKER_VERSION || nc > IST_BREAKER_MAX_CHAINS)
		goto fail;
	for (uint32_t i = 0; i < nc; i++) {
		struct ist_breaker_chain *x = calloc(1, sizeof(*x));
		if (!x) {
			rc = -IST_ENOMEM;
			goto fail;
		}
		n->chains[n->n++] = x;
		x->chain = ist_cur_be64(&c);
		uint8_t f = ist_cur_u8(&c);
		x->tripped = f & 1;
		x->has_resumed = (f & 2) != 0;
		x->tripped_at = ist_cur_be64(&c);
		uint8_t reason = ist_cur_u8(&c);
		x->resumed_below = ist_cur_be64(&c);
		x->n_reports = ist_cur_be16(&c);
		if (!ist_cur_ok(&c) || f > 3 || reason > IST_BREAKER_CONFLICTING_CHECKPOINTS ||
		    x->n_reports > IST_WIRE_MAX_VALIDATORS || (i && x->chain <= n->chains[i - 1]->chain))
			goto fail;
		x->reason = (enum ist_breaker_reason)reason;
		for (uint16_t r = 0; r < x->n_reports; r++) {
			ist_cur_get(&c, x->reports[r].validator, 32);
			x->reports[r].source_height = ist_cur_be64(&c);
			x->reports[r].height = ist_cur_be64(&c);
		}
		x->n_offenders = ist_cur_be16(&c);
		if (!ist_cur_ok(&c) || x->n_offenders > IST_WIRE_MAX_VALIDATORS)
			goto fail;
		for (uint16_t r = 0; r < x->n_offenders; r++) {
			ist_cur_get(&c, x->offenders[r].validator, 32);
			x->offenders[r].epoch = ist_cur_be64(&c);
			x->offenders[r].stake = ist_cur_be64(&c);
			x->offenders[r].total = ist_cur_be64(&c);
		}
	}
	if (!ist_cur_done(&c))
		goto fail;
	drop_all(b);
	memcpy(b->chains, n->chains, n->n * sizeof(n->chains[0]));
	b->n = n->n;
	b->dirty = false;
	free(n);
	return 0;
fail:
	ist_breaker_free(n);
	return rc;
}
