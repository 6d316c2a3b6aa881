/* cmd_synth.c — `clfer synth`: renders the built-in FER+-like dataset of procedurally drawn faces
 * with simulated crowd votes into a directory, in the real FER2013 / FER+ formats. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clfer.h"
#include "clfer/synth.h"
#include "commands.h"

static int parse_count(const char *what, const char *text, int *out) {
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (!*text || *end || v < 0 || v > 10000000) {
    fprintf(stderr, "clfer synth: %s '%s' is not a count 0..10000000\n", what, text);
    return 0;
  }
  *out = (int)v;
  return 1;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: clfer synth --out DIR [--seed S] [--train N --valid N --test N]\n"
          "                   [--ferplus-folders] [--ipa2lt] [--annotator-votes] [--sheet FILE.png]\n\n"
          "Renders 48x48 gray faces of the 8 FER+ emotions with 10 simulated crowd votes each and writes\n"
          "DIR/fer2013.csv and DIR/fer2013new.csv (rows aligned; Training/PublicTest/PrivateTest).\n"
          "The same seed gives the same bytes.\n\n"
          "  --out DIR            output directory (created)\n"
          "  --seed S             random seed (default 1)\n"
          "  --train/--valid/--test N   rows per split (default 4000/500/500)\n"
          "  --ferplus-folders    also DIR/FER2013Train|Valid|Test/label.csv + PNGs\n"
          "  --ipa2lt             also DIR/ipa2lt/: two biased labelled sets, an unlabelled pool,\n"
          "                       a test set and the hidden true labels (truth.csv)\n"
          "  --annotator-votes    also DIR/annotator_votes.csv (image,annotator,label)\n"
          "  --sheet FILE.png     also an 8x8 contact sheet (one row per emotion)\n");
}

int clfer_cmd_synth(int argc, char **argv) {
  enum { O_TRAIN = 256, O_VALID, O_TEST, O_FOLDERS, O_IPA, O_VOTES, O_SHEET };
  static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                            {"seed", required_argument, 0, 's'},
                                            {"train", required_argument, 0, O_TRAIN},
                                            {"valid", required_argument, 0, O_VALID},
                                            {"test", required_argument, 0, O_TEST},
                                            {"ferplus-folders", no_argument, 0, O_FOLDERS},
                                            {"ipa2lt", no_argument, 0, O_IPA},
                                            {"annotator-votes", no_argument, 0, O_VOTES},
                                            {"sheet", required_argument, 0, O_SHEET},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
  clfer_synth_options_t opt = clfer_synth_options_default();
  const char *out = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:s:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 's': {
        char *end = NULL;
        unsigned long long v = strtoull(optarg, &end, 10);
        if (!*optarg || *end || optarg[0] == '-') {
          fprintf(stderr, "clfer synth: --seed '%s' is not a non-negative integer\n", optarg);
          return 2;
        }
        opt.seed = (uint64_t)v;
        break;
      }
      case O_TRAIN: if (!parse_count("--train", optarg, &opt.n_train)) return 2; break;
      case O_VALID: if (!parse_count("--valid", optarg, &opt.n_valid)) return 2; break;
      case O_TEST: if (!parse_count("--test", optarg, &opt.n_test)) return 2; break;
      case O_FOLDERS: opt.ferplus_folders = 1; break;
      case O_IPA: opt.ipa2lt = 1; break;
      case O_VOTES: opt.annotator_votes = 1; break;
      case O_SHEET: opt.contact_sheet = optarg; break;
      case 'h': usage(stdout); return 0;
      default: return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "clfer synth: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (!out) {
    fprintf(stderr, "clfer synth: --out DIR is required (see `clfer synth --help`)\n");
    return 2;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (clfer_synth_run(&opt, out)) return clfer_app_fail("synth");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("synth: %d/%d/%d rows (seed %llu) written to %s in %.2f s\n", opt.n_train, opt.n_valid, opt.n_test,
         (unsigned long long)opt.seed, out, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
  return 0;
}
