/* schedule.c — learning-rate schedules as pure functions of the training position t (epochs or
 * iterations, the caller's choice), with PyTorch's / Caffe's formulas, and the compact text form
 * recipes use ("piecewise:0.05,20,0.025,40,0.005" is the FER+ schedule). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/optim.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

clfer_status clfer_schedule_validate(const clfer_schedule_t *s) {
  if (!s) return clfer_set_error(CLFER_INVALID_ARGUMENT, "schedule: none");
  if (!(s->base_lr >= 0.0f && isfinite(s->base_lr)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "schedule: base learning rate %g", (double)s->base_lr);
  switch (s->kind) {
    case CLFER_SCHED_CONSTANT: return CLFER_OK;
    case CLFER_SCHED_STEP:
      if (s->step_size < 1) return clfer_set_error(CLFER_INVALID_ARGUMENT, "step schedule: step size %d", s->step_size);
      if (!(s->gamma > 0.0f && isfinite(s->gamma)))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "step schedule: gamma %g", (double)s->gamma);
      return CLFER_OK;
    case CLFER_SCHED_MULTISTEP:
      if (s->n_milestones < 0 || s->n_milestones > CLFER_SCHEDULE_MAX_MILESTONES)
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "multi-step schedule: %d milestones (at most %d)",
                               s->n_milestones, CLFER_SCHEDULE_MAX_MILESTONES);
      for (int i = 1; i < s->n_milestones; i++)
        if (!(s->milestones[i] > s->milestones[i - 1]))
          return clfer_set_error(CLFER_INVALID_ARGUMENT, "multi-step schedule: milestones must increase (%g after %g)",
                                 s->milestones[i], s->milestones[i - 1]);
      if (s->has_values) {
        for (int i = 0; i <= s->n_milestones; i++)
          if (!(s->values[i] >= 0.0f && isfinite(s->values[i])))
            return clfer_set_error(CLFER_INVALID_ARGUMENT, "multi-step schedule: value %d is %g", i,
                                   (double)s->values[i]);
      } else if (!(s->gamma > 0.0f && isfinite(s->gamma))) {
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "multi-step schedule: gamma %g", (double)s->gamma);
      }
      return CLFER_OK;
    case CLFER_SCHED_POLY:
    case CLFER_SCHED_COSINE:
      if (!(s->total > 0 && isfinite(s->total)))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s schedule: total %g must be positive",
                               s->kind == CLFER_SCHED_POLY ? "poly" : "cosine", s->total);
      if (!(s->min_lr >= 0.0f && s->min_lr <= s->base_lr))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "schedule: min lr %g outside [0, base lr %g]", (double)s->min_lr,
                               (double)s->base_lr);
      if (s->kind == CLFER_SCHED_POLY && !(s->power > 0.0f && isfinite(s->power)))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "poly schedule: power %g", (double)s->power);
      return CLFER_OK;
  }
  return clfer_set_error(CLFER_INVALID_ARGUMENT, "schedule: unknown kind %d", (int)s->kind);
}

float clfer_schedule_lr(const clfer_schedule_t *s, double t) {
  if (!s) return 0.0f;
  const double base = s->base_lr;
  if (t < 0) t = 0;
  switch (s->kind) {
    case CLFER_SCHED_CONSTANT: return s->base_lr;
    case CLFER_SCHED_STEP:
      if (s->step_size < 1) return s->base_lr;
      return (float)(base * pow(s->gamma, floor(t / s->step_size)));
    case CLFER_SCHED_MULTISTEP: {
      int passed = 0;
      while (passed < s->n_milestones && passed < CLFER_SCHEDULE_MAX_MILESTONES && s->milestones[passed] <= t) passed++;
      return s->has_values ? s->values[passed] : (float)(base * pow(s->gamma, passed));
    }
    case CLFER_SCHED_POLY:
      if (!(s->total > 0) || t >= s->total) return s->min_lr;
      return (float)(s->min_lr + (base - s->min_lr) * pow(1.0 - t / s->total, s->power));
    case CLFER_SCHED_COSINE:
      if (!(s->total > 0) || t >= s->total) return s->min_lr;
      return (float)(s->min_lr + (base - s->min_lr) * 0.5 * (1.0 + cos(M_PI * t / s->total)));
  }
  return s->base_lr;
}

/* ---- text form ---- */

/* Reads a comma-separated list of numbers from *p up to ':' or the end; advances *p. */
static int read_list(const char **p, double *out, int max) {
  int n = 0;
  const char *s = *p;
  while (*s && *s != ':') {
    if (n == max) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno) return -1;
    out[n++] = v;
    s = end;
    if (*s == ',')
      s++;
    else if (*s && *s != ':')
      return -1;
  }
  *p = s;
  return n;
}

clfer_status clfer_schedule_parse(const char *text, float base_lr, clfer_schedule_t *out) {
  if (!text || !out) return clfer_set_error(CLFER_INVALID_ARGUMENT, "schedule: no text");
  memset(out, 0, sizeof *out);
  out->base_lr = base_lr;
  const char *colon = strchr(text, ':');
  size_t klen = colon ? (size_t)(colon - text) : strlen(text);
  const char *p = colon ? colon + 1 : "";
  /* fields: at most 2·16+1 numbers in the longest (piecewise) list */
  double f[3][2 * CLFER_SCHEDULE_MAX_MILESTONES + 1];
  int n[3] = {0, 0, 0}, fields = 0;
  while (colon) {
    if (fields == 3) goto bad;
    if ((n[fields] = read_list(&p, f[fields], 2 * CLFER_SCHEDULE_MAX_MILESTONES + 1)) < 0) goto bad;
    fields++;
    if (*p != ':') break;
    p++;
  }
  if (*p) goto bad;
#define KIND(name) (klen == strlen(name) && strncmp(text, name, klen) == 0)
  if (KIND("constant") && fields == 0) {
    out->kind = CLFER_SCHED_CONSTANT;
  } else if (KIND("step") && fields == 2 && n[0] == 1 && n[1] == 1) {
    out->kind = CLFER_SCHED_STEP;
    out->step_size = (int)f[0][0];
    if (out->step_size != f[0][0]) goto bad;
    out->gamma = (float)f[1][0];
  } else if (KIND("multistep") && fields == 2 && n[0] <= CLFER_SCHEDULE_MAX_MILESTONES && n[1] == 1) {
    out->kind = CLFER_SCHED_MULTISTEP;
    out->n_milestones = n[0];
    for (int i = 0; i < n[0]; i++) out->milestones[i] = f[0][i];
    out->gamma = (float)f[1][0];
  } else if (KIND("piecewise") && fields == 1 && n[0] % 2 == 1) {
    out->kind = CLFER_SCHED_MULTISTEP;
    out->has_values = 1;
    out->n_milestones = n[0] / 2;
    for (int i = 0; i <= out->n_milestones; i++) out->values[i] = (float)f[0][2 * i];
    for (int i = 0; i < out->n_milestones; i++) out->milestones[i] = f[0][2 * i + 1];
    out->base_lr = out->values[0];
  } else if (KIND("poly") && (fields == 2 || fields == 3) && n[0] == 1 && n[1] == 1 && (fields == 2 || n[2] == 1)) {
    out->kind = CLFER_SCHED_POLY;
    out->total = f[0][0];
    out->power = (float)f[1][0];
    if (fields == 3) out->min_lr = (float)f[2][0];
  } else if (KIND("cosine") && (fields == 1 || fields == 2) && n[0] == 1 && (fields == 1 || n[1] == 1)) {
    out->kind = CLFER_SCHED_COSINE;
    out->total = f[0][0];
    if (fields == 2) out->min_lr = (float)f[1][0];
  } else {
    goto bad;
  }
#undef KIND
  clfer_status st = clfer_schedule_validate(out);
  return st ? clfer_wrap_error(st, "schedule '%s': ", text) : CLFER_OK;
bad:
  return clfer_set_error(CLFER_PARSE_ERROR,
                         "schedule '%s': expected constant | step:SIZE:GAMMA | multistep:M1,M2,..:GAMMA | "
                         "piecewise:V0,M1,V1,.. | poly:TOTAL:POWER[:MIN] | cosine:TOTAL[:MIN]",
                         text);
}
