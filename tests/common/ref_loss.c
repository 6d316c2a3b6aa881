/* ref_loss.c — see ref_loss.h. Written for clarity, in double, straight from the formulas
 * (Barsoum et al. eq. 4; Li et al. eq. 3–4; Wen et al. eq. 2–4; Zeng et al. §3.3; torch.optim). */
#include "ref_loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void softmax(const double *z, int K, double *q) {
  double m = z[0], s = 0;
  for (int k = 1; k < K; k++) m = fmax(m, z[k]);
  for (int k = 0; k < K; k++) s += (q[k] = exp(z[k] - m));
  for (int k = 0; k < K; k++) q[k] /= s;
}

double ref_xent(const double *z, const double *t, int N, int K, double *grad) {
  double *q = malloc((size_t)K * sizeof *q), L = 0;
  for (int n = 0; n < N; n++) {
    softmax(z + (size_t)n * K, K, q);
    double ts = 0;
    for (int k = 0; k < K; k++) {
      ts += t[n * K + k];
      L -= t[n * K + k] * log(q[k]);
    }
    if (grad)
      for (int k = 0; k < K; k++) grad[n * K + k] = (ts * q[k] - t[n * K + k]) / N;
  }
  free(q);
  return L / N;
}

double ref_multilabel(const double *z, const double *t, int N, int K, double *grad) {
  double *q = malloc((size_t)K * sizeof *q), L = 0;
  for (int n = 0; n < N; n++) {
    softmax(z + (size_t)n * K, K, q);
    int best = -1;
    for (int k = 0; k < K; k++)
      if (t[n * K + k] > 0 && (best < 0 || t[n * K + k] * q[k] > t[n * K + best] * q[best])) best = k;
    if (best >= 0) L -= log(t[n * K + best] * q[best]);
    if (grad)
      for (int k = 0; k < K; k++) grad[n * K + k] = best < 0 ? 0 : (q[k] - (k == best)) / N;
  }
  free(q);
  return L / N;
}

double ref_locality(const double *x, const int *labels, int N, int D, int k, int mean_over_batch,
                    const double *fixed_means, double *means, int *has, double *grad) {
  double *m = calloc((size_t)N * D, sizeof *m), *dist = malloc((size_t)N * sizeof *dist), L = 0;
  int *cand = malloc((size_t)N * sizeof *cand), *hs = calloc((size_t)N, sizeof *hs);
  for (int i = 0; i < N; i++) {
    int nc = 0;
    for (int j = 0; j < N; j++) {
      if (j == i || labels[i] < 0 || labels[j] != labels[i]) continue;
      double d = 0;
      for (int e = 0; e < D; e++) d += (x[i * D + e] - x[j * D + e]) * (x[i * D + e] - x[j * D + e]);
      dist[j] = d;
      cand[nc++] = j;
    }
    /* insertion sort by (distance, index) */
    for (int a = 1; a < nc; a++)
      for (int b = a; b > 0 && (dist[cand[b]] < dist[cand[b - 1]] ||
                                (dist[cand[b]] == dist[cand[b - 1]] && cand[b] < cand[b - 1]));
           b--) {
        int tmp = cand[b];
        cand[b] = cand[b - 1];
        cand[b - 1] = tmp;
      }
    int use = nc < k ? nc : k;
    hs[i] = use > 0;
    for (int a = 0; a < use; a++)
      for (int e = 0; e < D; e++) m[i * D + e] += x[cand[a] * D + e] / use;
  }
  const double *mm = fixed_means ? fixed_means : m;
  double scale = mean_over_batch ? 1.0 / N : 1.0;
  for (int i = 0; i < N; i++)
    for (int e = 0; e < D; e++) {
      double diff = hs[i] ? x[i * D + e] - mm[i * D + e] : 0;
      L += 0.5 * diff * diff;
      if (grad) grad[i * D + e] = diff * scale;
    }
  if (means) memcpy(means, m, (size_t)N * D * sizeof *m);
  if (has) memcpy(has, hs, (size_t)N * sizeof *hs);
  free(m), free(dist), free(cand), free(hs);
  return L * scale;
}

double ref_center(const double *x, const int *labels, const double *centres, int N, int D, int K, int mean_over_batch,
                  double *grad) {
  double L = 0, scale = mean_over_batch ? 1.0 / N : 1.0;
  for (int i = 0; i < N; i++) {
    int y = labels[i];
    for (int e = 0; e < D; e++) {
      double diff = y >= 0 && y < K ? x[i * D + e] - centres[y * D + e] : 0;
      L += 0.5 * diff * diff;
      if (grad) grad[i * D + e] = diff * scale;
    }
  }
  return L * scale;
}

void ref_center_update(const double *x, const int *labels, double *centres, int N, int D, int K, double alpha) {
  for (int j = 0; j < K; j++) {
    int nj = 0;
    for (int i = 0; i < N; i++) nj += labels[i] == j;
    for (int e = 0; e < D; e++) {
      double delta = 0;
      for (int i = 0; i < N; i++)
        if (labels[i] == j) delta += centres[j * D + e] - x[i * D + e];
      centres[j * D + e] -= alpha * delta / (1 + nj);
    }
  }
}

double ref_ltnet(const double *z, const int *y, const double *T, const double *w, int N, int C, int L, int caffe,
                 double *dz, double *dT) {
  double *p = malloc((size_t)L * sizeof *p), *ph = malloc((size_t)L * sizeof *ph), *g = malloc((size_t)L * sizeof *g),
         *dp = malloc((size_t)L * sizeof *dp), loss = 0;
  if (dT) memset(dT, 0, (size_t)C * L * L * sizeof *dT);
  for (int n = 0; n < N; n++) {
    softmax(z + (size_t)n * L, L, p);
    memset(dp, 0, (size_t)L * sizeof *dp);
    for (int c = 0; c < C; c++) {
      int yc = y[n * C + c];
      if (yc < 0 || yc >= L) continue;
      const double *Tc = T + (size_t)c * L * L;
      for (int j = 0; j < L; j++) {
        ph[j] = 0;
        for (int i = 0; i < L; i++) ph[j] += p[i] * Tc[i * L + j];
      }
      if (caffe) {
        double *q = malloc((size_t)L * sizeof *q);
        softmax(ph, L, q);
        loss -= w[c] * log(q[yc]);
        for (int j = 0; j < L; j++) g[j] = w[c] * (q[j] - (j == yc));
        free(q);
      } else {
        loss -= w[c] * log(ph[yc]);
        for (int j = 0; j < L; j++) g[j] = j == yc ? -w[c] / ph[yc] : 0;
      }
      for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++) {
          dp[i] += Tc[i * L + j] * g[j];
          if (dT) dT[(size_t)c * L * L + i * L + j] += p[i] * g[j] / N;
        }
    }
    if (dz) {
      double pd = 0;
      for (int i = 0; i < L; i++) pd += p[i] * dp[i];
      for (int i = 0; i < L; i++) dz[n * L + i] = p[i] * (dp[i] - pd) / N;
    }
  }
  free(p), free(ph), free(g), free(dp);
  return loss / N;
}

void ref_ltnet_project(double *T, int C, int L, double min_value) {
  for (int r = 0; r < C * L; r++) {
    double s = 0;
    for (int j = 0; j < L; j++) {
      if (T[r * L + j] < min_value) T[r * L + j] = min_value;
      s += T[r * L + j];
    }
    for (int j = 0; j < L; j++) T[r * L + j] /= s;
  }
}

void ref_sgd_step(double *p, const double *g, double *buf, size_t n, double lr, double momentum, double dampening,
                  double weight_decay, int nesterov, int first) {
  for (size_t i = 0; i < n; i++) {
    double d = g[i] + weight_decay * p[i];
    if (momentum != 0) {
      buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
      d = nesterov ? d + momentum * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

void ref_adam_step(double *p, const double *g, double *m, double *v, size_t n, double lr, double beta1, double beta2,
                   double eps, double weight_decay, int decoupled, long t) {
  double bc1 = 1 - pow(beta1, (double)t), bc2 = 1 - pow(beta2, (double)t);
  for (size_t i = 0; i < n; i++) {
    double gi = g[i];
    if (decoupled)
      p[i] *= 1 - lr * weight_decay;
    else
      gi += weight_decay * p[i];
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    p[i] -= lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
  }
}
