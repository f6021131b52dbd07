#include "optref/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *optref_status_string(optref_status s)
{
    switch (s) {
    case OPTREF_OK: return "success";
    case OPTREF_EINVAL: return "invalid argument";
    case OPTREF_ESHAPE: return "shape mismatch";
    case OPTREF_ENONFINITE: return "non-finite value";
    case OPTREF_ENOMEM: return "out of memory";
    case OPTREF_ENOCONV: return "iteration did not converge";
    case OPTREF_EPARSE: return "malformed input";
    case OPTREF_EIO: return "input/output error";
    case OPTREF_ENOTFOUND: return "unknown name";
    }
    return "unknown status";
}

const char *optref_last_error(void)
{
    return last_error;
}

optref_status optref_fail(optref_status s, const char *fmt, ...)
{
    /* Formatted apart first: the arguments may include optref_last_error()
     * itself, when a caller prefixes a callee's message. */
    char msg[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(last_error, msg, sizeof msg);
    return s;
}

void optref_clear_error(void)
{
    last_error[0] = '\0';
}
