#include "cli/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

int ist_cli_rpc_call(struct ist_http_client *c, const char *method, const char *path, json_t *body,
		     uint32_t timeout_ms, struct ist_cli_rpc_answer *ret, char *err, size_t errlen)
{
	char *text = NULL;
	if (body && !(text = json_dumps(body, JSON_COMPACT))) {
		snprintf(err, errlen, "out of memory");
		return -IST_ENOMEM;
	}
	struct ist_http_answer a;
	int r = ist_http_client_request(c, method, path, text, text ? strlen(text) : 0,
					text ? "application/json" : NULL, timeout_ms, &a, err, errlen);
	free(text);
	if (r < 0)
		return r;
	json_t *doc = json_loadb(a.body, a.len, JSON_REJECT_DUPLICATES, NULL);
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
	ret->status = a.status;
	ret->doc = doc;
	ist_http_answer_fini(&a);
	return 0;
}

void ist_cli_rpc_answer_fini(struct ist_cli_rpc_answer *a)
{
	if (a && a->doc)
		json_decref(a->doc);
	if (a)
		a->doc = NULL;
}

/* Copies a string from outside, with control characters replaced. */
static void copy_clean(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%s", s);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void ist_cli_rpc_error(const struct ist_cli_rpc_answer *a, char code[IST_CLI_RPC_CODE_MAX],
		       char detail[IST_CLI_RPC_DETAIL_MAX])
{
	code[0] = '\0';
	snprintf(detail, IST_CLI_RPC_DETAIL_MAX, "HTTP status %u", (unsigned)a->status);
	json_t *e = a->doc ? json_object_get(a->doc, "error") : NULL;
	const char *c = NULL, *d = NULL;
	if (json_is_string(e)) {
		c = json_string_value(e);
		d = json_string_value(json_object_get(a->doc, "detail"));
	} else if (json_is_object(e)) {
		c = json_string_value(json_object_get(e, "code"));
		d = json_string_value(json_object_get(e, "message"));
	}
	if (c)
		copy_clean(code, IST_CLI_RPC_CODE_MAX, c);
	if (d)
		copy_clean(detail, IST_CLI_RPC_DETAIL_MAX, d);
}
