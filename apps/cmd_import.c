/* cmd_import.c — `clfer import MODEL.onnx --out MODEL.safetensors`: converts an ONNX model (ImageNet
 * weights from the ONNX model zoo, torchvision, timm) into a clfer checkpoint whose "clfer.graph"
 * rebuilds the network, so recipes and `clfer export` can start from it. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"
#include "clfer/onnx.h"
#include "commands.h"

/* Replaces *net by its adapted copy (new head, gray input). */
static int adapt_net(clfer_net_t **net, const clfer_net_adapt_options_t *o, int *fresh) {
  clfer_net_t *adapted;
  if (clfer_net_adapt(*net, o, &adapted, fresh)) return clfer_app_fail("cannot adapt the model");
  clfer_net_destroy(*net);
  *net = adapted;
  return 0;
}

int clfer_cmd_import(int argc, char **argv) {
  static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                           {"input", required_argument, 0, 'i'},
                                           {"keep-softmax", no_argument, 0, 's'},
                                           {"print", no_argument, 0, 'p'},
                                           {"classes", required_argument, 0, 'k'},
                                           {"gray", no_argument, 0, 'g'},
                                           {"seed", required_argument, 0, 'S'},
                                           {"device", required_argument, 0, 'd'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  const char *out = NULL, *device = NULL;
  int c, print = 0;
  clfer_onnx_import_options_t opt = {0};
  clfer_net_adapt_options_t adapt = {.init = CLFER_INIT_PYTORCH, .seed = 1};
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:i:spk:gS:d:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 'i':
        if (sscanf(optarg, "%dx%dx%d", &opt.channels, &opt.height, &opt.width) != 3 || opt.channels <= 0 ||
            opt.height <= 0 || opt.width <= 0) {
          fprintf(stderr, "clfer import: --input wants CxHxW, e.g. 3x224x224\n");
          return 2;
        }
        break;
      case 's': opt.keep_softmax = 1; break;
      case 'p': print = 1; break;
      case 'k':
        if ((adapt.classes = atoi(optarg)) <= 0) {
          fprintf(stderr, "clfer import: --classes wants a positive count\n");
          return 2;
        }
        break;
      case 'g': adapt.channels = 1; break;
      case 'S': adapt.seed = strtoull(optarg, NULL, 10); break;
      case 'd': device = optarg; break;
      case 'h':
        printf("usage: clfer import MODEL.onnx --out MODEL.safetensors [--input CxHxW] [--keep-softmax] [--print]\n"
               "                    [--classes K] [--gray] [--seed S] [--device D]\n\n"
               "Converts an ONNX model into a clfer checkpoint (weights + the layer description that\n"
               "rebuilds it). --input sets a symbolic or different input size; a final Softmax is dropped\n"
               "(the output is logits) unless --keep-softmax; --print lists the layers. For fine-tuning:\n"
               "--classes K puts a new head of K classes (PyTorch's default init, seeded by --seed), --gray\n"
               "takes 1-channel input by summing the first convolution's RGB filters. docs/onnx.md lists the\n"
               "supported operators.\n");
        return 0;
      default: return 2;
    }
  }
  if (optind + 1 != argc || !out) {
    fprintf(stderr, "clfer import: needs one MODEL.onnx and --out FILE (see --help)\n");
    return 2;
  }
  clfer_runtime_t *rt;
  clfer_runtime_options_t ro = {.device = device};
  if (clfer_runtime_create(&ro, &rt)) return clfer_app_fail("cannot open a device");
  clfer_net_t *net = NULL;
  int rc = 0;
  int fresh = 0;
  if (clfer_onnx_import(rt, argv[optind], &opt, &net)) {
    rc = clfer_app_fail("import failed");
  } else if ((adapt.classes || adapt.channels) && (rc = adapt_net(&net, &adapt, &fresh))) {
    /* reported */
  } else {
    clfer_meta_t meta = {0};
    clfer_meta_set(&meta, "clfer.source", argv[optind]);
    if (print) clfer_net_print(net, stdout);
    if (clfer_net_save(net, out, &meta, NULL, 0)) {
      rc = clfer_app_fail("cannot write the checkpoint");
    } else {
      int in[3];
      clfer_net_input_shape(net, in);
      printf("imported %s: %d layers, %zu parameters, input %dx%dx%d%s -> %s\n", argv[optind],
             clfer_net_node_count(net) - 1, clfer_net_param_scalars(net), in[0], in[1], in[2],
             fresh ? " (new head initialised)" : "", out);
    }
    clfer_meta_free(&meta);
  }
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
  return rc;
}
