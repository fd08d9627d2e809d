/* The strict JSON reader (common/json.h). The devchain parsers' tests
 * (tests/chain/test_devchain.c) exercise it field by field; these are its
 * edges on their own. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "lib/ist_test.h"

START_TEST(test_decimal_u64)
{
	uint64_t v = 7;
	ck_assert(ist_json_decimal_u64("0", &v) && v == 0);
	ck_assert(ist_json_decimal_u64("18446744073709551615", &v) && v == UINT64_MAX);
	static const char *bad[] = { "", "-1", "+1", "01", "1.0", "1e3", " 1", "1 ", "18446744073709551616",
				     "99999999999999999999", "123456789012345678901", "0x10" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		ck_assert_msg(!ist_json_decimal_u64(bad[i], &v), "%s", bad[i]);
		ck_assert_uint_eq(v, 7);
	}
}
END_TEST

static const char *why(const struct ist_json_err *e, char *buf, size_t len)
{
	return ist_json_err_format(e, buf, len);
}

START_TEST(test_reader_fails_once)
{
	static const char doc[] = "{\"a\":\"12\",\"b\":-1,\"c\":\"x\\\"y\",\"h\":\"0xABcd\",\"t\":true,\"l\":[1,2,3]}";
	struct ist_json_reader jr;
	struct ist_json_err err;
	char line[600];
	memset(&err, 0, sizeof(err));
	ist_json_reader_init(&jr, "doc", &err);
	json_t *root = ist_json_parse(&jr, doc, strlen(doc));
	ck_assert_ptr_nonnull(root);
	ck_assert_uint_eq(ist_json_u64(&jr, root, "", "a", true, 0, 0), 12);
	ck_assert(ist_json_bool(&jr, root, "", "t", false));
	uint8_t h[2];
	ist_json_hex(&jr, root, "", "h", h, sizeof(h), "two bytes");
	ck_assert(h[0] == 0xab && h[1] == 0xcd);
	uint8_t *buf = NULL;
	size_t n = 9;
	ist_json_hex_alloc(&jr, root, "", "h", true, 1, &buf, &n);   /* 2 bytes > 1 */
	ck_assert_ptr_null(buf);
	ck_assert_int_eq(ist_json_code(&jr), -IST_ECONFIG);
	ck_assert_str_eq(err.field, "h");
	char first[600];
	snprintf(first, sizeof(first), "%s", why(&err, line, sizeof(line)));
	/* failed: every later call is a no-op and the first reason stays */
	ck_assert_uint_eq(ist_json_u64(&jr, root, "", "b", true, 0, 0), 0);
	ck_assert_ptr_null(ist_json_array(&jr, root, "", "l", true, 0, 3));
	ck_assert_str_eq(why(&err, line, sizeof(line)), first);
	json_decref(root);

	/* the field is named by its path */
	memset(&err, 0, sizeof(err));
	ist_json_reader_init(&jr, "doc", &err);
	root = ist_json_parse(&jr, doc, strlen(doc));
	(void)ist_json_u64(&jr, root, "x[2]", "zz", true, 0, 0);
	ck_assert_str_eq(err.field, "x[2].zz");
	memset(&err, 0, sizeof(err));
	ist_json_reader_init(&jr, "doc", &err);
	(void)ist_json_u64(&jr, root, "", "b", true, 0, 0);
	ck_assert_str_eq(err.field, "b");
	ck_assert_msg(strstr(err.problem, "-1") != NULL, "%s", err.problem);
	memset(&err, 0, sizeof(err));
	ist_json_reader_init(&jr, "doc", &err);
	ck_assert_ptr_null(ist_json_array(&jr, root, "", "l", true, 0, 2));
	ck_assert_str_eq(err.field, "l");
	json_decref(root);

	/* the text: JSON, one object, no duplicate keys */
	memset(&err, 0, sizeof(err));
	ist_json_reader_init(&jr, "doc", &err);
	ck_assert_ptr_null(ist_json_parse(&jr, "{\"a\":1,\"a\":2}", 13));
	ck_assert_int_eq(ist_json_code(&jr), -IST_EPARSE);
	ck_assert_int_eq(err.line, 1);
	memset(&err, 0, sizeof(err));
	ist_json_reader_init(&jr, "doc", &err);
	ck_assert_ptr_null(ist_json_parse(&jr, "[5]", 3));
	ck_assert_int_ne(ist_json_code(&jr), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, test_decimal_u64);
	tcase_add_test(tc, test_reader_fails_once);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
