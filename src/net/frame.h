/*
 * Transport framing: how bytes on a peer connection become frames.
 *
 * A frame is `be32 length || body`, where length counts the body and the
 * body is `u8 type || payload` (so length >= 1). The types are below; the
 * payload layouts of the handshake frames are in net/handshake.h, and an
 * ENVELOPE payload is a protobuf isthmus.v1.Envelope (wire/codec.h). The
 * whole format is specified in docs/protocol/transport.md.
 *
 * struct ist_net_framer reassembles frames from a byte stream delivered in
 * arbitrary pieces. It is the first code that touches what a peer sends, so
 * it checks the length prefix against a limit *before* allocating the body,
 * and a prefix of 0 or over the limit fails the framer for good (the
 * connection is then closed: after a bad prefix the stream cannot be
 * resynchronised).
 *
 * Not thread-safe: one framer per connection, used under that connection's
 * serialisation.
 */
#ifndef IST_NET_FRAME_H
#define IST_NET_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define IST_NET_FRAME_HEADER_BYTES 4   /* the be32 length prefix */

enum ist_net_frame_type {
	IST_NET_FRAME_HELLO = 1,       /* handshake: who I am, my nonce */
	IST_NET_FRAME_AUTH = 2,        /* handshake: my signature over the transcript */
	IST_NET_FRAME_ENVELOPE = 3,    /* a protobuf Envelope (after the handshake only) */
	IST_NET_FRAME_GOODBYE = 4,     /* no payload: the last frame I send on this connection */
	IST_NET_FRAME_PING = 5,        /* heartbeat: answer with PONG (after the handshake only) */
	IST_NET_FRAME_PONG = 6,        /* heartbeat: the answer to a PING */
};
/* PING and PONG carry no payload; a receiver ignores any bytes after the
 * type (reserved). A peer that does not know them drops them as an unknown
 * type after the handshake and keeps the connection, so they can be sent to
 * any peer of this protocol version (net.c closes a silent connection only
 * when its peer has shown it speaks the heartbeat). */

struct ist_net_framer {
	size_t max_body;               /* largest body accepted; may change between frames */
	uint8_t hdr[IST_NET_FRAME_HEADER_BYTES];
	size_t hdr_have;               /* bytes of hdr received */
	uint8_t *body;                 /* malloc'd once the prefix is known */
	size_t body_len;
	size_t body_have;
	int err;                       /* 0, or the error that failed the framer */
};

/* Starts an empty framer that accepts bodies of 1..max_body bytes. */
void ist_net_framer_init(struct ist_net_framer *f, size_t max_body);

/* Frees a partly received body. The framer may be initialised again. */
void ist_net_framer_fini(struct ist_net_framer *f);

/*
 * Consumes bytes from `p` (len bytes, p may be NULL when len is 0) until one
 * frame is complete or the input is used up.
 *
 * Returns
 *   1  a frame is complete: *ret_body (malloc'd, the caller frees it; its
 *      first byte is the type) and *ret_len (>= 1). Input may remain: call
 *      again with p + *ret_used.
 *   0  all input consumed, no complete frame yet.
 *  -IST_ETOOBIG  a length prefix over max_body (nothing was allocated);
 *  -IST_EPARSE   a length prefix of 0;
 *  -IST_ENOMEM   the body could not be allocated.
 * After an error the framer stays failed and returns that error again.
 * *ret_used (bytes of p consumed) is always written; *ret_body and *ret_len
 * only when 1 is returned.
 */
int ist_net_framer_feed(struct ist_net_framer *f, const uint8_t *p, size_t len, size_t *ret_used,
			uint8_t **ret_body, size_t *ret_len) IST_WUR;

/* True while a frame is partly received (some of its prefix or body but
 * not all): a connection that closes then has truncated a frame. */
bool ist_net_framer_partial(const struct ist_net_framer *f);

/* Writes the frame header for a body of `body_len` bytes (1..UINT32_MAX)
 * followed by the type byte: IST_NET_FRAME_HEADER_BYTES + 1 bytes. */
void ist_net_frame_header(uint8_t out[IST_NET_FRAME_HEADER_BYTES + 1], enum ist_net_frame_type type,
			  size_t body_len);

#endif
