#include "lib/ist_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bytes.h"

int ist_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

char *ist_test_tmpdir(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char *path = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/%s-XXXXXX", base, prefix), 0);
	ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp %s: %s", path, strerror(errno));
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void ist_test_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *ist_test_vector_path(const char *name)
{
	const char *dir = getenv("IST_TEST_VECTORS");
	ck_assert_msg(dir != NULL, "IST_TEST_VECTORS is not set (run the tests through meson test)");
	char *path = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/%s", dir, name), 0);
	return path;
}

char *ist_test_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (ret_len)
		*ret_len = (size_t)n;
	return buf;
}

void ist_test_unhex(const char *hex, uint8_t *out, size_t len)
{
	int r = ist_hex_decode(hex, out, len);
	ck_assert_msg(r == 0, "bad hex in test data (%zu bytes expected): %s", len, hex);
}

void ist_test_assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	char *hex = malloc(2 * len + 1);
	ck_assert_ptr_nonnull(hex);
	ist_hex_encode(got, len, hex);
	ck_assert_str_eq(hex, want_hex);
	free(hex);
}

int ist_test_listen_loopback(uint16_t *ret_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	socklen_t sl = sizeof(sa);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*ret_port = ntohs(sa.sin_port);
	return fd;
}
