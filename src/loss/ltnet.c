/* ltnet.c — LTNet's coder-specific probability transition layers and loss (Zeng, Shan, Chen,
 * "Facial Expression Recognition with Inconsistently Annotated Datasets", ECCV 2018, §3.3): the
 * start values of T, the clamp + row renormalisation before every forward pass, and the loss with
 * its gradients w.r.t. the logits and every T^c. Sizes are compiled into the kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss/loss_internal.h"

static float min_value(const clfer_ltnet_params_t *p) {
  return p->min_value > 0.0f ? p->min_value : CLFER_LTNET_DEFAULT_MIN;
}

/* Checks the parameters and transitions [C,L,L]; returns L. */
static clfer_status check_params(const char *op, const clfer_ltnet_params_t *p, const clfer_tensor_t *T, int *L) {
  clfer_status st;
  if (!p) return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: no parameters", op);
  if (p->coders < 1 || p->coders > CLFER_LTNET_MAX_CODERS)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: %d coders (1 to %d supported)", op, p->coders,
                           CLFER_LTNET_MAX_CODERS);
  if (!(min_value(p) < 1.0f))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: min value %g must be below 1", op, (double)p->min_value);
  if ((st = clfer__loss_check(T, op, "transitions"))) return st;
  if (T->ndim != 3 || T->shape[0] != p->coders || T->shape[1] != T->shape[2] || T->shape[1] > CLFER_LTNET_MAX_CLASSES) {
    char a[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: transitions %s are not [%d coders, L, L] with L ≤ %d", op,
                           clfer_shape_str(T->ndim, T->shape, a, sizeof a), p->coders, CLFER_LTNET_MAX_CLASSES);
  }
  *L = T->shape[1];
  return CLFER_OK;
}

/* The -D options that size the LTNet kernels; the coder weights are compiled in (they are fixed
 * for a run, so this is one build). */
static clfer_status lt_options(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, int L, char *buf, size_t size) {
  int all_zero = 1;
  for (int c = 0; c < p->coders; c++) all_zero &= p->coder_weight[c] == 0.0f;
  int n = snprintf(buf, size,
                   "%s -DLT_CLASSES=%d -DLT_CODERS=%d -DLT_CAFFE=%d -DLT_WEIGHTS=", clfer__loss_options(rt, NULL, NULL),
                   L, p->coders, p->caffe_softmax ? 1 : 0);
  for (int c = 0; c < p->coders && n > 0 && (size_t)n < size; c++) {
    float w = all_zero ? 1.0f : p->coder_weight[c];
    if (!isfinite(w)) return clfer_set_error(CLFER_INVALID_ARGUMENT, "ltnet: coder %d weight is not finite", c);
    n += snprintf(buf + n, size - (size_t)n, "%s%.9ef", c ? "," : "", (double)w);
  }
  if (n < 0 || (size_t)n >= size) return clfer_set_error(CLFER_INTERNAL, "ltnet: build options too long");
  return CLFER_OK;
}

clfer_status clfer_ltnet_init(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, float diag, uint64_t seed,
                              clfer_tensor_t *transitions) {
  static const char op[] = "ltnet init";
  int L = 0;
  clfer_status st = check_params(op, p, transitions, &L);
  if (st) return st;
  if (diag == 0.0f) diag = 10.0f;
  if (!(diag > 0.0f && isfinite(diag)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: diagonal %g must be positive", op, (double)diag);
  size_t n = clfer_tensor_numel(transitions);
  float *t = malloc(n * sizeof *t);
  if (!t) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: %zu floats", op, n);
  /* Xavier-uniform (Caffe's fan-in form) like the reference code's filler; splitmix64. */
  const double a = sqrt(3.0 / L);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
  for (int c = 0; c < p->coders; c++)
    for (int i = 0; i < L; i++) {
      float *row = t + ((size_t)c * L + i) * L;
      double sum = 0;
      for (int j = 0; j < L; j++) {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        double u = (double)(z >> 11) * (1.0 / 9007199254740992.0);
        double v = i == j ? diag : a * (2 * u - 1);
        if (v < min_value(p)) v = min_value(p);
        row[j] = (float)v;
        sum += v;
      }
      for (int j = 0; j < L; j++) row[j] = (float)(row[j] / sum);
    }
  st = clfer_tensor_upload(transitions, t);
  free(t);
  return st;
}

clfer_status clfer_ltnet_project(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, clfer_tensor_t *transitions) {
  int L = 0;
  char opt[512];
  clfer_status st = check_params("ltnet project", p, transitions, &L);
  if (st || (st = lt_options(rt, p, L, opt, sizeof opt))) return st;
  size_t g[1] = {(size_t)p->coders * L};
  double n = (double)p->coders * L * L;
  return CLFER_RUN(rt, "loss", opt, "ltnet_project", 1, g, NULL, ((clfer_cost_t){2 * n, 8 * n}),
                   CLFER_ARG_MEM(transitions->buf), CLFER_ARG_INT(transitions->offset), CLFER_ARG_FLOAT(min_value(p)));
}

clfer_status clfer_loss_ltnet_ex(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, const clfer_tensor_t *logits,
                                 const clfer_tensor_t *coder_labels, clfer_tensor_t *transitions,
                                 clfer_tensor_t *dtransitions, const clfer_loss_out_t *out) {
  static const char op[] = "ltnet loss";
  int L = 0, N = 0, K = 0;
  char opt[512];
  clfer_status st;
  if (!rt) return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: no runtime", op);
  if ((st = check_params(op, p, transitions, &L)) || (st = clfer__loss_check(logits, op, "logits")) ||
      (st = clfer__loss_check(coder_labels, op, "coder labels")))
    return st;
  clfer__loss_rows_cols(logits, &N, &K);
  char a[96], b[96];
  if (K != L)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: logits %s have %d classes, transitions %s have %d", op,
                           clfer_shape_str(logits->ndim, logits->shape, a, sizeof a), K,
                           clfer_shape_str(transitions->ndim, transitions->shape, b, sizeof b), L);
  if (clfer_tensor_numel(coder_labels) != (size_t)N * p->coders)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: coder labels %s are not [%d samples, %d coders]", op,
                           clfer_shape_str(coder_labels->ndim, coder_labels->shape, a, sizeof a), N, p->coders);
  if (dtransitions && (!dtransitions->buf || clfer_tensor_numel(dtransitions) != clfer_tensor_numel(transitions)))
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: transition gradient %s does not match transitions %s", op,
                           clfer_shape_str(dtransitions->ndim, dtransitions->shape, a, sizeof a),
                           clfer_shape_str(transitions->ndim, transitions->shape, b, sizeof b));
  if ((st = clfer__loss_check_out(out, logits, op))) return st;
  if ((st = lt_options(rt, p, L, opt, sizeof opt))) return st;
  /* The paper normalises T "before each forward process". */
  if ((st = clfer_ltnet_project(rt, p, transitions))) return st;
  if (!out->grad && !out->value && !dtransitions) return CLFER_OK;

  const float scale = clfer__loss_weight(out) / (float)N;
  clfer_tensor_t probs = {0}, gp = {0}, rows = {0};
  int snl[2] = {N, L}, sncl[3] = {N, p->coders, L}, sn[1] = {N};
  if ((st = clfer_tensor_create(rt, 2, snl, &probs)) || (st = clfer_tensor_create(rt, 3, sncl, &gp)) ||
      (st = clfer_tensor_create(rt, 1, sn, &rows)))
    goto done;
  clfer_tensor_t *grad = out->grad;
  size_t g[1] = {(size_t)N};
  double work = (double)N * p->coders * L * L;
  if ((st = CLFER_RUN(
           rt, "loss", opt, "ltnet_rows", 1, g, NULL, ((clfer_cost_t){4 * work, 4.0 * N * L * (3 + p->coders)}),
           CLFER_ARG_MEM(logits->buf), CLFER_ARG_INT(logits->offset), CLFER_ARG_MEM(coder_labels->buf),
           CLFER_ARG_INT(coder_labels->offset), CLFER_ARG_MEM(transitions->buf), CLFER_ARG_INT(transitions->offset),
           CLFER_ARG_INT(N), CLFER_ARG_MEM(grad ? grad->buf : rows.buf), CLFER_ARG_INT(grad ? grad->offset : 0),
           CLFER_ARG_INT(grad != NULL), CLFER_ARG_FLOAT(scale), CLFER_ARG_INT(out->accumulate_grad),
           CLFER_ARG_MEM(probs.buf), CLFER_ARG_MEM(gp.buf), CLFER_ARG_MEM(rows.buf))))
    goto done;
  if (dtransitions) {
    size_t g2[2] = {(size_t)L * L, (size_t)p->coders};
    if ((st = CLFER_RUN(rt, "loss", opt, "ltnet_grad_transitions", 2, g2, NULL, ((clfer_cost_t){2 * work, 8 * work}),
                        CLFER_ARG_MEM(probs.buf), CLFER_ARG_MEM(gp.buf), CLFER_ARG_INT(N),
                        CLFER_ARG_MEM(dtransitions->buf), CLFER_ARG_INT(dtransitions->offset))))
      goto done;
  }
  st = clfer__loss_reduce(rt, &rows, N, scale, out);
done:
  clfer_tensor_release(&probs);
  clfer_tensor_release(&gp);
  clfer_tensor_release(&rows);
  return st;
}

clfer_status clfer_loss_ltnet(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, const clfer_tensor_t *logits,
                              const clfer_tensor_t *coder_labels, clfer_tensor_t *transitions,
                              clfer_tensor_t *dtransitions, clfer_tensor_t *grad, float *value) {
  clfer__loss_host_t h;
  clfer_status st = clfer__loss_host_begin(rt, grad, value, &h);
  if (!st) st = clfer_loss_ltnet_ex(rt, p, logits, coder_labels, transitions, dtransitions, &h.out);
  return clfer__loss_host_end(st, value, &h);
}
