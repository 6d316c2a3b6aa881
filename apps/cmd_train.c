/* cmd_train.c — `clfer train` (and `clfer profile`): runs a recipe and prints where its results
 * went; the loop itself lives in the library (src/train/train.c). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"
#include "clfer/train.h"
#include "commands.h"

static int run(int argc, char **argv, int profile_mode) {
  static const struct option longopts[] = {{"recipe", required_argument, 0, 'r'}, {"set", required_argument, 0, 's'},
                                           {"device", required_argument, 0, 'd'}, {"out", required_argument, 0, 'o'},
                                           {"resume", no_argument, 0, 'R'},       {"profile", no_argument, 0, 'p'},
                                           {"steps", required_argument, 0, 'n'},  {"quiet", no_argument, 0, 'q'},
                                           {"no-progress", no_argument, 0, 'P'},  {"schema", no_argument, 0, 'S'},
                                           {"check", no_argument, 0, 'c'},        {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  clfer_train_options_t o = {.progress = -1, .profile = profile_mode};
  const char **sets = calloc((size_t)argc + 1, sizeof *sets);
  int c, rc = 0;
  if (!sets) return 1;
  optind = 1;
  while ((c = getopt_long(argc, argv, "r:s:d:o:Rpn:qPSch", longopts, NULL)) != -1) {
    switch (c) {
      case 'r': o.recipe = optarg; break;
      case 's': sets[o.n_sets++] = optarg; break;
      case 'd': o.device = optarg; break;
      case 'o': o.out_dir = optarg; break;
      case 'R': o.resume = 1; break;
      case 'p': o.profile = 1; break;
      case 'n': o.max_steps = atol(optarg); break;
      case 'q': o.quiet = 1; break;
      case 'P': o.progress = 0; break;
      case 'c': o.check_only = 1; break;
      case 'S': clfer_recipe_print_schema(stdout); free(sets); return 0;
      case 'h':
        printf("usage: clfer %s --recipe R.ini [--set section.key=value ...] [--device D] [--out RUNDIR]\n"
               "                   [--resume] [--profile] [--steps N] [--quiet] [--no-progress] [--schema] [--check]\n\n"
               "Trains the recipe's model through its stages. RUNDIR (default runs/<recipe>) receives\n"
               "metrics.jsonl, confusion_valid|test.csv/.svg, curves.svg, recipe.resolved.ini,\n"
               "best.safetensors and last.safetensors (written every epoch; --resume continues from it).\n"
               "--profile records every kernel (profile.txt, trace.json for Perfetto); --steps stops\n"
               "after N training steps. --schema lists every recipe key. --check validates the recipe and\n"
               "builds each stage's model without reading data: model.from (ONNX or checkpoint) is opened\n"
               "and adapted when it exists, else the zoo model.name stands in for it (and it says so).\n",
               profile_mode ? "profile" : "train");
        free(sets);
        return 0;
      default: free(sets); return 2;
    }
  }
  if (optind < argc || !o.recipe) {
    fprintf(stderr, "clfer %s: %s (see --help)\n", profile_mode ? "profile" : "train",
            optind < argc ? "unexpected argument" : "--recipe is required");
    free(sets);
    return 2;
  }
  if (profile_mode && !o.max_steps) o.max_steps = 20;
  o.sets = sets;
  clfer_train_result_t res;
  if (o.check_only) {
    rc = clfer_train(&o, &res) ? clfer_app_fail("recipe check failed") : 0;
    if (!rc) printf("%s: ok\n", o.recipe);
  } else if (clfer_train(&o, &res)) {
    rc = clfer_app_fail("training failed");
  } else {
    printf("run: %s (%d epochs, %ld steps, %.0f img/s, data wait %.1f%%, pre-processing on the %s)\n", res.run_dir,
           res.epochs_run, res.steps, res.images_per_second, 100 * res.data_wait_share,
           res.preprocess_on_device ? "device" : "host");
    printf("%s epoch %d: valid accuracy %.2f%%, mean diagonal %.2f%%\n",
           res.selected_last ? "selected (last)" : "best validation", res.best_epoch, 100 * res.best_valid_accuracy,
           100 * res.best_valid_mean_diagonal);
    printf("test accuracy %.2f%%, mean diagonal %.2f%%\n", 100 * res.test_accuracy, 100 * res.test_mean_diagonal);
    printf("confusion plot: %s\ncheckpoint: %s\n", res.confusion_svg, res.best_checkpoint);
    if (o.profile) printf("profile: %s/profile.txt, trace: %s/trace.json\n", res.run_dir, res.run_dir);
  }
  free(sets);
  return rc;
}

int clfer_cmd_train(int argc, char **argv) { return run(argc, argv, 0); }
int clfer_cmd_profile(int argc, char **argv) { return run(argc, argv, 1); }
