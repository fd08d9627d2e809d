/*
 * JSON over HTTP for the commands that talk to validators and chains
 * (`isthmus send`, `isthmus relay`): requests on the HTTP client of
 * chain/http.h whose answers are parsed as JSON, and the error of an answer
 * in either dialect (the node's, docs/api.md; the devchain's,
 * docs/devchain.md).
 */
#ifndef IST_CLI_RPC_H
#define IST_CLI_RPC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/http.h"
#include "common/macro.h"

/* The bound on one request that is not a long poll. */
#define IST_CLI_RPC_TIMEOUT_MS 15000
/* Bytes of an answer (256 events of a long poll, a delivery with a 64 KiB
 * payload twice over in hex, a list of routes: all far below). */
#define IST_CLI_RPC_MAX_BODY (8u * 1024 * 1024)
/* Bytes of an error code and detail kept from an answer, NUL included. */
#define IST_CLI_RPC_CODE_MAX 48
#define IST_CLI_RPC_DETAIL_MAX 384

/* An answer. */
struct ist_cli_rpc_answer {
	uint16_t status;
	json_t *doc;    /* the body when it is a JSON object, else NULL; owned */
};

/*
 * Sends `method` `path` with `body` (borrowed; NULL: none, else sent as
 * compact JSON with Content-Type application/json) and reads the answer.
 * timeout_ms 0: the client's. Out: *ret (written only on success; release
 * with ist_cli_rpc_answer_fini), err (errlen bytes): on failure, the
 * client's one-line reason. Returns 0 whatever the status, or the errors of
 * ist_http_client_request (-IST_ENET, -IST_ETIMEOUT, -IST_EPARSE,
 * -IST_ECLOSED, -IST_ENOMEM).
 */
int ist_cli_rpc_call(struct ist_http_client *c, const char *method, const char *path, json_t *body,
		     uint32_t timeout_ms, struct ist_cli_rpc_answer *ret, char *err, size_t errlen) IST_WUR;

void ist_cli_rpc_answer_fini(struct ist_cli_rpc_answer *a);

/*
 * The error an answer carries: {"error":"CODE","detail":"..."} (devchain)
 * or {"error":{"code":"CODE","message":"..."}} (node). Without one, code is
 * "" and detail "HTTP status N". Both are cut to fit and hold no control
 * characters.
 */
void ist_cli_rpc_error(const struct ist_cli_rpc_answer *a, char code[IST_CLI_RPC_CODE_MAX],
		       char detail[IST_CLI_RPC_DETAIL_MAX]);

#endif
