#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/macro.h"

static const char *const messages[] = {
#define IST_ERR_MSG(name, msg) [IST_E##name - IST__ERR_BASE] = msg,
	IST_ERRORS(IST_ERR_MSG)
#undef IST_ERR_MSG
};

static const char *const names[] = {
#define IST_ERR_NAME(name, msg) [IST_E##name - IST__ERR_BASE] = "IST_E" #name,
	IST_ERRORS(IST_ERR_NAME)
#undef IST_ERR_NAME
};

static int index_of(int err)
{
	if (err < 0)
		err = -err;
	if (err <= IST__ERR_BASE || err >= IST__ERR_END)
		return -1;
	return err - IST__ERR_BASE;
}

const char *ist_strerror(int err)
{
	if (err == 0)
		return "success";
	int i = index_of(err);
	return i < 0 ? "unknown error" : messages[i];
}

const char *ist_errname(int err)
{
	if (err == 0)
		return "IST_OK";
	int i = index_of(err);
	return i < 0 ? "IST_E?" : names[i];
}

int ist_err_from_errno(int errnum)
{
	switch (errnum) {
	case 0:            return 0;
	case ENOMEM:       return -IST_ENOMEM;
	case EINVAL:       return -IST_EINVAL;
	case ERANGE:       return -IST_ERANGE;
	case ENOENT:       return -IST_ENOTFOUND;
	case EEXIST:       return -IST_EEXISTS;
	case EACCES:
	case EPERM:        return -IST_EPERM;
	case EFBIG:
	case E2BIG:        return -IST_ETOOBIG;
	case ETIMEDOUT:    return -IST_ETIMEOUT;
	case EAGAIN:       return -IST_EAGAIN;
	case ENOSPC:       return -IST_EIO;
	default:           return -IST_EIO;
	}
}

void ist_require_failed(const char *expr, const char *file, int line)
{
	fprintf(stderr, "isthmus: internal invariant failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

int ist_err_reason(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -IST_EINVAL;
}
