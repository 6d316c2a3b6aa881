/* gemm_tuning.h — per-device CLBlast GEMM parameters (internal). */
#ifndef CLFER_OPS_GEMM_TUNING_H
#define CLFER_OPS_GEMM_TUNING_H
#include "clfer/runtime.h"

/* Applies the tuning table's Xgemm parameters for the runtime's device, once per device and
 * process (CLBlast keeps overrides process-wide). Devices without an entry keep CLBlast's own
 * database; CLFER_GEMM_TUNING=0 turns the table off. Never fails: tuning is an optimisation. */
void clfer__gemm_tuning_apply(clfer_runtime_t *rt);

#endif
