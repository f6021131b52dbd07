/* The catalogue of mutants (fast/mutants.h). */
#include "mutants.h"

#include <string.h>

static const fast_mutant_info catalogue[] = {
    {"sgd-nesterov-flipped", "sgd", "Nesterov momentum applied when off and omitted when on"},
    {"sgd-coupled-decay-dropped", "sgd", "the coupled weight decay lambda W left out of G"},
};

static const char *selected;

size_t fast_mutant_count(void)
{
    return sizeof catalogue / sizeof catalogue[0];
}

const fast_mutant_info *fast_mutant_at(size_t i)
{
    return i < fast_mutant_count() ? &catalogue[i] : NULL;
}

void fast_mutant_select(const char *id)
{
    selected = id;
}

int fast_mutant_active(const char *id)
{
    return selected != NULL && strcmp(selected, id) == 0;
}
