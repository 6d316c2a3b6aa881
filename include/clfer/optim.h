/* clfer/optim.h — optimizers over named device parameters (SGD with momentum, dampening, Nesterov
 * and weight decay; Adam/AdamW — both exactly PyTorch's update rules), per-parameter learning-rate
 * multipliers and freezing by name pattern, a gradient hook between backward and update (where a
 * multi-GPU all-reduce plugs in), exportable optimizer state, and learning-rate schedules. */
#ifndef CLFER_OPTIM_H
#define CLFER_OPTIM_H

#include <stdint.h>

#include "clfer/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- parameters ------------------------------------------------------------------------------- */

/* One trainable tensor. The optimizer copies the name and the flags and keeps the two tensor
 * pointers, which must stay valid (and keep their buffers) while it lives. */
typedef struct clfer_optim_param {
  const char *name;      /* unique, e.g. "features.0.weight" */
  clfer_tensor_t *value; /* updated in place */
  clfer_tensor_t *grad;  /* same element count; may be NULL only while frozen */
  float lr_mult;         /* learning-rate multiplier; 0 is taken as 1 (freeze with `frozen`) */
  int frozen;            /* not updated, state untouched */
} clfer_optim_param_t;

/* Whether a parameter name matches a pattern: the pattern is a shell glob (fnmatch), or a prefix
 * that ends at a '.' boundary ("features.0" matches "features.0.weight", not "features.01.bias"). */
int clfer_name_matches(const char *pattern, const char *name);

/* ---- optimizers ------------------------------------------------------------------------------- */

typedef enum clfer_optim_kind { CLFER_OPTIM_SGD = 0, CLFER_OPTIM_ADAM } clfer_optim_kind;

/* Hyper-parameters (the learning rate comes with each step, from a schedule).
 * SGD, torch.optim.SGD: d = g + wd·p; with momentum μ: b = d on a parameter's first step, else
 *   b = μ·b + (1−τ)·d; d = nesterov ? d + μ·b : b; p −= lr·d. FER+ (CNTK unit-gain momentum) is
 *   μ = 0.9, τ = 0.9.
 * Adam, torch.optim.Adam: g += wd·p (or, decoupled (AdamW), p ·= 1 − lr·wd); m = β1·m + (1−β1)·g;
 *   v = β2·v + (1−β2)·g²; p −= lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + ε), t = the parameter's
 *   step count. */
/* Hyper-parameters are doubles, as PyTorch's Python floats are: 1 − β is formed in double before
 * it meets float32 (1 − 0.999f would be off by 1e-5 relative). */
typedef struct clfer_optim_config {
  clfer_optim_kind kind;
  double momentum;     /* SGD μ */
  double dampening;    /* SGD τ */
  int nesterov;        /* SGD: needs μ > 0 and τ = 0, as in PyTorch */
  double weight_decay; /* both */
  double beta1, beta2, eps;   /* Adam */
  int decoupled_weight_decay; /* Adam: AdamW */
} clfer_optim_config_t;

/* PyTorch's defaults for the kind (SGD: all zero; Adam: β 0.9/0.999, ε 1e-8). */
clfer_optim_config_t clfer_optim_defaults(clfer_optim_kind kind);

typedef struct clfer_optim clfer_optim_t;

/* Called by clfer_optim_step after backward and before any update, with every parameter (frozen
 * ones included, flagged; an all-reduce may skip them). Gradients may be changed in place. A
 * non-OK return aborts the step before anything is updated. */
typedef clfer_status (*clfer_grad_hook_fn)(void *user, const clfer_optim_param_t *params, int n_params);

/* Creates the optimizer and its state tensors (zeros, from the runtime's pool). Names must be
 * unique; shapes of value and grad must hold the same number of elements. */
clfer_status clfer_optim_create(clfer_runtime_t *rt, const clfer_optim_config_t *config,
                                const clfer_optim_param_t *params, int n_params, clfer_optim_t **out);
void clfer_optim_destroy(clfer_optim_t *opt);
const clfer_optim_config_t *clfer_optim_config(const clfer_optim_t *opt);

int clfer_optim_param_count(const clfer_optim_t *opt);
/* The i-th parameter with its current flags; NULL when out of range. */
const clfer_optim_param_t *clfer_optim_param_at(const clfer_optim_t *opt, int i);
/* Sets the multiplier / the frozen flag of every parameter whose name matches `pattern` (see
 * clfer_name_matches); *matched (may be NULL) receives how many. No match is CLFER_NOT_FOUND. */
clfer_status clfer_optim_set_lr_mult(clfer_optim_t *opt, const char *pattern, float lr_mult, int *matched);
clfer_status clfer_optim_set_frozen(clfer_optim_t *opt, const char *pattern, int frozen, int *matched);
void clfer_optim_set_grad_hook(clfer_optim_t *opt, clfer_grad_hook_fn fn, void *user);

/* Runs the gradient hook, then updates every parameter that is not frozen with lr·lr_mult (one
 * kernel per parameter, no host sync). */
clfer_status clfer_optim_step(clfer_optim_t *opt, float lr);
/* Fills every (non-NULL) gradient with zeros. */
clfer_status clfer_optim_zero_grad(clfer_optim_t *opt);

/* ---- state, for checkpoints --------------------------------------------------------------------
 * Device tensors named "<param>.momentum_buffer" (SGD with momentum), "<param>.exp_avg" and
 * "<param>.exp_avg_sq" (Adam), plus a host step count per parameter (PyTorch's state["step"];
 * SGD uses it to know whether the momentum buffer has been started). Loading = writing into the
 * tensors found by name and setting the steps. */
int clfer_optim_state_count(const clfer_optim_t *opt);
clfer_status clfer_optim_state_at(clfer_optim_t *opt, int i, const char **name, clfer_tensor_t **tensor);
clfer_status clfer_optim_state_find(clfer_optim_t *opt, const char *name, clfer_tensor_t **tensor);
clfer_status clfer_optim_get_steps(const clfer_optim_t *opt, const char *param, int64_t *steps);
clfer_status clfer_optim_set_steps(clfer_optim_t *opt, const char *param, int64_t steps);

/* ---- learning-rate schedules ------------------------------------------------------------------ */

typedef enum clfer_schedule_kind {
  CLFER_SCHED_CONSTANT = 0, /* base_lr */
  CLFER_SCHED_STEP,         /* base_lr·gamma^floor(t / step_size) (PyTorch StepLR) */
  CLFER_SCHED_MULTISTEP,    /* base_lr·gamma^(milestones ≤ t) (MultiStepLR), or values[milestones ≤ t] */
  CLFER_SCHED_POLY,         /* min_lr + (base_lr − min_lr)·(1 − t/total)^power (Caffe "poly") */
  CLFER_SCHED_COSINE,       /* min_lr + (base_lr − min_lr)·(1 + cos(π·t/total))/2 (CosineAnnealingLR) */
} clfer_schedule_kind;

#define CLFER_SCHEDULE_MAX_MILESTONES 16

/* t is whatever unit the caller steps in (epochs, or iterations; fractions allowed). Past
 * `total`, poly and cosine stay at min_lr. */
typedef struct clfer_schedule {
  clfer_schedule_kind kind;
  float base_lr;
  float gamma;    /* STEP, MULTISTEP without values */
  int step_size;  /* STEP */
  int n_milestones;                                /* MULTISTEP, increasing */
  double milestones[CLFER_SCHEDULE_MAX_MILESTONES]; /* MULTISTEP */
  int has_values; /* MULTISTEP: values[0..n_milestones] instead of gamma powers */
  float values[CLFER_SCHEDULE_MAX_MILESTONES + 1];
  double total; /* POLY, COSINE */
  float power;  /* POLY */
  float min_lr; /* POLY, COSINE */
} clfer_schedule_t;

clfer_status clfer_schedule_validate(const clfer_schedule_t *s);
/* The learning rate at t (validate first; an invalid schedule gives base_lr). */
float clfer_schedule_lr(const clfer_schedule_t *s, double t);
/* Parses a schedule written in a recipe:
 *   "constant" | "step:SIZE:GAMMA" | "multistep:M1,M2,...:GAMMA" | "piecewise:V0,M1,V1,M2,V2,..."
 *   | "poly:TOTAL:POWER[:MIN]" | "cosine:TOTAL[:MIN]"
 * e.g. FER+: "piecewise:0.05,20,0.025,40,0.005" (base_lr is then V0 and the argument is ignored). */
clfer_status clfer_schedule_parse(const char *text, float base_lr, clfer_schedule_t *out);

#ifdef __cplusplus
}
#endif
#endif
