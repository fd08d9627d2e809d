/* The data directory of a node home (datadir.h). */
#include "node/datadir.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

int ist_node_store_open(const struct ist_node_config *cfg, const struct ist_node_genesis *g, bool must_exist,
			struct ist_store **ret_store, char *errbuf, size_t errlen)
{
	struct ist_store_options so = { 0 };
	so.must_exist = must_exist;
	so.genesis_hash32 = g->hash;
	so.chain_id = (const uint8_t *)g->chain_id;
	so.chain_id_len = strlen(g->chain_id);
	if (errbuf && errlen)
		errbuf[0] = '\0';
	int r = ist_store_open(cfg->data_path, &so, ret_store, errbuf, errlen);
	/* the store's line names the path and the problem (for a lock:
	 * another isthmusd on this home) */
	if (r < 0 && errbuf && errlen && !errbuf[0])
		snprintf(errbuf, errlen, "%s: %s", cfg->data_path, ist_strerror(r));
	return r;
}
