/* Status codes and error messages.
 *
 * Errors are values: every public function that can fail returns an
 * optref_status. The failing call also records a one-line message (naming
 * the function, the argument or field, and what was expected), readable with
 * optref_last_error() until the next failing call on the same thread.
 * Nothing in the library calls exit() or abort(). */
#ifndef OPTREF_STATUS_H
#define OPTREF_STATUS_H

typedef enum {
    OPTREF_OK = 0,
    OPTREF_EINVAL,      /* an argument or option value is out of range */
    OPTREF_ESHAPE,      /* matrix shapes do not agree */
    OPTREF_ENONFINITE,  /* NaN or Inf where a finite value is required */
    OPTREF_ENOMEM,      /* allocation failed or size overflows */
    OPTREF_ENOCONV,     /* an iteration did not converge */
    OPTREF_EPARSE,      /* malformed text input */
    OPTREF_EIO,         /* a file could not be read or written */
    OPTREF_ENOTFOUND    /* an unknown name (problem, oracle, option, ...) */
} optref_status;

/* A short constant description of a status ("shape mismatch", ...). */
const char *optref_status_string(optref_status s);

/* The message recorded by the last failing call on this thread ("" if none). */
const char *optref_last_error(void);

/* Records a printf-style message and returns s (for `return optref_fail(...)`). */
optref_status optref_fail(optref_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clears the recorded message. */
void optref_clear_error(void);

#endif
