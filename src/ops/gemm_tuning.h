/* gemm_tuning.h — per-device CLBlast GEMM settings (internal). */
#ifndef CLFER_OPS_GEMM_TUNING_H
#define CLFER_OPS_GEMM_TUNING_H
#include "clfer/runtime.h"

/* Brackets every CLBlast GEMM call (its temporary-size queries included). The first call on a
 * device applies the tuning table's Xgemm parameters (once per device and process: CLBlast keeps
 * overrides process-wide); devices without an entry keep CLBlast's own database, and
 * CLFER_GEMM_TUNING=0 turns the table off. An entry may also choose CLBlast's direct or indirect
 * kernel for this product (gemm_tuning.c). Holds a lock until clfer__gemm_end, so that the
 * choice cannot change under the call. Never fails: tuning is an optimisation. */
void clfer__gemm_begin(clfer_runtime_t *rt, size_t m, size_t n, size_t k);
void clfer__gemm_end(void);

#endif
