/* loss.c — cross-entropy against target distributions and the FER+ multi-label loss (one fused
 * softmax kernel for both), the helpers every loss shares, and the combined objective that sums
 * configured terms into one value and the gradients of logits and features. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "loss/loss_internal.h"

/* ---- shared helpers ---- */

clfer_status clfer__loss_check(const clfer_tensor_t *t, const char *op, const char *what) {
  if (!t || !t->buf || t->ndim < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: %s is missing or empty", op, what);
  return CLFER_OK;
}

void clfer__loss_rows_cols(const clfer_tensor_t *t, int *rows, int *cols) {
  *rows = t->shape[0];
  *cols = (int)(clfer_tensor_numel(t) / (size_t)t->shape[0]);
}

clfer_status clfer__loss_check_out(const clfer_loss_out_t *out, const clfer_tensor_t *input, const char *op) {
  clfer_status st;
  if (!out) return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: no output", op);
  if (out->value && (st = clfer__loss_check(out->value, op, "value tensor"))) return st;
  const clfer_tensor_t *grad = out->grad;
  if (!grad) return CLFER_OK;
  if ((st = clfer__loss_check(grad, op, "gradient"))) return st;
  if (clfer_tensor_numel(grad) != clfer_tensor_numel(input) || grad->shape[0] != input->shape[0]) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: gradient %s does not match input %s", op,
                           clfer_shape_str(grad->ndim, grad->shape, a, sizeof a),
                           clfer_shape_str(input->ndim, input->shape, b, sizeof b));
  }
  return CLFER_OK;
}

static int pow2_at_most(size_t limit, int want) {
  int w = want;
  while (w > 1 && (size_t)w > limit) w /= 2;
  return w;
}

const char *clfer__loss_options(clfer_runtime_t *rt, int *row_wg, int *sum_wg) {
  /* Thread-local: the string only has to live until the launch that follows. */
  static _Thread_local char options[64];
  size_t limit = clfer_runtime_device(rt)->max_work_group_size;
  int row = pow2_at_most(limit, 64), sum = pow2_at_most(limit, 256);
  snprintf(options, sizeof options, "-DROW_WG=%d -DSUM_WG=%d", row, sum);
  if (row_wg) *row_wg = row;
  if (sum_wg) *sum_wg = sum;
  return options;
}

float clfer__loss_weight(const clfer_loss_out_t *out) { return out && out->weight != 0.0f ? out->weight : 1.0f; }

clfer_status clfer__loss_reduce(clfer_runtime_t *rt, const clfer_tensor_t *row_loss, int N, float scale,
                                const clfer_loss_out_t *out) {
  if (!out || !out->value) return CLFER_OK;
  int sum_wg;
  const char *opt = clfer__loss_options(rt, NULL, &sum_wg);
  size_t g[1] = {(size_t)sum_wg}, l[1] = {(size_t)sum_wg};
  return CLFER_RUN(rt, "loss", opt, "loss_sum_rows", 1, g, l, ((clfer_cost_t){N, 4.0 * N + 8}),
                   CLFER_ARG_MEM(row_loss->buf), CLFER_ARG_INT(row_loss->offset), CLFER_ARG_INT(N),
                   CLFER_ARG_FLOAT(scale), CLFER_ARG_MEM(out->value->buf), CLFER_ARG_INT(out->value->offset),
                   CLFER_ARG_INT(out->accumulate_value));
}

clfer_status clfer__loss_host_begin(clfer_runtime_t *rt, clfer_tensor_t *grad, float *value, clfer__loss_host_t *h) {
  memset(h, 0, sizeof *h);
  h->out.grad = grad;
  h->out.weight = 1.0f;
  if (value) {
    int one[1] = {1};
    clfer_status st = clfer_tensor_create(rt, 1, one, &h->scalar);
    if (st) return st;
    h->out.value = &h->scalar;
  }
  return CLFER_OK;
}

clfer_status clfer__loss_host_end(clfer_status st, float *value, clfer__loss_host_t *h) {
  if (!st && value) st = clfer_tensor_download(&h->scalar, value);
  clfer_tensor_release(&h->scalar);
  return st;
}

/* ---- softmax cross-entropy and multi-label ---- */

static clfer_status softmax_rows(clfer_runtime_t *rt, const char *op, int multilabel, const clfer_tensor_t *logits,
                                 const clfer_tensor_t *targets, const clfer_loss_out_t *out) {
  clfer_status st;
  if (!rt) return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: no runtime", op);
  if ((st = clfer__loss_check(logits, op, "logits")) || (st = clfer__loss_check(targets, op, "targets"))) return st;
  if (clfer_tensor_numel(logits) != clfer_tensor_numel(targets) || logits->shape[0] != targets->shape[0]) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: logits %s and targets %s differ", op,
                           clfer_shape_str(logits->ndim, logits->shape, a, sizeof a),
                           clfer_shape_str(targets->ndim, targets->shape, b, sizeof b));
  }
  if ((st = clfer__loss_check_out(out, logits, op))) return st;
  clfer_tensor_t *grad = out->grad;
  if (!grad && !out->value) return CLFER_OK;
  int N, K, wg;
  clfer__loss_rows_cols(logits, &N, &K);
  const float scale = clfer__loss_weight(out) / (float)N;
  const char *opt = clfer__loss_options(rt, &wg, NULL);
  clfer_tensor_t rows = {0};
  int shape[1] = {N};
  if ((st = clfer_tensor_create(rt, 1, shape, &rows))) return st;
  size_t g[1] = {(size_t)N * wg}, l[1] = {(size_t)wg};
  double nk = (double)N * K;
  st = CLFER_RUN(rt, "loss", opt, "softmax_xent_rows", 1, g, l, ((clfer_cost_t){8 * nk, 4 * nk * (grad ? 4 : 2)}),
                 CLFER_ARG_MEM(logits->buf), CLFER_ARG_INT(logits->offset), CLFER_ARG_MEM(targets->buf),
                 CLFER_ARG_INT(targets->offset), CLFER_ARG_INT(K), CLFER_ARG_INT(multilabel),
                 CLFER_ARG_MEM(grad ? grad->buf : rows.buf), CLFER_ARG_INT(grad ? grad->offset : 0),
                 CLFER_ARG_INT(grad != NULL), CLFER_ARG_FLOAT(scale), CLFER_ARG_INT(out->accumulate_grad),
                 CLFER_ARG_MEM(rows.buf), CLFER_ARG_INT(rows.offset));
  if (!st) st = clfer__loss_reduce(rt, &rows, N, scale, out);
  clfer_tensor_release(&rows);
  return st;
}

clfer_status clfer_loss_xent_ex(clfer_runtime_t *rt, const clfer_tensor_t *logits, const clfer_tensor_t *targets,
                                const clfer_loss_out_t *out) {
  return softmax_rows(rt, "xent loss", 0, logits, targets, out);
}

clfer_status clfer_loss_multilabel_ex(clfer_runtime_t *rt, const clfer_tensor_t *logits, const clfer_tensor_t *targets,
                                      const clfer_loss_out_t *out) {
  return softmax_rows(rt, "multi-label loss", 1, logits, targets, out);
}

clfer_status clfer_loss_xent(clfer_runtime_t *rt, const clfer_tensor_t *logits, const clfer_tensor_t *targets,
                             clfer_tensor_t *grad, float *value) {
  clfer__loss_host_t h;
  clfer_status st = clfer__loss_host_begin(rt, grad, value, &h);
  if (!st) st = clfer_loss_xent_ex(rt, logits, targets, &h.out);
  return clfer__loss_host_end(st, value, &h);
}

clfer_status clfer_loss_multilabel(clfer_runtime_t *rt, const clfer_tensor_t *logits, const clfer_tensor_t *targets,
                                   clfer_tensor_t *grad, float *value) {
  clfer__loss_host_t h;
  clfer_status st = clfer__loss_host_begin(rt, grad, value, &h);
  if (!st) st = clfer_loss_multilabel_ex(rt, logits, targets, &h.out);
  return clfer__loss_host_end(st, value, &h);
}

/* ---- combined objective ---- */

static const char *const kind_names[] = {"xent", "multilabel", "locality", "center", "ltnet"};

const char *clfer_loss_kind_name(clfer_loss_kind kind) {
  return (unsigned)kind < sizeof kind_names / sizeof *kind_names ? kind_names[kind] : "unknown";
}

clfer_status clfer_loss_kind_parse(const char *name, clfer_loss_kind *out) {
  for (unsigned i = 0; name && i < sizeof kind_names / sizeof *kind_names; i++)
    if (strcasecmp(name, kind_names[i]) == 0) {
      *out = (clfer_loss_kind)i;
      return CLFER_OK;
    }
  return clfer_set_error(CLFER_INVALID_ARGUMENT,
                         "unknown loss '%s' (expected xent, multilabel, locality, center or ltnet)",
                         name ? name : "(null)");
}

static clfer_status need(const clfer_tensor_t *t, int term, const char *kind, const char *what) {
  if (!t || !t->buf)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "objective term %d (%s) needs %s", term, kind, what);
  return CLFER_OK;
}

clfer_status clfer_objective(clfer_runtime_t *rt, const clfer_loss_term_t *terms, int n_terms,
                             const clfer_loss_inputs_t *in, clfer_tensor_t *dlogits, clfer_tensor_t *dfeatures,
                             clfer_tensor_t *value, int update_state) {
  if (!rt || !in || n_terms < 0 || (n_terms > 0 && !terms))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "objective: missing runtime, inputs or terms");
  int logits_written = 0, features_written = 0, value_written = 0;
  clfer_status st = CLFER_OK;
  for (int i = 0; i < n_terms && !st; i++) {
    const clfer_loss_term_t *t = &terms[i];
    const char *kind = clfer_loss_kind_name(t->kind);
    int on_logits = t->kind == CLFER_LOSS_XENT || t->kind == CLFER_LOSS_MULTILABEL || t->kind == CLFER_LOSS_LTNET;
    clfer_loss_out_t out = {.grad = on_logits ? dlogits : dfeatures,
                            .value = value,
                            .weight = t->weight,
                            .accumulate_grad = on_logits ? logits_written : features_written,
                            .accumulate_value = value_written};
    switch (t->kind) {
      case CLFER_LOSS_XENT:
      case CLFER_LOSS_MULTILABEL:
        if ((st = need(in->logits, i, kind, "logits")) || (st = need(in->targets, i, kind, "targets"))) break;
        st = t->kind == CLFER_LOSS_XENT ? clfer_loss_xent_ex(rt, in->logits, in->targets, &out)
                                        : clfer_loss_multilabel_ex(rt, in->logits, in->targets, &out);
        break;
      case CLFER_LOSS_LOCALITY:
        if ((st = need(in->features, i, kind, "features")) || (st = need(in->labels, i, kind, "labels"))) break;
        st = clfer_loss_locality_ex(rt, &t->lp, in->features, in->labels, &out);
        break;
      case CLFER_LOSS_CENTER:
        if ((st = need(in->features, i, kind, "features")) || (st = need(in->labels, i, kind, "labels")) ||
            (st = need(t->centres, i, kind, "centres")))
          break;
        st = clfer_loss_center_ex(rt, !t->center_sum_over_batch, in->features, in->labels, t->centres, &out);
        if (!st && update_state) st = clfer_center_update(rt, t->center_alpha, in->features, in->labels, t->centres);
        break;
      case CLFER_LOSS_LTNET:
        if ((st = need(in->logits, i, kind, "logits")) || (st = need(in->coder_labels, i, kind, "coder labels")) ||
            (st = need(t->transitions, i, kind, "transitions")))
          break;
        st = clfer_loss_ltnet_ex(rt, &t->ltnet, in->logits, in->coder_labels, t->transitions, t->dtransitions, &out);
        break;
      default: st = clfer_set_error(CLFER_INVALID_ARGUMENT, "objective term %d: unknown loss kind %d", i, (int)t->kind);
    }
    if (st) return clfer_wrap_error(st, "objective term %d (%s): ", i, kind);
    if (out.grad) *(on_logits ? &logits_written : &features_written) = 1;
    if (value) value_written = 1;
  }
  /* Gradients and value no term wrote are zero, so the caller may always add them. */
  if (dlogits && !logits_written && (st = clfer_tensor_fill(dlogits, 0.0f))) return st;
  if (dfeatures && !features_written && (st = clfer_tensor_fill(dfeatures, 0.0f))) return st;
  if (value && !value_written) {
    clfer_tensor_t v0;
    int one[1] = {1};
    if ((st = clfer_tensor_view(value, 0, 1, one, &v0)) || (st = clfer_tensor_fill(&v0, 0.0f))) return st;
  }
  return CLFER_OK;
}
