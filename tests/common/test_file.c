/* ist_file_write_atomic: mode, refusal without replace, replacement, no
 * temporary file left behind, and a missing directory. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/file.h"
#include "lib/ist_test.h"

/* Number of entries in `dir` other than "." and "..". */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *join(const char *dir, const char *name)
{
	char *p = NULL;
	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

START_TEST(test_write_mode_and_content)
{
	char *dir = ist_test_tmpdir("file");
	char *path = join(dir, "a.json");
	mode_t old = umask(0077 ^ 0777); /* a umask that would strip 0600 */
	struct ist_file_fail ff;
	ck_assert_int_eq(ist_file_write_atomic(path, "hello", 5, 0600, false, &ff), 0);
	umask(old);
	ck_assert_int_eq(ff.step, IST_FILE_STEP_NONE);
	ck_assert_int_eq(ff.errnum, 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert(S_ISREG(st.st_mode));
	size_t len;
	char *text = ist_test_read_file(path, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(text, "hello");
	free(text);
	ck_assert_int_eq(count_entries(dir), 1);
	/* an empty file and a NULL ret_fail */
	char *empty = join(dir, "empty");
	ck_assert_int_eq(ist_file_write_atomic(empty, "", 0, 0600, false, NULL), 0);
	ck_assert_int_eq(stat(empty, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(count_entries(dir), 2);
	free(empty);
	free(path);
	ist_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_refuse_then_replace)
{
	char *dir = ist_test_tmpdir("file");
	char *path = join(dir, "b");
	struct ist_file_fail ff;
	ck_assert_int_eq(ist_file_write_atomic(path, "one", 3, 0600, false, &ff), 0);
	ck_assert_int_eq(ist_file_write_atomic(path, "two!", 4, 0600, false, &ff), -IST_EEXISTS);
	ck_assert_int_eq(ff.step, IST_FILE_STEP_RENAME);
	ck_assert_int_eq(ff.errnum, EEXIST);
	char *text = ist_test_read_file(path, NULL);
	ck_assert_str_eq(text, "one");
	free(text);
	ck_assert_int_eq(count_entries(dir), 1); /* no temporary file left */
	ck_assert_int_eq(ist_file_write_atomic(path, "three", 5, 0600, true, &ff), 0);
	text = ist_test_read_file(path, NULL);
	ck_assert_str_eq(text, "three");
	free(text);
	ck_assert_int_eq(count_entries(dir), 1);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	/* replacing also works where there was nothing */
	char *fresh = join(dir, "c");
	ck_assert_int_eq(ist_file_write_atomic(fresh, "x", 1, 0644, true, NULL), 0);
	ck_assert_int_eq(stat(fresh, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(count_entries(dir), 2);
	free(fresh);
	free(path);
	ist_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_missing_directory)
{
	char *dir = ist_test_tmpdir("file");
	char *path = join(dir, "nope/d");
	struct ist_file_fail ff;
	ck_assert_int_eq(ist_file_write_atomic(path, "x", 1, 0600, false, &ff), -IST_ENOTFOUND);
	ck_assert_int_eq(ff.step, IST_FILE_STEP_CREATE);
	ck_assert_int_eq(ff.errnum, ENOENT);
	ck_assert_str_eq(ff.tmp, "");
	ck_assert_int_eq(count_entries(dir), 0);
	free(path);
	/* no file name at all */
	path = join(dir, "");
	ck_assert_int_eq(ist_file_write_atomic(path, "x", 1, 0600, true, &ff), -IST_EINVAL);
	ck_assert_int_eq(ff.step, IST_FILE_STEP_PREPARE);
	ck_assert_int_eq(count_entries(dir), 0);
	free(path);
	ist_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_sync_dir)
{
	char *dir = ist_test_tmpdir("file");
	int e = -1;
	ck_assert_int_eq(ist_file_sync_dir(dir, &e), 0);
	ck_assert_int_eq(e, 0);
	char *missing = join(dir, "nope");
	ck_assert_int_eq(ist_file_sync_dir(missing, &e), -IST_ENOTFOUND);
	ck_assert_int_eq(e, ENOENT);
	free(missing);
	ist_test_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("file");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_write_mode_and_content);
	tcase_add_test(tc, test_refuse_then_replace);
	tcase_add_test(tc, test_missing_directory);
	tcase_add_test(tc, test_sync_dir);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
