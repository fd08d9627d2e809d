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

START_TEST(test_reader_fails_once)
{
	static const char doc[] = "{\"a\":\"12\",\"b\":-1,\"c\":\"x\\\"y\",\"h\":\"0xABcd\",\"t\":true,\"l\":[1,2,3]}";
	struct ist_json_reader jr;
	ist_json_reader_init(&jr);
	json_t *root = ist_json_parse(&jr, doc, strlen(doc));
	ck_assert_ptr_nonnull(root);
	ck_assert_uint_eq(ist_json_u64(&jr, root, "", "a"), 12);
	ck_assert(ist_json_bool(&jr, root, "", "t"));
	uint8_t h[2];
	ist_json_hex(&jr, root, "", "h", h, sizeof(h));
	ck_assert(h[0] == 0xab && h[1] == 0xcd);
	size_t n = 9;
	ck_assert_ptr_null(ist_json_hex_alloc(&jr, root, "", "h", 1, &n));   /* 2 bytes > 1 */
	ck_assert_int_eq(jr.err, -IST_EPARSE);
	ck_assert_str_eq(jr.why, "h: must be a hex string of at most 1 bytes (got 2 bytes)");
	ck_assert_uint_eq(n, 0);
	/* failed: every later call is a no-op and the first reason stays */
	ck_assert_uint_eq(ist_json_u64(&jr, root, "", "b"), 0);
	ck_assert_ptr_null(ist_json_array(&jr, root, "", "l", 3));
	ck_assert_str_eq(jr.why, "h: must be a hex string of at most 1 bytes (got 2 bytes)");
	json_decref(root);

	/* values from the document are quoted only when tame */
	ist_json_reader_init(&jr);
	root = ist_json_parse(&jr, doc, strlen(doc));
	(void)ist_json_u64(&jr, root, "x[2]", "zz");
	ck_assert_str_eq(jr.why, "x[2].zz: missing required field");
	ist_json_reader_init(&jr);
	(void)ist_json_u64(&jr, root, "", "c");
	ck_assert_str_eq(jr.why, "c: must be a non-negative integer or a string of decimal digits below 2^64 "
				 "(got a string of 3 bytes)");
	ist_json_reader_init(&jr);
	(void)ist_json_u64(&jr, root, "", "b");
	ck_assert_str_eq(jr.why, "b: must be a non-negative integer or a string of decimal digits below 2^64 (got -1)");
	ist_json_reader_init(&jr);
	ck_assert_ptr_null(ist_json_array(&jr, root, "", "l", 2));
	ck_assert_str_eq(jr.why, "l: must have at most 2 items (got 3)");
	json_decref(root);

	/* the text: JSON, one object, no duplicate keys */
	ist_json_reader_init(&jr);
	ck_assert_ptr_null(ist_json_parse(&jr, "{\"a\":1,\"a\":2}", 13));
	ck_assert_msg(strncmp(jr.why, "invalid JSON at line 1", 22) == 0, "%s", jr.why);
	ist_json_reader_init(&jr);
	ck_assert_ptr_null(ist_json_parse(&jr, "[5]", 3));
	ck_assert_str_eq(jr.why, "must be a JSON object (got an array)");
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
