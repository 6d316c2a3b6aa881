/* batchnorm.c — batch normalisation for [N,C,H,W] and [N,C] (kernels/norm.cl): training with
 * batch statistics reduced per channel in local memory (two stages, so large N·H·W spreads over
 * many work-groups), running-statistics update, evaluation, and the backward pass; each also with
 * a ReLU fused on the output (the graph fuses a batch norm whose only reader is a ReLU). */
#include "ops/layer_ops_util.h"
#include "launch_shape.h"

/* Work-group size wanted for the per-channel reductions (a power of two; clipped to the device). */
#define BN_LOCAL_WANT 256
/* Each reducing work-item handles at least this many elements before groups are added. */
#define BN_ITEMS_PER_THREAD 8
/* Most chunks (work-groups) per channel; the finalising work-item merges them serially. */
#define BN_MAX_CHUNKS 128

typedef struct bn_dims {
  int N, C, HW, M;
} bn_dims_t;

static clfer_status bn_dims(const char *op, const clfer_tensor_t *x, bn_dims_t *d) {
  if (x->ndim != 2 && x->ndim != 4) {
    char s[96];
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "x %s must be [N, C, H, W] or [N, C]",
                           clfer_shape_str(x->ndim, x->shape, s, sizeof s));
  }
  d->N = x->shape[0];
  d->C = x->shape[1];
  d->HW = x->ndim == 4 ? x->shape[2] * x->shape[3] : 1;
  d->M = d->N * d->HW;
  return CLFER_OK;
}

/* The CPU forms' grid: one item per (chunk, channel), enough chunks for four items per compute
 * unit. */
static void bn_rows_grid(clfer_runtime_t *rt, const bn_dims_t *d, int *chunks, int *chunk) {
  long units = clfer_runtime_device(rt)->compute_units, p = (4 * (units ? units : 1) + d->C - 1) / d->C;
  if (p > BN_MAX_CHUNKS) p = BN_MAX_CHUNKS;
  if (p > d->M) p = d->M;
  *chunk = (int)((d->M + p - 1) / p);
  *chunks = (int)((d->M + *chunk - 1) / *chunk);
}

/* Grid of the two-stage reduction: `local` work-items per group, `chunks` groups per channel. */
static clfer_status bn_grid(clfer_runtime_t *rt, const char *kernel, int M, size_t *local, int *chunks,
                            int *chunk) {
  clfer_status st = clfer__op_pick_local(rt, "norm", NULL, kernel, BN_LOCAL_WANT, local);
  if (st) return st;
  long per_group = (long)*local * BN_ITEMS_PER_THREAD;
  long p = (M + per_group - 1) / per_group;
  if (p < 1) p = 1;
  if (p > BN_MAX_CHUNKS) p = BN_MAX_CHUNKS;
  *chunk = (int)((M + p - 1) / p);
  *chunks = (int)((M + *chunk - 1) / *chunk);
  return CLFER_OK;
}

/* The fused ReLU's slope: finite and ≥ 0, so the output's sign tells the backward pass which
 * branch the input took (as clfer_relu_forward). */
static clfer_status bn_check_slope(const char *op, float slope) {
  if (!(slope >= 0.0f) || isinf(slope))
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "fused ReLU slope %g must be finite and >= 0", (double)slope);
  return CLFER_OK;
}

/* relu: a ReLU of that slope fused on the output */
static clfer_status bn_forward_train(clfer_runtime_t *rt, const char *op, const clfer_batchnorm_params_t *p, int relu,
                                     float slope, const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                     const clfer_tensor_t *beta, clfer_tensor_t *y, clfer_tensor_t *save_mean,
                                     clfer_tensor_t *save_invstd, clfer_tensor_t *running_mean,
                                     clfer_tensor_t *running_var) {
  CLFER__CHECK_RT(op, rt);
  clfer_status st = clfer__bn_check_params(op, p);
  if (st || (relu && (st = bn_check_slope(op, slope)))) return st;
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  bn_dims_t d = {0};
  if ((st = bn_dims(op, x, &d))) return st;
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  CLFER__CHECK_VEC(op, "gamma", gamma, d.C, x);
  CLFER__CHECK_VEC(op, "beta", beta, d.C, x);
  CLFER__CHECK_VEC(op, "save_mean", save_mean, d.C, x);
  CLFER__CHECK_VEC(op, "save_invstd", save_invstd, d.C, x);
  if ((running_mean == NULL) != (running_var == NULL))
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "running_mean and running_var must both be given or both NULL");
  if (running_mean) {
    CLFER__CHECK_VEC(op, "running_mean", running_mean, d.C, x);
    CLFER__CHECK_VEC(op, "running_var", running_var, d.C, x);
  }
  if (d.M < 2) {
    char s[96];
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op,
                           "x %s has %d value per channel; training needs at least 2 (the variance is undefined)",
                           clfer_shape_str(x->ndim, x->shape, s, sizeof s), d.M);
  }

  size_t local = 1;
  int chunks, chunk, rows = clfer__cpu_paths(rt);
  if (rows)
    bn_rows_grid(rt, &d, &chunks, &chunk);
  else if ((st = bn_grid(rt, "batchnorm_stats_partial", d.M, &local, &chunks, &chunk)))
    return st;
  clfer_tensor_t partial = {0};
  int pshape[1] = {d.C * chunks * 3};
  if ((st = clfer_tensor_create(rt, 1, pshape, &partial))) return st;
  size_t n = clfer_tensor_numel(x);
  size_t g2[2] = {(size_t)chunks * local, (size_t)d.C}, l2[2] = {local, 1};
#define STATS_ARGS                                                                                            \
  CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_INT(d.C), CLFER_ARG_INT(d.HW), CLFER_ARG_INT(d.M), \
      CLFER_ARG_INT(chunk), CLFER_ARG_INT(chunks), CLFER_ARG_MEM(partial.buf)
  if (rows)
    st = CLFER_RUN(rt, "norm", NULL, "batchnorm_stats_partial_rows", 2, g2, l2, ((clfer_cost_t){6.0 * n, 4.0 * n}),
                   STATS_ARGS);
  else
    st = CLFER_RUN(rt, "norm", NULL, "batchnorm_stats_partial", 2, g2, l2, ((clfer_cost_t){6.0 * n, 4.0 * n}),
                   STATS_ARGS, CLFER_ARG_LOCAL(local * sizeof(float)), CLFER_ARG_LOCAL(local * sizeof(float)),
                   CLFER_ARG_LOCAL(local * sizeof(float)));
#undef STATS_ARGS
  if (st) goto done;
  size_t gc[1] = {(size_t)d.C};
  int upd = running_mean != NULL;
  st = CLFER_RUN(rt, "norm", NULL, "batchnorm_stats_finalize", 1, gc, NULL,
                 ((clfer_cost_t){10.0 * d.C * chunks, 12.0 * d.C * chunks + 24.0 * d.C}), CLFER_ARG_MEM(partial.buf),
                 CLFER_ARG_INT(chunks), CLFER_ARG_INT(d.C), CLFER_ARG_FLOAT(p->eps), CLFER_ARG_FLOAT(p->momentum),
                 CLFER_ARG_MEM(save_mean->buf), CLFER_ARG_INT(save_mean->offset), CLFER_ARG_MEM(save_invstd->buf),
                 CLFER_ARG_INT(save_invstd->offset), CLFER_ARG_INT(upd),
                 CLFER_ARG_MEM(upd ? running_mean->buf : save_mean->buf), CLFER_ARG_INT(upd ? running_mean->offset : 0),
                 CLFER_ARG_MEM(upd ? running_var->buf : save_mean->buf), CLFER_ARG_INT(upd ? running_var->offset : 0));
  if (st) goto done;
  /* CPUs: one item per plane (dimension 0 of size 1) */
  size_t ge[2] = {rows ? 1 : (size_t)d.HW, (size_t)d.N * d.C}, le[2];
  st = CLFER_RUN(rt, "norm", NULL, rows ? "batchnorm_normalize_rows" : "batchnorm_normalize", rows ? 1 : 2,
                 rows ? ge + 1 : ge, rows ? NULL : clfer__cpu_local(rt, 2, ge, 0, le),
                 ((clfer_cost_t){4.0 * n, 8.0 * n}),
                 CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                 CLFER_ARG_MEM(save_mean->buf), CLFER_ARG_INT(save_mean->offset), CLFER_ARG_MEM(save_invstd->buf),
                 CLFER_ARG_INT(save_invstd->offset), CLFER_ARG_MEM(gamma->buf), CLFER_ARG_INT(gamma->offset),
                 CLFER_ARG_MEM(beta->buf), CLFER_ARG_INT(beta->offset), CLFER_ARG_INT(d.C), CLFER_ARG_INT(d.HW),
                 CLFER_ARG_INT(n), CLFER_ARG_INT(relu), CLFER_ARG_FLOAT(slope));
done:
  /* The queue is in order, so the block may go back to the pool while the kernels are queued. */
  clfer_tensor_release(&partial);
  return st;
}

clfer_status clfer_batchnorm_forward_train(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p,
                                           const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                           const clfer_tensor_t *beta, clfer_tensor_t *y, clfer_tensor_t *save_mean,
                                           clfer_tensor_t *save_invstd, clfer_tensor_t *running_mean,
                                           clfer_tensor_t *running_var) {
  return bn_forward_train(rt, "batchnorm_forward_train", p, 0, 0.0f, x, gamma, beta, y, save_mean, save_invstd,
                          running_mean, running_var);
}

clfer_status clfer_batchnorm_relu_forward_train(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p, float slope,
                                                const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                                const clfer_tensor_t *beta, clfer_tensor_t *y,
                                                clfer_tensor_t *save_mean, clfer_tensor_t *save_invstd,
                                                clfer_tensor_t *running_mean, clfer_tensor_t *running_var) {
  return bn_forward_train(rt, "batchnorm_relu_forward_train", p, 1, slope, x, gamma, beta, y, save_mean, save_invstd,
                          running_mean, running_var);
}

static clfer_status bn_forward_eval(clfer_runtime_t *rt, const char *op, const clfer_batchnorm_params_t *p, int relu,
                                    float slope, const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                    const clfer_tensor_t *beta, const clfer_tensor_t *running_mean,
                                    const clfer_tensor_t *running_var, clfer_tensor_t *y) {
  CLFER__CHECK_RT(op, rt);
  clfer_status st = clfer__bn_check_params(op, p);
  if (st || (relu && (st = bn_check_slope(op, slope)))) return st;
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  bn_dims_t d = {0};
  if ((st = bn_dims(op, x, &d))) return st;
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  CLFER__CHECK_VEC(op, "gamma", gamma, d.C, x);
  CLFER__CHECK_VEC(op, "beta", beta, d.C, x);
  CLFER__CHECK_VEC(op, "running_mean", running_mean, d.C, x);
  CLFER__CHECK_VEC(op, "running_var", running_var, d.C, x);
  size_t n = clfer_tensor_numel(x);
  int rows = clfer__cpu_paths(rt);
  size_t g[2] = {rows ? 1 : (size_t)d.HW, (size_t)d.N * d.C}, l[2]; /* CPUs: one item per plane */
  return CLFER_RUN(rt, "norm", NULL, rows ? "batchnorm_forward_eval_rows" : "batchnorm_forward_eval", rows ? 1 : 2,
                   rows ? g + 1 : g, rows ? NULL : clfer__cpu_local(rt, 2, g, 0, l),
                   ((clfer_cost_t){6.0 * n, 8.0 * n}),
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                   CLFER_ARG_MEM(running_mean->buf), CLFER_ARG_INT(running_mean->offset),
                   CLFER_ARG_MEM(running_var->buf), CLFER_ARG_INT(running_var->offset), CLFER_ARG_MEM(gamma->buf),
                   CLFER_ARG_INT(gamma->offset), CLFER_ARG_MEM(beta->buf), CLFER_ARG_INT(beta->offset),
                   CLFER_ARG_FLOAT(p->eps), CLFER_ARG_INT(d.C), CLFER_ARG_INT(d.HW), CLFER_ARG_INT(n),
                   CLFER_ARG_INT(relu), CLFER_ARG_FLOAT(slope));
}

clfer_status clfer_batchnorm_forward_eval(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p,
                                          const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                          const clfer_tensor_t *beta, const clfer_tensor_t *running_mean,
                                          const clfer_tensor_t *running_var, clfer_tensor_t *y) {
  return bn_forward_eval(rt, "batchnorm_forward_eval", p, 0, 0.0f, x, gamma, beta, running_mean, running_var, y);
}

clfer_status clfer_batchnorm_relu_forward_eval(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p, float slope,
                                               const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                               const clfer_tensor_t *beta, const clfer_tensor_t *running_mean,
                                               const clfer_tensor_t *running_var, clfer_tensor_t *y) {
  return bn_forward_eval(rt, "batchnorm_relu_forward_eval", p, 1, slope, x, gamma, beta, running_mean, running_var,
                         y);
}

/* y: the fused ReLU's output when relu (dy is then that output's gradient), else NULL */
static clfer_status bn_backward(clfer_runtime_t *rt, const char *op, int relu, float slope, const clfer_tensor_t *x,
                                const clfer_tensor_t *y, const clfer_tensor_t *dy, const clfer_tensor_t *gamma,
                                const clfer_tensor_t *save_mean, const clfer_tensor_t *save_invstd, clfer_tensor_t *dx,
                                clfer_tensor_t *dgamma, clfer_tensor_t *dbeta) {
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  bn_dims_t d = {0};
  clfer_status st = bn_dims(op, x, &d);
  if (st || (relu && (st = bn_check_slope(op, slope)))) return st;
  CLFER__CHECK_SAME(op, "x", x, "dy", dy);
  if (relu) {
    CLFER__CHECK_TENSOR(op, "y", y);
    CLFER__CHECK_SAME(op, "x", x, "y", y);
  } else {
    y = dy; /* never read */
  }
  if (dx) {
    CLFER__CHECK_TENSOR(op, "dx", dx);
    CLFER__CHECK_SAME(op, "x", x, "dx", dx);
  }
  CLFER__CHECK_VEC(op, "gamma", gamma, d.C, x);
  CLFER__CHECK_VEC(op, "save_mean", save_mean, d.C, x);
  CLFER__CHECK_VEC(op, "save_invstd", save_invstd, d.C, x);
  if (dgamma) CLFER__CHECK_VEC(op, "dgamma", dgamma, d.C, x);
  if (dbeta) CLFER__CHECK_VEC(op, "dbeta", dbeta, d.C, x);

  size_t local = 1;
  int chunks, chunk, rows = clfer__cpu_paths(rt);
  if (rows)
    bn_rows_grid(rt, &d, &chunks, &chunk);
  else if ((st = bn_grid(rt, "batchnorm_backward_partial", d.M, &local, &chunks, &chunk)))
    return st;
  /* One scratch block: the partials, then dγ and dβ when the caller does not want them. */
  clfer_tensor_t scratch = {0}, sg = {0}, sb = {0};
  int sshape[1] = {d.C * chunks * 2 + 2 * d.C};
  if ((st = clfer_tensor_create(rt, 1, sshape, &scratch))) return st;
  int cshape[1] = {d.C};
  if ((st = clfer_tensor_view(&scratch, (size_t)d.C * chunks * 2, 1, cshape, &sg)) ||
      (st = clfer_tensor_view(&scratch, (size_t)d.C * chunks * 2 + d.C, 1, cshape, &sb)))
    goto done;
  const clfer_tensor_t *dg = dgamma ? dgamma : &sg, *db = dbeta ? dbeta : &sb;
  size_t n = clfer_tensor_numel(x);
  size_t g2[2] = {(size_t)chunks * local, (size_t)d.C}, l2[2] = {local, 1};
#define PARTIAL_ARGS                                                                                             \
  CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset),               \
      CLFER_ARG_MEM(save_mean->buf), CLFER_ARG_INT(save_mean->offset), CLFER_ARG_MEM(save_invstd->buf),             \
      CLFER_ARG_INT(save_invstd->offset), CLFER_ARG_INT(d.C), CLFER_ARG_INT(d.HW), CLFER_ARG_INT(d.M),              \
      CLFER_ARG_INT(chunk), CLFER_ARG_INT(chunks), CLFER_ARG_MEM(scratch.buf), CLFER_ARG_MEM(y->buf),           \
      CLFER_ARG_INT(y->offset), CLFER_ARG_INT(relu), CLFER_ARG_FLOAT(slope)
  if (rows)
    st = CLFER_RUN(rt, "norm", NULL, "batchnorm_backward_partial_rows", 2, g2, l2, ((clfer_cost_t){5.0 * n, 8.0 * n}),
                   PARTIAL_ARGS);
  else
    st = CLFER_RUN(rt, "norm", NULL, "batchnorm_backward_partial", 2, g2, l2, ((clfer_cost_t){5.0 * n, 8.0 * n}),
                   PARTIAL_ARGS, CLFER_ARG_LOCAL(local * sizeof(float)), CLFER_ARG_LOCAL(local * sizeof(float)));
#undef PARTIAL_ARGS
  if (st) goto done;
  size_t gc[1] = {(size_t)d.C};
  st = CLFER_RUN(rt, "norm", NULL, "batchnorm_backward_finalize", 1, gc, NULL,
                 ((clfer_cost_t){2.0 * d.C * chunks, 8.0 * d.C * chunks + 8.0 * d.C}), CLFER_ARG_MEM(scratch.buf),
                 CLFER_ARG_INT(chunks), CLFER_ARG_INT(d.C), CLFER_ARG_MEM(dg->buf), CLFER_ARG_INT(dg->offset),
                 CLFER_ARG_MEM(db->buf), CLFER_ARG_INT(db->offset));
  if (st || !dx) goto done;
  size_t ge[2] = {rows ? 1 : (size_t)d.HW, (size_t)d.N * d.C}, le[2]; /* CPUs: one item per plane */
  st = CLFER_RUN(rt, "norm", NULL, rows ? "batchnorm_backward_data_rows" : "batchnorm_backward_data", rows ? 1 : 2,
                 rows ? ge + 1 : ge, rows ? NULL : clfer__cpu_local(rt, 2, ge, 0, le),
                 ((clfer_cost_t){9.0 * n, 12.0 * n}),
                 CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset),
                 CLFER_ARG_MEM(save_mean->buf), CLFER_ARG_INT(save_mean->offset), CLFER_ARG_MEM(save_invstd->buf),
                 CLFER_ARG_INT(save_invstd->offset), CLFER_ARG_MEM(gamma->buf), CLFER_ARG_INT(gamma->offset),
                 CLFER_ARG_MEM(dg->buf), CLFER_ARG_INT(dg->offset), CLFER_ARG_MEM(db->buf), CLFER_ARG_INT(db->offset),
                 CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(d.C), CLFER_ARG_INT(d.HW),
                 CLFER_ARG_INT(n), CLFER_ARG_FLOAT(1.0f / (float)d.M), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                 CLFER_ARG_INT(relu), CLFER_ARG_FLOAT(slope));
done:
  clfer_tensor_release(&scratch);
  return st;
}

clfer_status clfer_batchnorm_backward(clfer_runtime_t *rt, const clfer_tensor_t *x, const clfer_tensor_t *dy,
                                      const clfer_tensor_t *gamma, const clfer_tensor_t *save_mean,
                                      const clfer_tensor_t *save_invstd, clfer_tensor_t *dx, clfer_tensor_t *dgamma,
                                      clfer_tensor_t *dbeta) {
  return bn_backward(rt, "batchnorm_backward", 0, 0.0f, x, NULL, dy, gamma, save_mean, save_invstd, dx, dgamma,
                     dbeta);
}

clfer_status clfer_batchnorm_relu_backward(clfer_runtime_t *rt, float slope, const clfer_tensor_t *x,
                                           const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                           const clfer_tensor_t *gamma, const clfer_tensor_t *save_mean,
                                           const clfer_tensor_t *save_invstd, clfer_tensor_t *dx,
                                           clfer_tensor_t *dgamma, clfer_tensor_t *dbeta) {
  return bn_backward(rt, "batchnorm_relu_backward", 1, slope, x, y, dy, gamma, save_mean, save_invstd, dx, dgamma,
                     dbeta);
}
