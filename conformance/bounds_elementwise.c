/* Step bounds of the elementwise optimizers: each formula of
 * spec/optimizers.md section 2, element by element, on rerr values, in the
 * order fast/cpu/ evaluates it. */
#include "bounds_families.h"

/* The learning rate as the backend holds it (binary64: exact; binary32: rounded). */
static void learning_rate(const rerr_ctx *c, rerr *lr, mpfr_srcptr eta)
{
    if (c->fmt == OPTREF_BINARY64)
        rerr_exact(lr, eta);
    else
        rerr_rounded(c, lr, eta);
}

optref_status bound_sgd(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    rerr lambda, mu, damp, one, damp1, lr, w, g, b, d, t;
    rerr *all[] = {&lambda, &mu, &damp, &one, &damp1, &lr, &w, &g, &b, &d, &t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_init(c, all[i]);
    bound_option(c, &lambda, o, "weight_decay");
    bound_option(c, &mu, o, "momentum");
    bound_option_exact(&damp, o, "dampening");
    rerr_exact_d(&one, 1.0);
    rerr_sub(c, &damp1, &one, &damp); /* 1 - dampening, rounded once */
    learning_rate(c, &lr, in->eta);
    int nesterov = ref_opt_bool(o, "nesterov"), first = o->t + 1 == 1;
    int momentum = !mpfr_zero_p(mu.v);
    const rerr_mat *B = &in->state[0];
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&b, B, i, j);
            rerr_mul(c, &t, &lambda, &w);
            rerr_add(c, &g, &g, &t);                 /* G + lambda W */
            rerr_copy(&d, &g);
            if (momentum) {
                if (first) {
                    rerr_copy(&b, &g);
                } else {
                    rerr_mul(c, &t, &mu, &b);
                    rerr_mul(c, &b, &damp1, &g);
                    rerr_add(c, &b, &t, &b);         /* mu B + (1 - dampening) G */
                }
                if (nesterov) {
                    rerr_mul(c, &t, &mu, &b);
                    rerr_add(c, &d, &g, &t);         /* G + mu B */
                } else {
                    rerr_copy(&d, &b);
                }
            }
            rerr_mul(c, &t, &lr, &d);
            rerr_sub(c, &w, &w, &t);                 /* W - eta D */
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &b);
        }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_clear(all[i]);
    return OPTREF_OK;
}
