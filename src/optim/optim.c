/* optim.c — SGD and Adam over a list of named device parameters: per-parameter state tensors
 * (exported by name for checkpoints) and step counts, learning-rate multipliers and freezing by
 * name pattern, and the gradient hook that runs between backward and the updates. */
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/optim.h"
#include "ops/launch_shape.h"

typedef struct param_entry {
  clfer_optim_param_t p; /* p.name points at `name` */
  char *name;
  int64_t steps;
  clfer_tensor_t state[2]; /* SGD: momentum buffer; Adam: exp_avg, exp_avg_sq */
  char *state_name[2];
} param_entry_t;

struct clfer_optim {
  clfer_runtime_t *rt;
  clfer_optim_config_t cfg;
  param_entry_t *params;
  int n_params;
  int n_state; /* state tensors per parameter: 0, 1 or 2 */
  clfer_optim_param_t *view; /* the parameters as the hook sees them */
  clfer_grad_hook_fn hook;
  void *hook_user;
};

int clfer_name_matches(const char *pattern, const char *name) {
  if (!pattern || !name) return 0;
  if (fnmatch(pattern, name, 0) == 0) return 1;
  size_t n = strlen(pattern);
  return n > 0 && strncmp(pattern, name, n) == 0 && (name[n] == '\0' || name[n] == '.' || pattern[n - 1] == '.');
}

clfer_optim_config_t clfer_optim_defaults(clfer_optim_kind kind) {
  clfer_optim_config_t c = {.kind = kind};
  if (kind == CLFER_OPTIM_ADAM) {
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
  }
  return c;
}

static clfer_status check_config(const clfer_optim_config_t *c) {
  if (!c) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: no configuration");
  if (!(c->weight_decay >= 0 && isfinite(c->weight_decay)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: weight decay %g must be ≥ 0", c->weight_decay);
  switch (c->kind) {
    case CLFER_OPTIM_SGD:
      if (!(c->momentum >= 0 && c->momentum < 1))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "SGD: momentum %g outside [0, 1)", c->momentum);
      if (!(c->dampening >= 0 && c->dampening <= 1))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "SGD: dampening %g outside [0, 1]", c->dampening);
      if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "SGD: Nesterov momentum needs momentum > 0 and dampening 0");
      return CLFER_OK;
    case CLFER_OPTIM_ADAM:
      if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "Adam: betas (%g, %g) outside [0, 1)", c->beta1, c->beta2);
      if (!(c->eps >= 0)) return clfer_set_error(CLFER_INVALID_ARGUMENT, "Adam: eps %g < 0", c->eps);
      return CLFER_OK;
  }
  return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: unknown kind %d", (int)c->kind);
}

static clfer_status check_param(const clfer_optim_param_t *p, int i) {
  if (!p->name || !*p->name) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: parameter %d has no name", i);
  if (!p->value || !p->value->buf)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: parameter %s has no value tensor", p->name);
  if (!(p->lr_mult >= 0.0f && isfinite(p->lr_mult)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: parameter %s has lr_mult %g", p->name,
                           (double)p->lr_mult);
  if (p->grad && (!p->grad->buf || clfer_tensor_numel(p->grad) != clfer_tensor_numel(p->value))) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "optimizer: parameter %s is %s but its gradient is %s", p->name,
                           clfer_shape_str(p->value->ndim, p->value->shape, a, sizeof a),
                           clfer_shape_str(p->grad->ndim, p->grad->shape, b, sizeof b));
  }
  if (!p->grad && !p->frozen)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: parameter %s has no gradient and is not frozen",
                           p->name);
  return CLFER_OK;
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 1;
  char *s = malloc(n);
  if (s) {
    strcpy(s, a);
    strcat(s, b);
  }
  return s;
}

clfer_status clfer_optim_create(clfer_runtime_t *rt, const clfer_optim_config_t *config,
                                const clfer_optim_param_t *params, int n_params, clfer_optim_t **out) {
  clfer_status st;
  if (!out) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: no output pointer");
  *out = NULL;
  if (!rt) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: no runtime");
  if ((st = check_config(config))) return st;
  if (n_params < 0 || (n_params > 0 && !params))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: %d parameters given without a list", n_params);
  for (int i = 0; i < n_params; i++) {
    if ((st = check_param(&params[i], i))) return st;
    for (int j = 0; j < i; j++)
      if (strcmp(params[i].name, params[j].name) == 0)
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: parameter name %s given twice", params[i].name);
  }
  clfer_optim_t *o = calloc(1, sizeof *o);
  if (!o) return clfer_set_error(CLFER_OUT_OF_MEMORY, "optimizer");
  o->rt = rt;
  o->cfg = *config;
  o->n_state = config->kind == CLFER_OPTIM_ADAM ? 2 : config->momentum != 0 ? 1 : 0;
  static const char *const suffix[2][2] = {{".momentum_buffer", ""}, {".exp_avg", ".exp_avg_sq"}};
  const int si = config->kind == CLFER_OPTIM_ADAM;
  o->params = calloc((size_t)(n_params ? n_params : 1), sizeof *o->params);
  o->view = calloc((size_t)(n_params ? n_params : 1), sizeof *o->view);
  if (!o->params || !o->view) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "optimizer: %d parameters", n_params);
    goto fail;
  }
  o->n_params = n_params; /* entries are zeroed, so destroy can clean up a half-built list */
  for (int i = 0; i < n_params; i++) {
    param_entry_t *e = &o->params[i];
    e->p = params[i];
    if (e->p.lr_mult == 0.0f) e->p.lr_mult = 1.0f;
    if (!(e->name = strdup(params[i].name))) {
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "optimizer: parameter name");
      goto fail;
    }
    e->p.name = e->name;
    for (int s = 0; s < o->n_state; s++) {
      if (!(e->state_name[s] = join(e->name, suffix[si][s]))) {
        st = clfer_set_error(CLFER_OUT_OF_MEMORY, "optimizer: state name");
        goto fail;
      }
      if ((st = clfer_tensor_zeros(rt, e->p.value->ndim, e->p.value->shape, &e->state[s]))) {
        clfer_wrap_error(st, "optimizer state %s: ", e->state_name[s]);
        goto fail;
      }
    }
  }
  *out = o;
  return CLFER_OK;
fail:
  clfer_optim_destroy(o);
  return st;
}

void clfer_optim_destroy(clfer_optim_t *opt) {
  if (!opt) return;
  for (int i = 0; opt->params && i < opt->n_params; i++) {
    param_entry_t *e = &opt->params[i];
    for (int s = 0; s < 2; s++) {
      clfer_tensor_release(&e->state[s]);
      free(e->state_name[s]);
    }
    free(e->name);
  }
  free(opt->params);
  free(opt->view);
  free(opt);
}

const clfer_optim_config_t *clfer_optim_config(const clfer_optim_t *opt) { return opt ? &opt->cfg : NULL; }

int clfer_optim_param_count(const clfer_optim_t *opt) { return opt ? opt->n_params : 0; }

const clfer_optim_param_t *clfer_optim_param_at(const clfer_optim_t *opt, int i) {
  return opt && i >= 0 && i < opt->n_params ? &opt->params[i].p : NULL;
}

clfer_status clfer_optim_set_lr_mult(clfer_optim_t *opt, const char *pattern, float lr_mult, int *matched) {
  if (matched) *matched = 0;
  if (!opt || !pattern) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: no optimizer or pattern");
  if (!(lr_mult >= 0.0f && isfinite(lr_mult)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: lr_mult %g for '%s'", (double)lr_mult, pattern);
  int n = 0;
  for (int i = 0; i < opt->n_params; i++)
    if (clfer_name_matches(pattern, opt->params[i].name)) {
      opt->params[i].p.lr_mult = lr_mult == 0.0f ? 1.0f : lr_mult;
      n++;
    }
  if (matched) *matched = n;
  return n ? CLFER_OK : clfer_set_error(CLFER_NOT_FOUND, "optimizer: no parameter matches '%s'", pattern);
}

clfer_status clfer_optim_set_frozen(clfer_optim_t *opt, const char *pattern, int frozen, int *matched) {
  if (matched) *matched = 0;
  if (!opt || !pattern) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: no optimizer or pattern");
  int n = 0;
  for (int i = 0; i < opt->n_params; i++)
    if (clfer_name_matches(pattern, opt->params[i].name)) {
      if (!frozen && !opt->params[i].p.grad)
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: cannot unfreeze %s, it has no gradient",
                               opt->params[i].name);
      opt->params[i].p.frozen = frozen != 0;
      n++;
    }
  if (matched) *matched = n;
  return n ? CLFER_OK : clfer_set_error(CLFER_NOT_FOUND, "optimizer: no parameter matches '%s'", pattern);
}

void clfer_optim_set_grad_hook(clfer_optim_t *opt, clfer_grad_hook_fn fn, void *user) {
  if (!opt) return;
  opt->hook = fn;
  opt->hook_user = user;
}

static clfer_status update(clfer_optim_t *o, param_entry_t *e, float lr) {
  const clfer_optim_config_t *c = &o->cfg;
  clfer_tensor_t *p = e->p.value, *g = e->p.grad;
  const int n = (int)clfer_tensor_numel(p);
  size_t global[1];
  const int cpu = clfer__elementwise_range(o->rt, (size_t)n, global);
  e->steps++;
  if (c->kind == CLFER_OPTIM_SGD) {
    clfer_tensor_t *b = o->n_state ? &e->state[0] : p;
    return CLFER_RUN(o->rt, "optim", NULL, cpu ? "sgd_update_rows" : "sgd_update", 1, global, NULL,
                     ((clfer_cost_t){6.0 * n, 20.0 * n}),
                     CLFER_ARG_MEM(p->buf), CLFER_ARG_INT(p->offset), CLFER_ARG_MEM(g->buf), CLFER_ARG_INT(g->offset),
                     CLFER_ARG_MEM(b->buf), CLFER_ARG_INT(b->offset), CLFER_ARG_INT(n), CLFER_ARG_FLOAT(lr),
                     CLFER_ARG_FLOAT(c->momentum), CLFER_ARG_FLOAT(1.0 - c->dampening),
                     CLFER_ARG_FLOAT(c->weight_decay), CLFER_ARG_INT(c->nesterov), CLFER_ARG_INT(e->steps == 1));
  }
  /* Bias corrections in double on the host, as PyTorch computes them in Python floats. */
  double bc1 = 1.0 - pow((double)c->beta1, (double)e->steps);
  double bc2 = 1.0 - pow((double)c->beta2, (double)e->steps);
  clfer_tensor_t *m = &e->state[0], *v = &e->state[1];
  return CLFER_RUN(o->rt, "optim", NULL, cpu ? "adam_update_rows" : "adam_update", 1, global, NULL,
                   ((clfer_cost_t){14.0 * n, 28.0 * n}),
                   CLFER_ARG_MEM(p->buf), CLFER_ARG_INT(p->offset), CLFER_ARG_MEM(g->buf), CLFER_ARG_INT(g->offset),
                   CLFER_ARG_MEM(m->buf), CLFER_ARG_INT(m->offset), CLFER_ARG_MEM(v->buf), CLFER_ARG_INT(v->offset),
                   CLFER_ARG_INT(n), CLFER_ARG_FLOAT(lr), CLFER_ARG_FLOAT(1.0 - c->beta1), CLFER_ARG_FLOAT(c->beta2),
                   CLFER_ARG_FLOAT(1.0 - c->beta2), CLFER_ARG_FLOAT(c->eps), CLFER_ARG_FLOAT(c->weight_decay),
                   CLFER_ARG_INT(c->decoupled_weight_decay), CLFER_ARG_FLOAT(lr / bc1), CLFER_ARG_FLOAT(sqrt(bc2)));
}

clfer_status clfer_optim_step(clfer_optim_t *opt, float lr) {
  if (!opt) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer step: no optimizer");
  if (!(lr >= 0.0f && isfinite(lr)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer step: learning rate %g", (double)lr);
  clfer_status st;
  if (opt->hook) {
    for (int i = 0; i < opt->n_params; i++) opt->view[i] = opt->params[i].p;
    if ((st = opt->hook(opt->hook_user, opt->view, opt->n_params)))
      return clfer_wrap_error(st, "optimizer step: gradient hook: ");
  }
  for (int i = 0; i < opt->n_params; i++) {
    param_entry_t *e = &opt->params[i];
    if (e->p.frozen) continue;
    if ((st = update(opt, e, lr * e->p.lr_mult)))
      return clfer_wrap_error(st, "optimizer step, parameter %s: ", e->name);
  }
  return CLFER_OK;
}

clfer_status clfer_optim_zero_grad(clfer_optim_t *opt) {
  if (!opt) return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: none");
  for (int i = 0; i < opt->n_params; i++) {
    clfer_status st;
    if (opt->params[i].p.grad && (st = clfer_tensor_fill(opt->params[i].p.grad, 0.0f))) return st;
  }
  return CLFER_OK;
}

/* ---- state ---- */

int clfer_optim_state_count(const clfer_optim_t *opt) { return opt ? opt->n_params * opt->n_state : 0; }

clfer_status clfer_optim_state_at(clfer_optim_t *opt, int i, const char **name, clfer_tensor_t **tensor) {
  if (!opt || i < 0 || i >= clfer_optim_state_count(opt))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer state index %d out of range", i);
  param_entry_t *e = &opt->params[i / opt->n_state];
  int s = i % opt->n_state;
  if (name) *name = e->state_name[s];
  if (tensor) *tensor = &e->state[s];
  return CLFER_OK;
}

clfer_status clfer_optim_state_find(clfer_optim_t *opt, const char *name, clfer_tensor_t **tensor) {
  for (int i = 0; opt && name && i < clfer_optim_state_count(opt); i++) {
    const char *n;
    clfer_tensor_t *t;
    clfer_optim_state_at(opt, i, &n, &t);
    if (strcmp(n, name) == 0) {
      *tensor = t;
      return CLFER_OK;
    }
  }
  return clfer_set_error(CLFER_NOT_FOUND, "optimizer has no state tensor '%s'", name ? name : "(null)");
}

static param_entry_t *find_param(const clfer_optim_t *opt, const char *name) {
  for (int i = 0; opt && name && i < opt->n_params; i++)
    if (strcmp(opt->params[i].name, name) == 0) return &opt->params[i];
  return NULL;
}

clfer_status clfer_optim_get_steps(const clfer_optim_t *opt, const char *param, int64_t *steps) {
  param_entry_t *e = find_param(opt, param);
  if (!e) return clfer_set_error(CLFER_NOT_FOUND, "optimizer has no parameter '%s'", param ? param : "(null)");
  *steps = e->steps;
  return CLFER_OK;
}

clfer_status clfer_optim_set_steps(clfer_optim_t *opt, const char *param, int64_t steps) {
  param_entry_t *e = find_param(opt, param);
  if (!e) return clfer_set_error(CLFER_NOT_FOUND, "optimizer has no parameter '%s'", param ? param : "(null)");
  if (steps < 0)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "optimizer: %s steps %lld < 0", param, (long long)steps);
  e->steps = steps;
  return CLFER_OK;
}
