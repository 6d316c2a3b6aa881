/* fuzz_onnx.c — libFuzzer target for the ONNX reader: protobuf-c's unpacking plus clfer's checks and
 * conversion to a layer description and host weights (onnx_convert.c; no OpenCL). Seeds: the
 * files in tests/fixtures/onnx. Any input must either convert or fail with a message. */
#include <stdint.h>
#include <stdlib.h>

#include "io/onnx_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clfer__onnx_graph_t g;
  clfer_onnx_import_options_t opt = {0};
  opt.keep_softmax = size & 1; /* both ways of ending a graph */
  if (clfer__onnx_convert(data, size, "fuzz.onnx", &opt, &g) == CLFER_OK) {
    if (!g.layers_json || g.n_weights < 0) abort();
    clfer__onnx_graph_free(&g);
  } else if (!clfer_last_error()[0]) {
    abort(); /* a failure must say why */
  }
  return 0;
}
