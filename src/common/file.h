/*
 * Atomic, durable file writes: the one routine behind the keystore's key
 * files and the node home's config, genesis and passphrase files.
 */
#ifndef IST_COMMON_FILE_H
#define IST_COMMON_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/macro.h"

/* The step of ist_file_write_atomic that failed. */
enum ist_file_step {
	IST_FILE_STEP_NONE = 0,  /* success */
	IST_FILE_STEP_PREPARE,   /* path has no file name (EINVAL) or no memory for the temporary name (ENOMEM) */
	IST_FILE_STEP_CREATE,    /* creating the temporary file (mkostemp) */
	IST_FILE_STEP_WRITE,     /* fchmod, write, fsync or close of the temporary file */
	IST_FILE_STEP_RENAME,    /* moving the temporary file to path; EEXIST: path exists */
	IST_FILE_STEP_SYNC_DIR,  /* fsync of the directory; path is in place already */
};

/* What went wrong, for callers that word their own messages. */
struct ist_file_fail {
	int errnum;                /* the raw errno value; 0 on success */
	enum ist_file_step step;
	char tmp[PATH_MAX];        /* the temporary file's name if it was created, else "" */
};

/*
 * Writes `len` bytes of `data` to `path` atomically: a reader sees either the
 * old state (no file, or the old file) or the complete new file, never a
 * partial one.
 *
 * The data go to a temporary file ".<name>.XXXXXX" in path's directory,
 * created with `mode` (set with fchmod, so the umask does not apply), written
 * in full (EINTR retried), fsync'ed and closed. It is then moved to path:
 *   - replace false: without replacing an existing path, by
 *     renameat2(RENAME_NOREPLACE), or by link + unlink where the file system
 *     lacks it (both check the existence atomically);
 *   - replace true: by rename(2), replacing an existing path.
 * Last, the directory is fsync'ed.
 *
 * Durability: on success the content and the directory entry are on stable
 * storage (as far as fsync promises): a crash after the return keeps the new
 * file. A crash before it leaves the old state, plus at most a stray
 * temporary file.
 *
 * Returns 0 on success, or:
 *   -IST_EEXISTS  replace is false and path exists (step RENAME, EEXIST);
 *   -IST_EINVAL   path has no file name (it ends in '/' or is empty);
 *   -IST_ENOMEM   out of memory;
 *   -IST_E*       any other failure, translated by ist_err_from_errno.
 * On failure `*ret_fail` (may be NULL) tells the step and the raw errno, and
 * the temporary file has been removed. Exceptions:
 *   - step SYNC_DIR: the new file is in place but its durability is unknown;
 *   - in the link + unlink fallback, if the temporary name cannot be unlinked
 *     after the link, the call fails (step RENAME, the unlink's errno) rather
 *     than report success with a stray file: it removes the new link at path
 *     again, and the temporary file may remain, since its unlink failed.
 *     (If removing the new link fails as well, path holds the new content.)
 */
int ist_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool replace,
			  struct ist_file_fail *ret_fail) IST_WUR;

/*
 * fsyncs the directory `dir`, making the creation, rename or removal of its
 * entries durable. Returns 0, or -IST_E* (ist_err_from_errno) with the raw
 * errno of open or fsync in *ret_errno (may be NULL).
 */
int ist_file_sync_dir(const char *dir, int *ret_errno) IST_WUR;

#endif
