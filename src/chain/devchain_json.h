/*
 * The parsers of isthmus-devchain's JSON answers, apart from the HTTP code so
 * that the fuzz target (tests/chain/fuzz_devchain_block.c) and the tests can
 * call them directly. Internal to src/chain and its tests.
 *
 * The formats (docs/chain.md, "The devchain adapter"):
 *
 *   GET /v1/head        {"chain_id":N,"height":H,"hash":HEX32,"finalized_height":F}
 *   GET /v1/blocks/{h}  {"height":H,"hash":HEX32,"parent_hash":HEX32,"timestamp_ms":T,
 *                        "finalized":BOOL,"messages":[MSG,...]}
 *   MSG                 {"src_chain":N,"dst_chain":N,"nonce":N,"sender":HEX32,
 *                        "recipient":HEX32,"value":N,"payload":HEX,"id":HEX32}
 *
 * Every field is required and of its type and size; unknown fields are
 * ignored. A u64 is a JSON integer or a string of decimal digits; HEX is a
 * string of hex digits (either case, an optional "0x"), HEX32 exactly 32
 * bytes, a payload at most IST_WIRE_MAX_MSG_PAYLOAD bytes.
 */
#ifndef IST_CHAIN_DEVCHAIN_JSON_H
#define IST_CHAIN_DEVCHAIN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "common/macro.h"

/* Bytes of an answer's body: anything longer is refused unread. */
#define IST_CHAIN_DEVCHAIN_MAX_BODY (8u * 1024 * 1024)
/* Messages of one block (a bound the body size already implies; explicit so
 * that no count from outside sizes an allocation on its own). */
#define IST_CHAIN_DEVCHAIN_MAX_MSGS 65536

struct ist_chain_devchain_head {
	uint64_t chain_id;
	uint64_t height;
	uint8_t hash[32];
	uint64_t finalized_height;   /* <= height */
};

/* Parse an answer of GET /v1/head: `len` bytes of `text` (no NUL needed).
 * Returns 0, -IST_EPARSE (why says which field and what is wrong, also for
 * finalized_height > height) or -IST_ENOMEM. *ret is written only on
 * success; why (whylen bytes, may be NULL) only on failure. */
int ist_chain_devchain_parse_head(const char *text, size_t len, struct ist_chain_devchain_head *ret, char *why,
				  size_t whylen) IST_WUR;

/* Parse an answer of GET /v1/blocks/{h}. Returns as above; on success *ret
 * owns its heap parts (ist_chain_block_fini). The ids are the ones the text
 * reports, unchecked. */
int ist_chain_devchain_parse_block(const char *text, size_t len, struct ist_chain_block *ret, char *why,
				   size_t whylen) IST_WUR;

#endif
