/* cmd_models.c — `clfer models`: the zoo with default input, parameter counts and FLOPs per
 * image; `clfer models NAME` prints that model's layers. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"
#include "commands.h"

int clfer_cmd_models(int argc, char **argv) {
  static const struct option longopts[] = {{"device", required_argument, 0, 'd'},
                                           {"input", required_argument, 0, 'i'},
                                           {"classes", required_argument, 0, 'k'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  const char *device = NULL;
  int c, channels = 0, height = 0, width = 0, classes = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:i:k:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': device = optarg; break;
      case 'i':
        if (sscanf(optarg, "%dx%dx%d", &channels, &height, &width) != 3) {
          fprintf(stderr, "clfer models: --input wants CxHxW, e.g. 1x64x64\n");
          return 2;
        }
        break;
      case 'k': classes = atoi(optarg); break;
      case 'h':
        printf("usage: clfer models [NAME] [--input CxHxW] [--classes K] [--device D]\n\n"
               "Lists the model zoo with parameter counts and forward GFLOPs per image at the default\n"
               "(or given) input size; with NAME, prints that model's layers.\n");
        return 0;
      default: return 2;
    }
  }
  const char *only = optind < argc ? argv[optind] : NULL;
  if (optind + 1 < argc) {
    fprintf(stderr, "clfer models: unexpected argument '%s'\n", argv[optind + 1]);
    return 2;
  }
  clfer_runtime_t *rt;
  clfer_runtime_options_t opt = {.device = device};
  if (clfer_runtime_create(&opt, &rt)) return clfer_app_fail("cannot open a device");
  int rc = 0;
  if (!only) printf("%-16s %-14s %7s %12s %10s  %s\n", "model", "input", "classes", "parameters", "GFLOP/img", "description");
  for (const clfer_zoo_entry_t *e = clfer_zoo_list(); e->name; e++) {
    if (only && strcmp(only, e->name) != 0) continue;
    clfer_net_t *net;
    if (clfer_zoo_build(rt, e->name, channels, height, width, classes, &net)) {
      rc = clfer_app_fail(e->name);
      break;
    }
    int in[3];
    clfer_net_input_shape(net, in);
    char input[32];
    snprintf(input, sizeof input, "%dx%dx%d", in[0], in[1], in[2]);
    if (only)
      clfer_net_print(net, stdout);
    else
      printf("%-16s %-14s %7d %12zu %10.3f  %s\n", e->name, input, classes ? classes : e->default_classes,
             clfer_net_param_scalars(net), clfer_net_flops(net) * 1e-9, e->description);
    clfer_net_destroy(net);
    clfer_pool_trim(rt);
  }
  if (only && rc == 0) {
    int known = 0;
    for (const clfer_zoo_entry_t *e = clfer_zoo_list(); e->name; e++) known |= strcmp(e->name, only) == 0;
    if (!known) {
      fprintf(stderr, "clfer models: no model '%s' (run `clfer models` for the list)\n", only);
      rc = 1;
    }
  }
  clfer_runtime_destroy(rt);
  return rc;
}
