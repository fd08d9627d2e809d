#include "net/frame.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"

void ist_net_framer_init(struct ist_net_framer *f, size_t max_body)
{
	memset(f, 0, sizeof(*f));
	f->max_body = max_body;
}

void ist_net_framer_fini(struct ist_net_framer *f)
{
	free(f->body);
	f->body = NULL;
	f->body_len = f->body_have = f->hdr_have = 0;
}

int ist_net_framer_feed(struct ist_net_framer *f, const uint8_t *p, size_t len, size_t *ret_used,
			uint8_t **ret_body, size_t *ret_len)
{
	size_t used = 0;

	*ret_used = 0;
	if (f->err)
		return f->err;
	while (used < len) {
		if (f->body == NULL) {
			size_t n = IST_MIN(IST_NET_FRAME_HEADER_BYTES - f->hdr_have, len - used);
			memcpy(f->hdr + f->hdr_have, p + used, n);
			f->hdr_have += n;
			used += n;
			if (f->hdr_have < IST_NET_FRAME_HEADER_BYTES)
				break;
			/* the limit is checked before anything is allocated */
			uint32_t blen = ist_get_be32(f->hdr);
			if (blen == 0) {
				f->err = -IST_EPARSE;
				break;
			}
			if (blen > f->max_body) {
				f->err = -IST_ETOOBIG;
				break;
			}
			f->body = malloc(blen);
			if (!f->body) {
				f->err = -IST_ENOMEM;
				break;
			}
			f->body_len = blen;
			f->body_have = 0;
		}
		size_t n = IST_MIN(f->body_len - f->body_have, len - used);
		memcpy(f->body + f->body_have, p + used, n);
		f->body_have += n;
		used += n;
		if (f->body_have == f->body_len) {
			*ret_body = f->body;
			*ret_len = f->body_len;
			f->body = NULL;
			f->body_len = f->body_have = f->hdr_have = 0;
			*ret_used = used;
			return 1;
		}
	}
	*ret_used = used;
	return f->err;
}

bool ist_net_framer_partial(const struct ist_net_framer *f)
{
	return f->hdr_have > 0;
}

void ist_net_frame_header(uint8_t out[IST_NET_FRAME_HEADER_BYTES + 1], enum ist_net_frame_type type,
			  size_t body_len)
{
	ist_put_be32(out, (uint32_t)body_len);
	out[IST_NET_FRAME_HEADER_BYTES] = (uint8_t)type;
}
