/* optref: the umbrella header of the public C API. */
#ifndef OPTREF_OPTREF_H
#define OPTREF_OPTREF_H

#include "optref/status.h"
#include "optref/params.h"
#include "optref/mpmat.h"
#include "optref/rng.h"
#include "optref/problem.h"
#include "optref/optimizer.h"
#include "optref/ref_optim.h"
#include "optref/fast.h"
#include "optref/conform.h"

#endif
