/* clfer.h — the whole public API of libclfer: include this, or the per-area headers. */
#ifndef CLFER_H
#define CLFER_H
#include "clfer/status.h"
#include "clfer/runtime.h"
#include "clfer/tensor.h"
#include "clfer/ops.h"
#include "clfer/nn.h"
#include "clfer/loss.h"
#include "clfer/optim.h"
#include "clfer/recipe.h"
#include "clfer/metrics.h"
#include "clfer/train.h"
#include "clfer/data.h"
#include "clfer/labels.h"
#include "clfer/augment.h"
#include "clfer/batch.h"
#include "clfer/synth.h"
#include "clfer/dataset.h"
#include "clfer/infer.h"
#include "clfer/onnx.h"
#endif
