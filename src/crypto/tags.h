/*
 * Every domain-separation tag of isthmus, in one place.
 *
 * A tag prefixes the bytes that are hashed or signed, so that a signature or
 * digest made for one purpose can never be taken for another. The list must
 * stay prefix-free (tests/crypto/test_hash.c checks IST_TAGS): a tag that
 * were a prefix of another would let a crafted payload collide across kinds.
 * Changing a tag is a protocol change (docs/protocol.md).
 */
#ifndef IST_CRYPTO_TAGS_H
#define IST_CRYPTO_TAGS_H

#define IST_TAG_MSG         "isthmus/msg/v1"          /* message id */
#define IST_TAG_ATTEST      "isthmus/attest/v1"       /* multisig attestation digest */
#define IST_TAG_PROPOSAL    "isthmus/proposal/v1"     /* consensus proposal */
#define IST_TAG_VOTE        "isthmus/vote/v1"         /* consensus vote */
#define IST_TAG_TIMEOUT     "isthmus/timeout/v1"      /* consensus timeout */
#define IST_TAG_BLOCK       "isthmus/block/v1"        /* block id */
#define IST_TAG_TX          "isthmus/tx/v1"           /* ledger transaction */
#define IST_TAG_CHECKPOINT  "isthmus/checkpoint/v1"   /* signed route checkpoint */
#define IST_TAG_HANDSHAKE   "isthmus/handshake/v1"    /* peer handshake */
#define IST_TAG_KEYSTORE    "isthmus/keystore/v1"     /* keystore associated data */
#define IST_TAG_GENESIS     "isthmus/genesis/v1"      /* genesis hash */
#define IST_TAG_DEVCHAIN_BLOCK "isthmus/devchain/block/v1" /* isthmus-devchain block hash */
#define IST_TAG_VALSET      "isthmus/valset/v1"       /* validator set hash (epoch hand-over) */
#define IST_TAG_EPOCH       "isthmus/epoch/v1"        /* epoch hand-over leaf of a batch tree */
#define IST_TAG_EVIDENCE    "isthmus/evidence/v1"     /* evidence id */
#define IST_TAG_PAUSE       "isthmus/pause/v1"        /* pause leaf of a batch tree (a certified pause) */
#define IST_TAG_FINALITY_REPORT "isthmus/finality-report/v1" /* a validator's finality-violation report */
/* DKG (crypto/dkg.h): SHA-512(tag || ...) reduced mod L, the challenges of
 * the proof of knowledge of round 1 and of a complaint's DLEQ proof */
#define IST_TAG_DKG_POK       "isthmus/dkg/pok/v1"
#define IST_TAG_DKG_COMPLAINT "isthmus/dkg/complaint/v1"

/* For iteration in tests. */
#define IST_TAGS(X) \
	X(IST_TAG_MSG) X(IST_TAG_ATTEST) X(IST_TAG_PROPOSAL) X(IST_TAG_VOTE) \
	X(IST_TAG_TIMEOUT) X(IST_TAG_BLOCK) X(IST_TAG_TX) X(IST_TAG_CHECKPOINT) \
	X(IST_TAG_HANDSHAKE) X(IST_TAG_KEYSTORE) X(IST_TAG_GENESIS) X(IST_TAG_DEVCHAIN_BLOCK) \
	X(IST_TAG_VALSET) X(IST_TAG_EPOCH) X(IST_TAG_EVIDENCE) X(IST_TAG_PAUSE) X(IST_TAG_FINALITY_REPORT) \
	X(IST_TAG_DKG_POK) X(IST_TAG_DKG_COMPLAINT)

#endif
