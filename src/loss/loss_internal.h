/* loss_internal.h — helpers shared by the files of src/loss/: argument checks, the work-group
 * sizes passed to kernels/loss.cl, per-sample loss scratch and its reduction into the value, and
 * the host-value wrappers around the *_ex functions. Not installed. */
#ifndef CLFER_LOSS_INTERNAL_H
#define CLFER_LOSS_INTERNAL_H

#include "clfer/loss.h"

/* Fails with CLFER_INVALID_ARGUMENT unless t is a non-empty tensor; `op` and `what` name it. */
clfer_status clfer__loss_check(const clfer_tensor_t *t, const char *op, const char *what);
/* Splits t into rows (shape[0]) and columns (the rest). */
void clfer__loss_rows_cols(const clfer_tensor_t *t, int *rows, int *cols);
/* Checks the output description: present, an optional gradient with the input's element count
 * and rows, an optional non-empty value tensor. */
clfer_status clfer__loss_check_out(const clfer_loss_out_t *out, const clfer_tensor_t *input, const char *op);
/* "-DROW_WG=.. -DSUM_WG=.." fitted to the device, and those two sizes (either pointer may be NULL). */
const char *clfer__loss_options(clfer_runtime_t *rt, int *row_wg, int *sum_wg);
/* value[0] (=|+=) scale·Σ row_loss[0..N) when out->value is set. */
clfer_status clfer__loss_reduce(clfer_runtime_t *rt, const clfer_tensor_t *row_loss, int N, float scale,
                                const clfer_loss_out_t *out);
/* out->weight with 0 taken as 1. */
float clfer__loss_weight(const clfer_loss_out_t *out);

/* The simple forms: a device scalar for the value when `value` is wanted, then one read. */
typedef struct clfer__loss_host {
  clfer_tensor_t scalar;
  clfer_loss_out_t out;
} clfer__loss_host_t;
clfer_status clfer__loss_host_begin(clfer_runtime_t *rt, clfer_tensor_t *grad, float *value, clfer__loss_host_t *h);
clfer_status clfer__loss_host_end(clfer_status st, float *value, clfer__loss_host_t *h);

#endif
