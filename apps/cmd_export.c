/* cmd_export.c — `clfer export CKPT --out MODEL.onnx`: writes a trained clfer model (any checkpoint:
 * zoo models are rebuilt by name, imported ones from "clfer.graph") as ONNX for onnxruntime. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"
#include "clfer/onnx.h"
#include "commands.h"

int clfer_cmd_export(int argc, char **argv) {
  static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                           {"device", required_argument, 0, 'd'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  const char *out = NULL, *device = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:d:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 'd': device = optarg; break;
      case 'h':
        printf("usage: clfer export CKPT.safetensors --out MODEL.onnx [--device D]\n\n"
               "Writes the checkpoint's model as ONNX (opset 13, eval mode, batch dimension N, input\n"
               "\"input\", output \"output\"). An .onnx CKPT is re-exported through clfer.\n");
        return 0;
      default: return 2;
    }
  }
  if (optind + 1 != argc || !out) {
    fprintf(stderr, "clfer export: needs one CKPT and --out MODEL.onnx (see --help)\n");
    return 2;
  }
  clfer_runtime_t *rt;
  clfer_runtime_options_t ro = {.device = device};
  if (clfer_runtime_create(&ro, &rt)) return clfer_app_fail("cannot open a device");
  clfer_net_t *net = NULL;
  int rc = 0;
  if (clfer_net_open(rt, argv[optind], NULL, &net))
    rc = clfer_app_fail("cannot load the model");
  else if (clfer_onnx_export(net, out))
    rc = clfer_app_fail("export failed");
  else
    printf("exported %s (%s, %zu parameters) -> %s\n", argv[optind], clfer_net_name(net), clfer_net_param_scalars(net),
           out);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
  return rc;
}
