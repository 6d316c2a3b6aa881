/* metrics.c — confusion matrices, the papers' scores (accuracy, mean diagonal), and small
 * self-contained SVG plots (no plotting dependency; any browser shows them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/metrics.h"
#include "runtime/runtime_internal.h"

void clfer_confusion_init(clfer_confusion_t *c, int classes, const char *const *names) {
  memset(c, 0, sizeof *c);
  c->classes = classes > CLFER_MAX_CLASSES ? CLFER_MAX_CLASSES : classes;
  for (int i = 0; i < c->classes; i++) {
    if (names && names[i])
      snprintf(c->names[i], sizeof c->names[i], "%s", names[i]);
    else
      snprintf(c->names[i], sizeof c->names[i], "class %d", i);
  }
}

void clfer_confusion_add(clfer_confusion_t *c, int truth, int predicted) {
  if (truth < 0 || truth >= c->classes || predicted < 0 || predicted >= c->classes) return;
  c->counts[truth][predicted]++;
}

clfer_scores_t clfer_confusion_scores(const clfer_confusion_t *c) {
  clfer_scores_t s;
  memset(&s, 0, sizeof s);
  long diag = 0;
  int with_samples = 0;
  double recall_sum = 0;
  for (int t = 0; t < c->classes; t++) {
    long row = 0, col = 0;
    for (int p = 0; p < c->classes; p++) {
      row += c->counts[t][p];
      col += c->counts[p][t];
    }
    s.samples += row;
    diag += c->counts[t][t];
    s.recall[t] = row ? (double)c->counts[t][t] / row : NAN;
    s.precision[t] = col ? (double)c->counts[t][t] / col : NAN;
    if (row) {
      with_samples++;
      recall_sum += s.recall[t];
    }
  }
  s.accuracy = s.samples ? (double)diag / s.samples : NAN;
  s.mean_diagonal = with_samples ? recall_sum / with_samples : NAN;
  return s;
}

clfer_status clfer_confusion_write_csv(const clfer_confusion_t *c, const char *path) {
  char tmp[1100];
  FILE *f = clfer__replace_open(path, tmp, sizeof tmp);
  if (!f) return CLFER_IO_ERROR;
  fprintf(f, "true\\predicted");
  for (int p = 0; p < c->classes; p++) fprintf(f, ",%s", c->names[p]);
  fprintf(f, "\n");
  for (int t = 0; t < c->classes; t++) {
    fprintf(f, "%s", c->names[t]);
    for (int p = 0; p < c->classes; p++) fprintf(f, ",%ld", c->counts[t][p]);
    fprintf(f, "\n");
  }
  return clfer__replace_close(f, tmp, path);
}

static void xml_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else if (*s == '&') fputs("&amp;", f);
    else fputc(*s, f);
  }
}

clfer_status clfer_confusion_write_svg(const clfer_confusion_t *c, const char *title, const char *path) {
  char tmp[1100];
  FILE *f = clfer__replace_open(path, tmp, sizeof tmp);
  if (!f) return CLFER_IO_ERROR;
  const int cell = 56, left = 110, top = 70, n = c->classes;
  int w = left + n * cell + 20, h = top + n * cell + 60;
  clfer_scores_t s = clfer_confusion_scores(c);
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n", w, h);
  fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%d\" y=\"18\" font-size=\"14\">", left);
  xml_text(f, title ? title : "confusion matrix");
  fprintf(f, "</text>\n<text x=\"%d\" y=\"36\">accuracy %.2f%%, mean diagonal %.2f%%, %ld samples (rows: true, columns: predicted, %% of row)</text>\n",
          left, 100 * s.accuracy, 100 * s.mean_diagonal, s.samples);
  for (int t = 0; t < n; t++) {
    long row = 0;
    for (int p = 0; p < n; p++) row += c->counts[t][p];
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, top + t * cell + cell / 2 + 4);
    xml_text(f, c->names[t]);
    fprintf(f, "</text>\n");
    for (int p = 0; p < n; p++) {
      double frac = row ? (double)c->counts[t][p] / row : 0;
      int shade = (int)(255 - 200 * frac);
      fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,255)\" stroke=\"#ccc\"/>\n",
              left + p * cell, top + t * cell, cell, cell, shade, shade);
      fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%.1f</text>\n", left + p * cell + cell / 2,
              top + t * cell + cell / 2, frac > 0.5 ? "white" : "black", 100 * frac);
      fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"9\" fill=\"%s\">%ld</text>\n",
              left + p * cell + cell / 2, top + t * cell + cell / 2 + 13, frac > 0.5 ? "white" : "#555", c->counts[t][p]);
    }
  }
  for (int p = 0; p < n; p++) {
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", left + p * cell + cell / 2, top + n * cell + 16);
    xml_text(f, c->names[p]);
    fprintf(f, "</text>\n");
  }
  fprintf(f, "</svg>\n");
  return clfer__replace_close(f, tmp, path);
}

static void panel(FILE *f, int x0, int y0, int w, int h, const char *label, int epochs, const clfer_curve_t *curves,
                  int n, int percent) {
  static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; i++)
    for (int e = 0; e < epochs; e++)
      if (isfinite(curves[i].values[e])) lo = fmin(lo, curves[i].values[e]), hi = fmax(hi, curves[i].values[e]);
  if (!isfinite(lo)) lo = 0, hi = 1;
  if (percent) lo = fmin(lo, 0), hi = fmax(hi, 1);
  if (hi - lo < 1e-9) hi = lo + 1;
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", x0, y0, w, h);
  fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", x0, y0 - 6, label);
  fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>\n", x0 - 4, y0 + 10, percent ? 100 * hi : hi);
  fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>\n", x0 - 4, y0 + h, percent ? 100 * lo : lo);
  fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n", x0 + w / 2, y0 + h + 16);
  for (int i = 0; i < n; i++) {
    fprintf(f, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"", colors[i % 6]);
    for (int e = 0; e < epochs; e++) {
      double v = curves[i].values[e];
      if (!isfinite(v)) continue;
      double x = x0 + (epochs > 1 ? (double)e / (epochs - 1) : 0.5) * w, y = y0 + h - (v - lo) / (hi - lo) * h;
      fprintf(f, "%.1f,%.1f ", x, y);
    }
    fprintf(f, "\"/>\n<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", x0 + w + 8, y0 + 14 + 14 * i, colors[i % 6],
            curves[i].name);
  }
}

clfer_status clfer_curves_write_svg(const char *path, const char *title, int epochs, const clfer_curve_t *loss_curves,
                                    int n_loss, const clfer_curve_t *acc_curves, int n_acc) {
  char tmp[1100];
  FILE *f = clfer__replace_open(path, tmp, sizeof tmp);
  if (!f) return CLFER_IO_ERROR;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"330\" font-family=\"sans-serif\" font-size=\"11\">\n");
  fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"60\" y=\"18\" font-size=\"14\">");
  xml_text(f, title ? title : "training curves");
  fprintf(f, "</text>\n");
  panel(f, 60, 50, 300, 240, "loss", epochs, loss_curves, n_loss, 0);
  panel(f, 500, 50, 300, 240, "accuracy (%)", epochs, acc_curves, n_acc, 1);
  fprintf(f, "</svg>\n");
  return clfer__replace_close(f, tmp, path);
}
