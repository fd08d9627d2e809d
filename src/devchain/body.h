/*
 * Decoders of the devchain's request bodies (outside input: every one has a
 * fuzz target, tests/devchain/fuzz_*.c). Errors are a struct ist_json_err
 * labelled "request body", naming the field and the problem.
 */
#ifndef IST_DEVCHAIN_BODY_H
#define IST_DEVCHAIN_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/macro.h"
#include "state/verify.h"
#include "wire/types.h"

#define IST_DC_BODY_LABEL "request body"
/* The largest body the devchain reads: a delivery in hex, with room. */
#define IST_DC_MAX_BODY (2 * IST_WIRE_MAX_DELIVERY_BYTES + 4096)

/*
 * POST /v1/messages:
 *   {"dst_chain": N, "recipient": "<hex32>", "sender": "<hex32>" (optional,
 *    zeros), "value": N (optional, 0), "payload": "<hex>" (optional, at most
 *    IST_WIRE_MAX_MSG_PAYLOAD bytes)}
 * N are u64 (JSON integers up to 2^53, decimal strings above). Out: *ret
 * with dst_chain, sender, recipient, value and payload (malloc'd: fini it);
 * src_chain and nonce zero. Returns 0, -IST_EPARSE (not JSON), -IST_ECONFIG
 * (a field wrong), -IST_ETOOBIG (body over IST_DC_MAX_BODY), -IST_ENOMEM.
 */
int ist_dc_parse_send(const char *body, size_t len, struct ist_message *ret, struct ist_json_err *err) IST_WUR;

/*
 * POST /v1/inbox: {"delivery": "<hex of the protobuf Delivery>"}. Decodes
 * the delivery (wire/codec.h). Out: *ret (ist_wire_delivery_free). Returns
 * 0, the errors of ist_dc_parse_send, or the decoder's (-IST_EPARSE,
 * -IST_ETOOBIG, -IST_EUNSUPPORTED) with the field "delivery".
 */
int ist_dc_parse_inbox(const char *body, size_t len, struct ist_delivery **ret, struct ist_json_err *err) IST_WUR;

/*
 * POST /v1/inbox/epochs: {"handover": <the document of GET /v1/epochs/{n}
 * of a node, state/verify.h>}. Field paths of errors start with
 * "handover.". Out: *ret (plain memory, about 30 KiB: the caller's heap).
 * Returns 0, the errors of ist_dc_parse_send, or -IST_EUNSUPPORTED (another
 * validator-set format).
 */
int ist_dc_parse_handover(const char *body, size_t len, struct ist_handover *ret, struct ist_json_err *err) IST_WUR;

/* The test hooks' bodies: {"<key>": N} with N a u64 >= min. */
int ist_dc_parse_u64_body(const char *body, size_t len, const char *key, uint64_t min, uint64_t *ret,
			  struct ist_json_err *err) IST_WUR;

#endif
