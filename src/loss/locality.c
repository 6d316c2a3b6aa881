/* locality.c — the feature-space losses: DLP-CNN's locality-preserving loss (Li, Deng, Du,
 * CVPR 2017, eq. 3–4) and center loss (Wen et al., ECCV 2016) with its centre update. Both end in
 * the same kernel: half the squared distance of each feature row to a reference row. */
#include "loss/loss_internal.h"

/* Checks features [N,D] and labels [N]; returns N and D. */
static clfer_status check_features(clfer_runtime_t *rt, const char *op, const clfer_tensor_t *features,
                                   const clfer_tensor_t *labels, int *N, int *D) {
  clfer_status st;
  if (!rt) return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: no runtime", op);
  if ((st = clfer__loss_check(features, op, "features")) || (st = clfer__loss_check(labels, op, "labels"))) return st;
  clfer__loss_rows_cols(features, N, D);
  if (clfer_tensor_numel(labels) != (size_t)*N) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: labels %s do not give one label per row of features %s", op,
                           clfer_shape_str(labels->ndim, labels->shape, a, sizeof a),
                           clfer_shape_str(features->ndim, features->shape, b, sizeof b));
  }
  return CLFER_OK;
}

/* ½‖x_i − ref_{idx_i}‖² per row, the gradient, and the reduction into the value. */
static clfer_status sqdist(clfer_runtime_t *rt, const clfer_tensor_t *x, int N, int D, cl_mem ref, size_t ref_off,
                           const clfer_tensor_t *idx, int R, float scale, const clfer_loss_out_t *out) {
  int wg, shape[1] = {N};
  const char *opt = clfer__loss_options(rt, &wg, NULL);
  clfer_tensor_t rows = {0};
  clfer_status st = clfer_tensor_create(rt, 1, shape, &rows);
  if (st) return st;
  clfer_tensor_t *grad = out->grad;
  size_t g[1] = {(size_t)N * wg}, l[1] = {(size_t)wg};
  double nd = (double)N * D;
  st = CLFER_RUN(rt, "loss", opt, "sqdist_rows", 1, g, l, ((clfer_cost_t){3 * nd, 4 * nd * (grad ? 3 : 2)}),
                 CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(ref), CLFER_ARG_INT(ref_off),
                 CLFER_ARG_MEM(idx->buf), CLFER_ARG_INT(idx->offset), CLFER_ARG_INT(R), CLFER_ARG_INT(D),
                 CLFER_ARG_MEM(grad ? grad->buf : rows.buf), CLFER_ARG_INT(grad ? grad->offset : 0),
                 CLFER_ARG_INT(grad != NULL), CLFER_ARG_FLOAT(scale), CLFER_ARG_INT(out->accumulate_grad),
                 CLFER_ARG_MEM(rows.buf), CLFER_ARG_INT(rows.offset));
  if (!st) st = clfer__loss_reduce(rt, &rows, N, scale, out);
  clfer_tensor_release(&rows);
  return st;
}

/* ---- locality-preserving loss ---- */

clfer_status clfer_loss_locality_ex(clfer_runtime_t *rt, const clfer_lp_params_t *p, const clfer_tensor_t *features,
                                    const clfer_tensor_t *labels, const clfer_loss_out_t *out) {
  static const char op[] = "locality-preserving loss";
  int N, D;
  clfer_status st = check_features(rt, op, features, labels, &N, &D);
  if (st) return st;
  if ((st = clfer__loss_check_out(out, features, op))) return st;
  int k = p && p->k ? p->k : CLFER_LP_DEFAULT_K;
  if (k < 1) return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: k = %d neighbours (must be ≥ 1)", op, k);
  if (!out->grad && !out->value) return CLFER_OK;
  /* The batch mean by default: the softmax loss beside it is a mean, so a sum would weigh each
   * sample's LP term N times more than λ says (and stalls training at λ = 0.003). */
  float scale = clfer__loss_weight(out) / (p && p->sum_over_batch ? 1.0f : (float)N);

  clfer_tensor_t gram = {0}, w = {0}, means = {0}, rowsel = {0};
  int nn[2] = {N, N}, nd[2] = {N, D}, n1[1] = {N};
  if ((st = clfer_tensor_create(rt, 2, nn, &gram)) || (st = clfer_tensor_create(rt, 2, nn, &w)) ||
      (st = clfer_tensor_create(rt, 2, nd, &means)) || (st = clfer_tensor_create(rt, 1, n1, &rowsel)))
    goto done;
  /* Distances rank through the Gram matrix: ‖x_i − x_j‖² = G_ii − 2G_ij + G_jj. */
  if ((st = clfer_sgemm(rt, 0, 1, (size_t)N, (size_t)N, (size_t)D, 1.0f, features->buf, features->offset, (size_t)D,
                        features->buf, features->offset, (size_t)D, 0.0f, gram.buf, 0, (size_t)N)))
    goto done;
  size_t g[2] = {(size_t)N, (size_t)N};
  double n3 = (double)N * N * N;
  if ((st = CLFER_RUN(rt, "loss", clfer__loss_options(rt, NULL, NULL), "lp_knn_weights", 2, g, NULL,
                      ((clfer_cost_t){4 * n3, 8 * n3}), CLFER_ARG_MEM(gram.buf), CLFER_ARG_MEM(labels->buf),
                      CLFER_ARG_INT(labels->offset), CLFER_ARG_INT(N), CLFER_ARG_INT(k), CLFER_ARG_MEM(w.buf),
                      CLFER_ARG_MEM(rowsel.buf))))
    goto done;
  /* Neighbour means (eq. 3's (1/k)Σ x), held constant in the gradient as in eq. 4. */
  if ((st = clfer_sgemm(rt, 0, 0, (size_t)N, (size_t)D, (size_t)N, 1.0f, w.buf, 0, (size_t)N, features->buf,
                        features->offset, (size_t)D, 0.0f, means.buf, 0, (size_t)D)))
    goto done;
  st = sqdist(rt, features, N, D, means.buf, 0, &rowsel, N, scale, out);
done:
  clfer_tensor_release(&gram);
  clfer_tensor_release(&w);
  clfer_tensor_release(&means);
  clfer_tensor_release(&rowsel);
  return st;
}

clfer_status clfer_loss_locality(clfer_runtime_t *rt, const clfer_lp_params_t *p, const clfer_tensor_t *features,
                                 const clfer_tensor_t *labels, clfer_tensor_t *grad, float *value) {
  clfer__loss_host_t h;
  clfer_status st = clfer__loss_host_begin(rt, grad, value, &h);
  if (!st) st = clfer_loss_locality_ex(rt, p, features, labels, &h.out);
  return clfer__loss_host_end(st, value, &h);
}

/* ---- center loss ---- */

static clfer_status check_centres(const char *op, const clfer_tensor_t *centres, int D, int *K) {
  clfer_status st = clfer__loss_check(centres, op, "centres");
  if (st) return st;
  int cd;
  clfer__loss_rows_cols(centres, K, &cd);
  if (cd != D) {
    char a[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: centres %s do not have the features' %d columns", op,
                           clfer_shape_str(centres->ndim, centres->shape, a, sizeof a), D);
  }
  return CLFER_OK;
}

clfer_status clfer_loss_center_ex(clfer_runtime_t *rt, int mean_over_batch, const clfer_tensor_t *features,
                                  const clfer_tensor_t *labels, const clfer_tensor_t *centres,
                                  const clfer_loss_out_t *out) {
  static const char op[] = "center loss";
  int N, D, K;
  clfer_status st = check_features(rt, op, features, labels, &N, &D);
  if (st || (st = check_centres(op, centres, D, &K))) return st;
  if ((st = clfer__loss_check_out(out, features, op))) return st;
  if (!out->grad && !out->value) return CLFER_OK;
  float scale = clfer__loss_weight(out) / (mean_over_batch ? (float)N : 1.0f);
  return sqdist(rt, features, N, D, centres->buf, centres->offset, labels, K, scale, out);
}

clfer_status clfer_loss_center(clfer_runtime_t *rt, int mean_over_batch, const clfer_tensor_t *features,
                               const clfer_tensor_t *labels, const clfer_tensor_t *centres, clfer_tensor_t *grad,
                               float *value) {
  clfer__loss_host_t h;
  clfer_status st = clfer__loss_host_begin(rt, grad, value, &h);
  if (!st) st = clfer_loss_center_ex(rt, mean_over_batch, features, labels, centres, &h.out);
  return clfer__loss_host_end(st, value, &h);
}

clfer_status clfer_center_update(clfer_runtime_t *rt, float alpha, const clfer_tensor_t *features,
                                 const clfer_tensor_t *labels, clfer_tensor_t *centres) {
  static const char op[] = "center update";
  int N, D, K;
  clfer_status st = check_features(rt, op, features, labels, &N, &D);
  if (st || (st = check_centres(op, centres, D, &K))) return st;
  if (!(alpha >= 0.0f && alpha <= 1.0f))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: alpha %g outside [0, 1]", op, (double)alpha);
  size_t g[2] = {(size_t)D, (size_t)K};
  double nkd = (double)N * K * D;
  return CLFER_RUN(rt, "loss", clfer__loss_options(rt, NULL, NULL), "center_update", 2, g, NULL,
                   ((clfer_cost_t){2 * nkd, 4 * nkd}), CLFER_ARG_MEM(features->buf), CLFER_ARG_INT(features->offset),
                   CLFER_ARG_MEM(labels->buf), CLFER_ARG_INT(labels->offset), CLFER_ARG_INT(N), CLFER_ARG_INT(D),
                   CLFER_ARG_INT(K), CLFER_ARG_MEM(centres->buf), CLFER_ARG_INT(centres->offset),
                   CLFER_ARG_FLOAT(alpha));
}
