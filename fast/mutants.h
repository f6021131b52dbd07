/* Mutants: realistic implementation bugs planted in the cpu64 backend, so
 * the tests can show that the conformance gate catches each of them
 * (spec/conformance.md 1). The bug's code sits beside the correct code
 * under MUTANT(id), which is compiled only into the test library
 * (-DOPTREF_MUTANTS, build/liboptref-mutants.a) and only in its binary64
 * instance; everywhere else MUTANT(id) is the constant 0. */
#ifndef OPTREF_FAST_MUTANTS_H
#define OPTREF_FAST_MUTANTS_H

#include <stddef.h>

typedef struct {
    const char *id;   /* e.g. "adam-eps-inside-sqrt" */
    const char *opt;  /* the optimizer it breaks */
    const char *what; /* the bug, in words */
} fast_mutant_info;

/* The catalogue (fast/mutants.c). */
size_t fast_mutant_count(void);
const fast_mutant_info *fast_mutant_at(size_t i);
/* Activates one mutant (NULL: none). */
void fast_mutant_select(const char *id);
int fast_mutant_active(const char *id);

#if defined(OPTREF_MUTANTS) && FAST_REAL_BITS == 64
#define MUTANT(id) fast_mutant_active(id)
#else
#define MUTANT(id) 0
#endif

#endif
