/*
 * The node's side of FROST (frost.c): DKG participation, nonce
 * commitments, signature shares and frost-ed25519 certificates.
 * Consensus thread only, except init/fini (start-up and shut-down).
 */
#ifndef IST_NODE_FROST_H
#define IST_NODE_FROST_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "wire/types.h"

struct ist_node;
struct ist_node_frost;

/* enc_sec32: the validator's X25519 DKG secret key (copied into guarded
 * memory). Returns 0 or -IST_ENOMEM with errbuf set. */
int ist_node_frost_init(struct ist_node *n, const uint8_t *enc_sec32, char *errbuf, size_t errlen) IST_WUR;
void ist_node_frost_fini(struct ist_node *n);
/* After block b's commit is durable (the ledger has applied it). */
void ist_node_frost_committed(struct ist_node *n, const struct ist_block *b);
/* A FrostMessage from a peer. */
void ist_node_frost_message(struct ist_node *n, uint32_t peer, const uint8_t *p, size_t len);

#endif
