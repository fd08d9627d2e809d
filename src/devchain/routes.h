/*
 * The devchain's JSON HTTP API (docs/devchain.md has every route with
 * examples): one handler for api/http.h.
 *
 * Errors are {"error": "<code>", "detail": "..."}: codes are short, stable
 * names (an inbox refusal's code is the verification reason of
 * state/verify.h, "replay", "no-validator-set" or "malformed"; a hand-over
 * refusal's, the verification reason, "malformed", "no-validator-set",
 * "handover-uncertified" or "handover-conflict").
 */
#ifndef IST_DEVCHAIN_ROUTES_H
#define IST_DEVCHAIN_ROUTES_H

#include <stdbool.h>

#include "api/http.h"
#include "common/metrics.h"
#include "devchain/chain.h"

/* Blocks one GET /v1/messages may cover, and the JSON it writes before it
 * stops early (the answer's to_height then says where it stopped). */
#define IST_DC_MAX_RANGE 1000
#define IST_DC_RANGE_SOFT_BYTES (8u * 1024 * 1024)
/* Blocks one POST /v1/test/produce may make. */
#define IST_DC_MAX_PRODUCE 1000

struct ist_dc_routes {
	struct ist_dc *chain;          /* borrowed */
	struct ist_metrics *metrics;   /* borrowed; rendered by /metrics */
	bool test_hooks;               /* the /v1/test/ hooks are enabled */
};

/* The handler (ctx: a struct ist_dc_routes). Thread-safe. */
void ist_dc_routes_handle(void *ctx, const struct ist_http_request *req, struct ist_http_response *res);

#endif
