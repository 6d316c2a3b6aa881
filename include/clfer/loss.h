/* clfer/loss.h — training objectives on device tensors: cross-entropy against a target
 * distribution (majority vote, PLD and CEL), the FER+ multi-label loss, DLP-CNN's
 * locality-preserving loss, center loss, LTNet's coder transition layers, and a combined objective.
 * Every loss gives its value AND its gradient w.r.t. the network output in one call. */
#ifndef CLFER_LOSS_H
#define CLFER_LOSS_H

#include "clfer/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Conventions
 * - Inputs are device tensors: logits z[N,K], features x[N,D]; targets t[N,K] (float), class
 *   labels y[N] (float holding an integer; a label outside [0, classes) is ignored, i.e. the
 *   sample contributes nothing), LTNet coder labels [N,C] (−1 = that coder gave no label).
 * - Every loss is available in two forms:
 *     clfer_loss_X(rt, ..., grad, &value)     grad overwritten (NULL: not computed), the value
 *                                             read back to the host (one small blocking read;
 *                                             NULL: no read, no sync);
 *     clfer_loss_X_ex(rt, ..., &out)          the general form: weight, accumulation into grad
 *                                             and into a device scalar, no host sync.
 * - "Mean over the batch": the value and gradient are divided by N (the batch size, including
 *   samples whose label is missing) unless a loss documents otherwise. */

/* Where a loss writes. weight multiplies both value and gradient (0 is taken as 1). With
 * accumulate_grad, grad += weight·∂L (else overwritten); with accumulate_value,
 * value += weight·L (else overwritten). */
typedef struct clfer_loss_out {
  clfer_tensor_t *grad;  /* same number of elements and rows as the loss input, or NULL */
  clfer_tensor_t *value; /* device scalar (element 0 is used), or NULL */
  float weight;
  int accumulate_grad;
  int accumulate_value;
} clfer_loss_out_t;

/* ---- cross-entropy against a target distribution --------------------------------------------- */

/* L = −(1/N) Σ_n Σ_k t_nk · log softmax(z_n)_k (FER+ MV, PLD and CEL; one-hot targets give the
 * usual softmax loss). ∂L/∂z = (Σ_k t_nk · q_n − t_n)/N with q = softmax(z), which is the familiar
 * (q − t)/N when the targets sum to 1. Fused softmax + xent kernel, numerically stable. */
clfer_status clfer_loss_xent(clfer_runtime_t *rt, const clfer_tensor_t *logits, const clfer_tensor_t *targets,
                             clfer_tensor_t *grad, float *value);
clfer_status clfer_loss_xent_ex(clfer_runtime_t *rt, const clfer_tensor_t *logits, const clfer_tensor_t *targets,
                                const clfer_loss_out_t *out);

/* ---- FER+ multi-label ------------------------------------------------------------------------- */

/* L = −(1/N) Σ_n log max_k (t_nk · q_nk), q = softmax(z) (Barsoum et al. eq. 4; targets
 * t = (1−ε)·1[p>0] + ε). The gradient flows through the arg-max k* (first on ties):
 * ∂L/∂z_n = (q_n − e_k*)/N. */
clfer_status clfer_loss_multilabel(clfer_runtime_t *rt, const clfer_tensor_t *logits,
                                   const clfer_tensor_t *targets, clfer_tensor_t *grad, float *value);
clfer_status clfer_loss_multilabel_ex(clfer_runtime_t *rt, const clfer_tensor_t *logits,
                                      const clfer_tensor_t *targets, const clfer_loss_out_t *out);

/* ---- DLP-CNN locality-preserving loss (Li, Deng, Du, CVPR 2017, eq. 3–4) ---------------------- */

#define CLFER_LP_DEFAULT_K 20
#define CLFER_LP_DEFAULT_LAMBDA 0.003f /* the weight of the term in L = L_softmax + λ·L_lp */

typedef struct clfer_lp_params {
  int k;              /* neighbours; 0 is taken as CLFER_LP_DEFAULT_K */
  int sum_over_batch; /* 0 (default): divided by N, like the softmax loss it is added to (the scale
                       * λ = 0.003 belongs to); 1: eq. 3's plain sum over the batch */
} clfer_lp_params_t;

/* L_lp = (1/N)·½ Σ_i ‖x_i − mean(N_k(i))‖² (without the 1/N when sum_over_batch), N = the batch
 * size (unlabelled samples included); N_k(i) = the k nearest (Euclidean) samples of x_i's class in
 * the batch, x_i itself excluded (ties broken by the lower index); a class with ≤ k other samples
 * uses all of them; a sample alone in its class adds nothing. The gradient is eq. 4,
 * (x_i − mean(N_k(i)))/N, with the neighbours held constant (it is not the full derivative of
 * eq. 3). Distances come from one GEMM (X·Xᵀ); the neighbour means from a second (W·X). */
clfer_status clfer_loss_locality(clfer_runtime_t *rt, const clfer_lp_params_t *p, const clfer_tensor_t *features,
                                 const clfer_tensor_t *labels, clfer_tensor_t *grad, float *value);
clfer_status clfer_loss_locality_ex(clfer_runtime_t *rt, const clfer_lp_params_t *p,
                                    const clfer_tensor_t *features, const clfer_tensor_t *labels,
                                    const clfer_loss_out_t *out);

/* ---- center loss (Wen et al., ECCV 2016, eq. 2–4) ---------------------------------------------- */

/* L_c = ½ Σ_i ‖x_i − c_{y_i}‖² (divided by N when mean_over_batch, as Wen et al.'s Caffe layer
 * does and the objective's default), ∂L/∂x_i = x_i − c_{y_i} (likewise divided). centres [K,D] are owned by the caller (a checkpointed state tensor). */
clfer_status clfer_loss_center(clfer_runtime_t *rt, int mean_over_batch, const clfer_tensor_t *features,
                               const clfer_tensor_t *labels, const clfer_tensor_t *centres, clfer_tensor_t *grad,
                               float *value);
clfer_status clfer_loss_center_ex(clfer_runtime_t *rt, int mean_over_batch, const clfer_tensor_t *features,
                                  const clfer_tensor_t *labels, const clfer_tensor_t *centres,
                                  const clfer_loss_out_t *out);
/* Wen et al.'s centre update (eq. 4, Algorithm 1): c_j ← c_j − α·Σ_{y_i=j}(c_j − x_i)/(1 + n_j),
 * n_j = samples of class j in the batch. Classes absent from the batch are unchanged. */
clfer_status clfer_center_update(clfer_runtime_t *rt, float alpha, const clfer_tensor_t *features,
                                 const clfer_tensor_t *labels, clfer_tensor_t *centres);

/* ---- LTNet coder transition layers (Zeng, Shan, Chen, ECCV 2018, §3.3) ------------------------- */

#define CLFER_LTNET_MAX_CODERS 16
#define CLFER_LTNET_MAX_CLASSES 64
#define CLFER_LTNET_DEFAULT_MIN 1e-5f

typedef struct clfer_ltnet_params {
  int coders;                              /* C ≥ 1 */
  float coder_weight[CLFER_LTNET_MAX_CODERS]; /* w_c; all zero is taken as all 1 */
  float min_value;                         /* clamp floor before renormalising; 0 → 1e-5 */
  int caffe_softmax; /* 1: the reference Caffe code's second softmax on p̂ (CE of softmax(p̂));
                      * 0 (default): the paper's −log p̂ */
} clfer_ltnet_params_t;

/* Fills transitions [C,L,L] on the host with the reference code's start: Xavier-uniform entries
 * (±sqrt(3/L)), negatives replaced by min_value, the diagonal set to `diag` (0 → 10), each row
 * divided by its sum; seeded. */
clfer_status clfer_ltnet_init(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, float diag, uint64_t seed,
                              clfer_tensor_t *transitions);
/* The projection before every forward pass: entries clamped to ≥ min_value, rows divided by their
 * sums, in place. clfer_loss_ltnet* call this first themselves. */
clfer_status clfer_ltnet_project(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, clfer_tensor_t *transitions);
/* Projects the transitions, then p = softmax(z), p̂^c = pᵀT^c and
 * L = (1/N) Σ_n Σ_{c: y_n^c ≠ −1} w_c · (−log p̂^c_{y^c}), samples without a label from coder c
 * skipped (labels outside [0, L) are skipped too). Gradients: out->grad w.r.t. z, and
 * dtransitions [C,L,L] (may be NULL) w.r.t. T — the plain gradient scaled by the weight, always
 * overwritten. The optimizer updates T like any parameter; the
 * projection at the next call keeps the rows on the simplex. */
clfer_status clfer_loss_ltnet(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, const clfer_tensor_t *logits,
                              const clfer_tensor_t *coder_labels, clfer_tensor_t *transitions,
                              clfer_tensor_t *dtransitions, clfer_tensor_t *grad, float *value);
clfer_status clfer_loss_ltnet_ex(clfer_runtime_t *rt, const clfer_ltnet_params_t *p, const clfer_tensor_t *logits,
                                 const clfer_tensor_t *coder_labels, clfer_tensor_t *transitions,
                                 clfer_tensor_t *dtransitions, const clfer_loss_out_t *out);

/* ---- combined objective ---------------------------------------------------------------------- */

typedef enum clfer_loss_kind {
  CLFER_LOSS_XENT = 0,   /* logits, targets */
  CLFER_LOSS_MULTILABEL, /* logits, targets */
  CLFER_LOSS_LOCALITY,   /* features, labels */
  CLFER_LOSS_CENTER,     /* features, labels, centres */
  CLFER_LOSS_LTNET,      /* logits, coder_labels, transitions */
} clfer_loss_kind;

/* One term of an objective. Only the members of its kind are read. */
typedef struct clfer_loss_term {
  clfer_loss_kind kind;
  float weight; /* 0 is taken as 1 */
  clfer_lp_params_t lp;           /* LOCALITY */
  int center_sum_over_batch;      /* CENTER: 0 (default) = divided by N, as Wen et al.'s Caffe layer */
  float center_alpha;             /* CENTER: centre learning rate (Wen et al. α), used when updating */
  clfer_tensor_t *centres;        /* CENTER: [K,D] */
  clfer_ltnet_params_t ltnet;     /* LTNET */
  clfer_tensor_t *transitions;    /* LTNET: [C,L,L] */
  clfer_tensor_t *dtransitions;   /* LTNET: gradient, or NULL */
} clfer_loss_term_t;

typedef struct clfer_loss_inputs {
  const clfer_tensor_t *logits;       /* [N,K] */
  const clfer_tensor_t *features;     /* [N,D] (the penultimate layer) */
  const clfer_tensor_t *targets;      /* [N,K] */
  const clfer_tensor_t *labels;       /* [N] */
  const clfer_tensor_t *coder_labels; /* [N,C] */
} clfer_loss_inputs_t;

/* Σ_terms weight·L_term into `value` (device scalar, may be NULL), the gradients into dlogits and
 * dfeatures (either may be NULL when no term needs it; a given one no term touches is zeroed).
 * With update_state, center-loss centres are updated after their gradient was taken (training). */
clfer_status clfer_objective(clfer_runtime_t *rt, const clfer_loss_term_t *terms, int n_terms,
                             const clfer_loss_inputs_t *in, clfer_tensor_t *dlogits, clfer_tensor_t *dfeatures,
                             clfer_tensor_t *value, int update_state);
/* "xent", "multilabel", "locality", "center", "ltnet" ↔ kind. */
const char *clfer_loss_kind_name(clfer_loss_kind kind);
clfer_status clfer_loss_kind_parse(const char *name, clfer_loss_kind *out);

#ifdef __cplusplus
}
#endif
#endif
