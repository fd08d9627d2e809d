/*
 * Atomic, durable file writes (see file.h).
 */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

/* Returns 0 or the errno of open or fsync. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int e = fsync(fd) < 0 ? errno : 0;
	close(fd);
	return e;
}

int ist_file_sync_dir(const char *dir, int *ret_errno)
{
	int e = sync_dir(dir);
	if (ret_errno)
		*ret_errno = e;
	return ist_err_from_errno(e);
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves tmp to path without replacing an existing file: renameat2's
 * RENAME_NOREPLACE where the file system has it, else link + unlink (both
 * atomic about the existence check). If the unlink of tmp fails after the
 * link, the link at path is taken back and the unlink's errno returned: the
 * caller must not report success while the temporary name remains. */
static int rename_noreplace(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return errno;
	if (link(tmp, path) < 0)
		return errno;
	if (unlink(tmp) < 0) {
		int e = errno;
		(void)unlink(path); /* our own link, made just above */
		return e;
	}
	return 0;
}

static int fail(struct ist_file_fail *f, enum ist_file_step step, int e)
{
	if (f) {
		f->step = step;
		f->errnum = e;
	}
	return ist_err_from_errno(e);
}

int ist_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool replace,
			  struct ist_file_fail *ret_fail)
{
	char *dir = NULL, *tmp = NULL;
	int fd = -1, r, e;
	if (ret_fail) {
		ret_fail->errnum = 0;
		ret_fail->step = IST_FILE_STEP_NONE;
		ret_fail->tmp[0] = '\0';
	}
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base)
		return fail(ret_fail, IST_FILE_STEP_PREPARE, EINVAL);
	dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		r = fail(ret_fail, IST_FILE_STEP_PREPARE, ENOMEM);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = fail(ret_fail, IST_FILE_STEP_CREATE, errno);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (ret_fail)
		snprintf(ret_fail->tmp, sizeof(ret_fail->tmp), "%s", tmp);
	e = fchmod(fd, mode) < 0 ? errno : 0;
	if (e == 0)
		e = write_all(fd, data, len);
	if (e == 0 && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && e == 0)
		e = errno;
	fd = -1;
	if (e != 0) {
		r = fail(ret_fail, IST_FILE_STEP_WRITE, e);
		goto out;
	}
	e = replace ? (rename(tmp, path) < 0 ? errno : 0) : rename_noreplace(tmp, path);
	if (e != 0) {
		r = fail(ret_fail, IST_FILE_STEP_RENAME, e);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if ((e = sync_dir(dir)) != 0) {
		r = fail(ret_fail, IST_FILE_STEP_SYNC_DIR, e);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return r;
}
