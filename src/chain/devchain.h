/*
 * The isthmus-devchain adapter: reads one devchain's JSON API over HTTP
 * (GET /v1/head, GET /v1/blocks/{h}; formats in chain/devchain_json.h and
 * docs/chain.md) with NNG's HTTP client.
 */
#ifndef IST_CHAIN_DEVCHAIN_H
#define IST_CHAIN_DEVCHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "common/macro.h"

/* Largest timeout_ms accepted (10 minutes). */
#define IST_CHAIN_DEVCHAIN_MAX_TIMEOUT_MS 600000

/*
 * Makes an adapter for the devchain at `url` ("http://HOST:PORT", with an
 * optional path prefix: "http://HOST:PORT/devchain" asks for
 * /devchain/v1/head) that serves chain `chain_id`.
 *
 * In: url (copied; at most IST_CHAIN_URL_MAX - 1 bytes, http only, no query
 * or fragment), chain_id (the adapter's head() fails with -IST_ECONFIG when
 * the endpoint reports another chain_id), timeout_ms (1 ..
 * IST_CHAIN_DEVCHAIN_MAX_TIMEOUT_MS: the bound on one whole request,
 * connection to last body byte).
 * Out: *ret, the adapter (destroy with ist_chain_adapter_destroy), written
 * only on success; errbuf (errlen bytes, may be NULL) a one-line reason on
 * failure.
 * Returns 0, -IST_EINVAL (bad url or timeout), -IST_ENOMEM, or -IST_ENET
 * (NNG could not make an HTTP client for the URL). The endpoint is not
 * contacted: an endpoint that is down is not an error here.
 *
 * Each request is one connection (Connection: close) with a body of at
 * most IST_CHAIN_DEVCHAIN_MAX_BODY bytes (Content-Length, chunked, or up to
 * the close).
 */
int ist_chain_devchain_new(const char *url, uint64_t chain_id, uint32_t timeout_ms, struct ist_chain_adapter **ret,
			   char *errbuf, size_t errlen) IST_WUR;

#endif
