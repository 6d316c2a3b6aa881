/* em.c — EM estimators of the truth behind per-annotator labels: RAF-DB's annotator reliability
 * (Li et al. 2017, §3.1 and Algorithm 1, a GLAD model: p(t = y) = σ(α_i β_j)) with the single-label
 * subset rule, and Dawid–Skene (1979) confusion matrices, the IPA2LT paper's EM baseline. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/labels.h"

#define EM_BETA_MIN 1e-3   /* β > 0 (the paper's max over β > 0): Newton steps are projected */
#define EM_STEP_MAX 2.0    /* largest change of α or β in one Newton step (keeps steps stable) */
#define EM_INNER 10        /* alternations of the α and β Newton steps per M-step */

static void em_defaults(const clfer_em_options_t *o, int *iters, double *tol, double *prior, double *smooth) {
  *iters = o && o->max_iterations > 0 ? o->max_iterations : 100;
  *tol = o && o->tolerance > 0 ? o->tolerance : 1e-6;
  *prior = !o || o->prior == 0 ? 0.01 : o->prior < 0 ? 0 : o->prior;
  *smooth = o && o->smoothing > 0 ? o->smoothing : 0.01;
}

static inline double sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}
/* ln σ(x) and ln(1 − σ(x)) = ln σ(−x), stable for large |x|. */
static inline double log_sigmoid(double x) { return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)); }

/* Normalises a row of log-probabilities in place to probabilities; returns log Σ exp. */
static double softmax_row(double *v, int k) {
  double m = -DBL_MAX;
  for (int i = 0; i < k; i++)
    if (v[i] > m) m = v[i];
  double s = 0;
  for (int i = 0; i < k; i++) s += (v[i] = exp(v[i] - m));
  for (int i = 0; i < k; i++) v[i] /= s;
  return m + log(s);
}

/* Vote fractions per item; with `majority`, one-hot at the maximum (ties shared equally). */
static void init_from_votes(const clfer_annotations_t *a, double *q, int majority) {
  const int n = a->num_items, k = a->num_classes;
  memset(q, 0, sizeof(double) * (size_t)n * k);
  for (int l = 0; l < a->num_labels; l++) q[(size_t)a->item[l] * k + a->label[l]] += 1;
  for (int j = 0; j < n; j++) {
    double *r = q + (size_t)j * k, s = 0, m = 0;
    for (int c = 0; c < k; c++) {
      s += r[c];
      if (r[c] > m) m = r[c];
    }
    if (s == 0) { /* an item nobody labelled: uniform */
      for (int c = 0; c < k; c++) r[c] = 1.0 / k;
      continue;
    }
    if (majority) {
      int ties = 0;
      for (int c = 0; c < k; c++) ties += r[c] == m;
      for (int c = 0; c < k; c++) r[c] = r[c] == m ? 1.0 / ties : 0;
    } else {
      for (int c = 0; c < k; c++) r[c] /= s;
    }
  }
}

static int argmax_d(const double *v, int k) {
  int a = 0;
  for (int i = 1; i < k; i++)
    if (v[i] > v[a]) a = i;
  return a;
}

void clfer_em_result_destroy(clfer_em_result_t *r) {
  if (!r) return;
  free(r->alpha);
  free(r->beta);
  free(r->posterior);
  free(r->truth);
  free(r->label);
  free(r->single);
  free(r);
}

/* ---- RAF-DB EM (GLAD) ------------------------------------------------------------------------ */
/* E-step: Q_j(y) ∝ Π_i p(t_ij | y, α_i, β_j) with p = σ(α_i β_j) when t_ij = y and
 * (1 − σ)/(K − 1) otherwise (uniform class prior). Returns the log-likelihood Σ_j ln p(t_j). */
static double glad_estep(const clfer_annotations_t *a, const double *alpha, const double *beta, double *q) {
  const int n = a->num_items, k = a->num_classes;
  const double lk1 = log(k - 1.0);
  double *base = calloc((size_t)n, sizeof(double));
  if (!base) return NAN;
  memset(q, 0, sizeof(double) * (size_t)n * k);
  for (int l = 0; l < a->num_labels; l++) {
    int j = a->item[l];
    double x = alpha[a->annotator[l]] * beta[j];
    double lw = log_sigmoid(-x) - lk1; /* ln p(t | y ≠ t) */
    base[j] += lw;
    q[(size_t)j * k + a->label[l]] += log_sigmoid(x) - lw;
  }
  double ll = 0;
  for (int j = 0; j < n; j++) {
    double *r = q + (size_t)j * k;
    for (int c = 0; c < k; c++) r[c] += base[j] - log((double)k);
    ll += softmax_row(r, k);
  }
  free(base);
  return ll;
}

/* M-step: maximise Σ_j Σ_y Q_j(y) ln p(t_j, y | α, β) − prior/2·(Σ(α−1)² + Σ(β−1)²) by block
 * coordinate Newton steps (the objective is concave in α for fixed β and in β for fixed α).
 * With q = Q_j(t_ij) and s = σ(α_i β_j): ∂/∂α_i = Σ_j (q − s) β_j, ∂/∂β_j = Σ_i (q − s) α_i. */
static void glad_mstep(const clfer_annotations_t *a, const double *q, double prior, double *alpha, double *beta,
                       double *g, double *h) {
  const int k = a->num_classes;
  for (int it = 0; it < EM_INNER; it++) {
    for (int pass = 0; pass < 2; pass++) {
      const int m = pass == 0 ? a->num_annotators : a->num_items;
      double *x = pass == 0 ? alpha : beta;
      for (int i = 0; i < m; i++) {
        g[i] = -prior * (x[i] - 1.0);
        h[i] = -prior;
      }
      for (int l = 0; l < a->num_labels; l++) {
        int i = a->annotator[l], j = a->item[l];
        double s = sigmoid(alpha[i] * beta[j]);
        double qq = q[(size_t)j * k + a->label[l]];
        double other = pass == 0 ? beta[j] : alpha[i];
        int idx = pass == 0 ? i : j;
        g[idx] += (qq - s) * other;
        h[idx] -= s * (1 - s) * other * other;
      }
      for (int i = 0; i < m; i++) {
        if (h[i] >= -1e-12) continue; /* no information (and no prior) */
        double step = -g[i] / h[i];
        if (step > EM_STEP_MAX) step = EM_STEP_MAX;
        if (step < -EM_STEP_MAX) step = -EM_STEP_MAX;
        x[i] += step;
        if (pass == 1 && x[i] < EM_BETA_MIN) x[i] = EM_BETA_MIN;
      }
    }
  }
}

clfer_status clfer_em_reliability(const clfer_annotations_t *a, const clfer_em_options_t *opt,
                                  clfer_em_result_t **out) {
  *out = NULL;
  if (!a || a->num_classes < 2) return clfer_set_error(CLFER_INVALID_ARGUMENT, "EM: need annotations with >= 2 classes");
  int iters;
  double tol, prior, smooth;
  em_defaults(opt, &iters, &tol, &prior, &smooth);
  const int n = a->num_items, k = a->num_classes, R = a->num_annotators;
  clfer_em_result_t *r = calloc(1, sizeof *r);
  double *qold = malloc(sizeof(double) * (size_t)n * k);
  int big = n > R ? n : R;
  double *g = malloc(sizeof(double) * (size_t)big), *h = malloc(sizeof(double) * (size_t)big);
  if (!r || !qold || !g || !h) goto oom;
  r->num_items = n;
  r->num_annotators = R;
  r->num_classes = k;
  r->alpha = malloc(sizeof(double) * (size_t)R);
  r->beta = malloc(sizeof(double) * (size_t)n);
  r->posterior = malloc(sizeof(double) * (size_t)n * k);
  r->truth = calloc((size_t)n * k, sizeof(double));
  r->label = malloc(sizeof(int) * (size_t)n);
  r->single = malloc(sizeof(int) * (size_t)n);
  if (!r->alpha || !r->beta || !r->posterior || !r->truth || !r->label || !r->single) goto oom;

  /* Initialise (Algorithm 1): y_j by majority vote, β_j = the entropy of image j's labels,
   * α_i = 1. An image whose labels agree has entropy 0; β is held at EM_BETA_MIN > 0. */
  double *q = r->posterior;
  init_from_votes(a, qold, 0);
  for (int j = 0; j < n; j++) {
    double e = 0;
    for (int c = 0; c < k; c++) {
      double p = qold[(size_t)j * k + c];
      if (p > 0) e -= p * log(p);
    }
    r->beta[j] = e > EM_BETA_MIN ? e : EM_BETA_MIN;
  }
  for (int i = 0; i < R; i++) r->alpha[i] = 1.0;
  init_from_votes(a, q, 1);
  double ll = 0;
  int it;
  for (it = 1; it <= iters; it++) {
    glad_mstep(a, q, prior, r->alpha, r->beta, g, h);
    memcpy(qold, q, sizeof(double) * (size_t)n * k);
    ll = glad_estep(a, r->alpha, r->beta, q);
    if (isnan(ll)) goto oom;
    double change = 0;
    for (size_t x = 0; x < (size_t)n * k; x++) change = fmax(change, fabs(q[x] - qold[x]));
    if (change < tol) break;
  }
  r->iterations = it > iters ? iters : it;
  r->log_likelihood = ll;
  /* Ground truth g_k = Σ_i α_i·1[t_ij = k] and the single-label subset: labels with g_k above
   * the image's mean g; exactly one such label → single-label image (paper §3.1). */
  for (int l = 0; l < a->num_labels; l++) r->truth[(size_t)a->item[l] * k + a->label[l]] += r->alpha[a->annotator[l]];
  for (int j = 0; j < n; j++) {
    const double *gk = r->truth + (size_t)j * k;
    double mean = 0;
    for (int c = 0; c < k; c++) mean += gk[c];
    mean /= k;
    int valid = 0, which = -1;
    for (int c = 0; c < k; c++)
      if (gk[c] > mean) valid++, which = c;
    r->single[j] = valid == 1 ? which : -1;
    r->label[j] = argmax_d(q + (size_t)j * k, k);
  }
  free(qold);
  free(g);
  free(h);
  *out = r;
  return CLFER_OK;
oom:
  free(qold);
  free(g);
  free(h);
  clfer_em_result_destroy(r);
  return clfer_set_error(CLFER_OUT_OF_MEMORY, "EM: out of memory");
}

/* ---- Dawid–Skene ----------------------------------------------------------------------------- */
void clfer_ds_result_destroy(clfer_ds_result_t *r) {
  if (!r) return;
  free(r->prior);
  free(r->confusion);
  free(r->posterior);
  free(r->label);
  free(r);
}

clfer_status clfer_dawid_skene(const clfer_annotations_t *a, const clfer_em_options_t *opt, clfer_ds_result_t **out) {
  *out = NULL;
  if (!a || a->num_classes < 2)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "Dawid-Skene: need annotations with >= 2 classes");
  int iters;
  double tol, prior_prec, smooth;
  em_defaults(opt, &iters, &tol, &prior_prec, &smooth);
  const int n = a->num_items, k = a->num_classes, R = a->num_annotators;
  const size_t kk = (size_t)k * k;
  clfer_ds_result_t *r = calloc(1, sizeof *r);
  double *qold = malloc(sizeof(double) * (size_t)n * k);
  double *logth = malloc(sizeof(double) * (size_t)R * kk);
  if (!r || !qold || !logth) goto oom;
  r->num_items = n;
  r->num_annotators = R;
  r->num_classes = k;
  r->prior = malloc(sizeof(double) * (size_t)k);
  r->confusion = malloc(sizeof(double) * (size_t)R * kk);
  r->posterior = malloc(sizeof(double) * (size_t)n * k);
  r->label = malloc(sizeof(int) * (size_t)n);
  if (!r->prior || !r->confusion || !r->posterior || !r->label) goto oom;
  double *q = r->posterior;
  init_from_votes(a, q, 0); /* Dawid & Skene start from the vote fractions */
  double ll = 0;
  int it;
  for (it = 1; it <= iters; it++) {
    /* M: π_k = mean_j T_jk; θ_i[k][l] ∝ Σ_j T_jk·n_ijl + smoothing. */
    for (int c = 0; c < k; c++) r->prior[c] = 0;
    for (int j = 0; j < n; j++)
      for (int c = 0; c < k; c++) r->prior[c] += q[(size_t)j * k + c] / n;
    for (size_t x = 0; x < (size_t)R * kk; x++) r->confusion[x] = smooth;
    for (int l = 0; l < a->num_labels; l++) {
      double *th = r->confusion + (size_t)a->annotator[l] * kk;
      const double *qj = q + (size_t)a->item[l] * k;
      for (int c = 0; c < k; c++) th[(size_t)c * k + a->label[l]] += qj[c];
    }
    for (size_t row = 0; row < (size_t)R * k; row++) {
      double *th = r->confusion + row * k, s = 0;
      for (int c = 0; c < k; c++) s += th[c];
      for (int c = 0; c < k; c++) {
        th[c] /= s;
        logth[row * k + c] = log(th[c]);
      }
    }
    /* E: T_jk ∝ π_k Π_{labels on j} θ_i[k][t]. */
    memcpy(qold, q, sizeof(double) * (size_t)n * k);
    for (int j = 0; j < n; j++)
      for (int c = 0; c < k; c++) q[(size_t)j * k + c] = log(r->prior[c] > 1e-300 ? r->prior[c] : 1e-300);
    for (int l = 0; l < a->num_labels; l++) {
      const double *lt = logth + (size_t)a->annotator[l] * kk;
      double *qj = q + (size_t)a->item[l] * k;
      for (int c = 0; c < k; c++) qj[c] += lt[(size_t)c * k + a->label[l]];
    }
    ll = 0;
    for (int j = 0; j < n; j++) ll += softmax_row(q + (size_t)j * k, k);
    double change = 0;
    for (size_t x = 0; x < (size_t)n * k; x++) change = fmax(change, fabs(q[x] - qold[x]));
    if (change < tol) break;
  }
  r->iterations = it > iters ? iters : it;
  r->log_likelihood = ll;
  for (int j = 0; j < n; j++) r->label[j] = argmax_d(q + (size_t)j * k, k);
  free(qold);
  free(logth);
  *out = r;
  return CLFER_OK;
oom:
  free(qold);
  free(logth);
  clfer_ds_result_destroy(r);
  return clfer_set_error(CLFER_OUT_OF_MEMORY, "Dawid-Skene: out of memory");
}
