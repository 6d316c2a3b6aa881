/* cmd_labels.c — `clfer labels`: FER+ vote files to per-sample target distributions (the four
 * schemes of the FER+ paper), and per-annotator labels to an estimated truth with RAF-DB's EM
 * annotator reliability or Dawid–Skene EM. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/data.h"
#include "clfer/labels.h"
#include "clfer/status.h"
#include "commands.h"

static void usage_main(FILE *o) {
  fprintf(o, "usage: clfer labels <ferplus|em|dawid-skene> [options]\n\n"
             "  ferplus       FER+ vote counts (fer2013new.csv) to target distributions\n"
             "  em            RAF-DB EM annotator reliability (Li et al., Algorithm 1)\n"
             "  dawid-skene   Dawid-Skene EM: per-annotator confusion matrices\n\n"
             "`clfer labels <sub> --help` describes each.\n");
}

static void usage_ferplus(FILE *o) {
  fprintf(o, "usage: clfer labels ferplus --mode MODE --in fer2013new.csv --out targets.csv\n\n"
             "Processes FER+ vote counts exactly as the FER+ reference code (see docs/labels.md):\n"
             "  --mode MODE   majority | probability | crossentropy | multi_target\n"
             "  --in FILE     FER+ votes (header Usage,Image name,neutral,...,unknown,NF)\n"
             "  --out FILE    CSV: Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt\n"
             "                one row per kept sample in input order, 6 decimals; dropped rows omitted\n"
             "A summary (kept / dropped per split and reason) goes to stderr.\n");
}

static void usage_em(FILE *o, const char *sub) {
  fprintf(o,
          "usage: clfer labels %s --in votes.csv --out truth.csv [options]\n\n"
          "  --in FILE          CSV image,annotator,label (optional header row); label = a class name\n"
          "                     (synonyms accepted) or a 0-based index into the class list\n"
          "  --out FILE         the estimated truth per image\n"
          "  --annotators FILE  per-annotator %s (default: OUT with .csv replaced by _annotators.csv)\n"
          "  --classes LIST     comma-separated class list (default: RAF-DB basic order\n"
          "                     surprise,fear,disgust,happiness,sadness,anger,neutral)\n"
          "  --max-iter N       EM iterations (default 100)\n"
          "  --tol X            stop when no posterior changes more than X (default 1e-6)\n",
          sub, strcmp(sub, "em") ? "confusion matrices (one row per true class)" : "reliability alpha");
  if (!strcmp(sub, "em"))
    fprintf(o, "  --prior X          precision of the N(1, 1/X) priors on alpha and beta (default 0.01; -1 none)\n\n"
               "OUT columns: image,truth,single_label,<classes>: truth = the posterior's argmax, the class\n"
               "columns the ground-truth vector g_k = sum_i alpha_i [t_ij = k] normalised to sum 1,\n"
               "single_label = the one label with g_k above the mean (empty when not exactly one).\n");
  else
    fprintf(o, "  --smoothing X      pseudo-count added to every confusion cell (default 0.01)\n\n"
               "OUT columns: image,truth,<classes> (the posterior). Class priors go to stderr.\n");
}

static const char *usage_name(int split) {
  static const char *const names[] = {"Training", "PublicTest", "PrivateTest"};
  return split >= 0 && split < 3 ? names[split] : "?";
}

static int finish_file(FILE *f, const char *path) {
  if (ferror(f) | fclose(f)) {
    fprintf(stderr, "clfer labels: write error on %s\n", path);
    return 1;
  }
  return 0;
}

static int cmd_ferplus(int argc, char **argv) {
  static const struct option longopts[] = {{"mode", required_argument, 0, 'm'},
                                           {"in", required_argument, 0, 'i'},
                                           {"out", required_argument, 0, 'o'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  const char *mode_s = NULL, *in = NULL, *outp = NULL;
  int c;
  optind = 1;
  opterr = 1;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
      case 'm': mode_s = optarg; break;
      case 'i': in = optarg; break;
      case 'o': outp = optarg; break;
      case 'h': usage_ferplus(stdout); return 0;
      default: usage_ferplus(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "clfer labels ferplus: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (!mode_s || !in || !outp) {
    fprintf(stderr, "clfer labels ferplus: --mode, --in and --out are required\n");
    usage_ferplus(stderr);
    return 2;
  }
  clfer_ferplus_mode_t mode;
  if (clfer_ferplus_mode_parse(mode_s, &mode)) {
    fprintf(stderr, "clfer labels ferplus: %s\n", clfer_last_error());
    return 2;
  }
  int no_name[CLFER_SPLIT_COUNT];
  clfer_store_t *s = NULL;
  if (clfer_read_ferplus_votes(in, no_name, &s)) return clfer_app_fail("cannot read the FER+ votes");
  FILE *f = fopen(outp, "w");
  if (!f) {
    clfer_store_destroy(s);
    fprintf(stderr, "clfer labels: cannot create %s\n", outp);
    return 1;
  }
  fprintf(f, "Usage,Image name");
  for (int k = 0; k < CLFER_FERPLUS_EMOTIONS; k++) fprintf(f, ",%s", clfer_classes_ferplus[k]);
  fputc('\n', f);
  int count[CLFER_SPLIT_COUNT][CLFER_FERPLUS_OUTCOMES] = {{0}};
  for (int i = 0; i < s->n; i++) {
    float dist[CLFER_FERPLUS_EMOTIONS];
    clfer_ferplus_outcome_t o = clfer_ferplus_process(s->votes + (size_t)i * s->vote_width, mode, dist);
    count[s->split[i]][o]++;
    if (o != CLFER_FERPLUS_KEEP) continue;
    fprintf(f, "%s,", usage_name(s->split[i]));
    clfer_app_csv_field(f, s->names[i]);
    for (int k = 0; k < CLFER_FERPLUS_EMOTIONS; k++) fprintf(f, ",%.6f", dist[k]);
    fputc('\n', f);
  }
  for (int sp = 0; sp < CLFER_SPLIT_COUNT; sp++) count[sp][CLFER_FERPLUS_DROP_NO_NAME] = no_name[sp];
  clfer_store_destroy(s);
  if (finish_file(f, outp)) return 1;
  fprintf(stderr, "clfer labels ferplus (%s): %-6s %7s %10s %10s %8s %9s\n", clfer_ferplus_mode_name(mode), "split",
          "kept", "unresolved", "unknown", "not_face", "no_name");
  int tot[CLFER_FERPLUS_OUTCOMES] = {0};
  for (int sp = 0; sp < CLFER_SPLIT_COUNT; sp++) {
    fprintf(stderr, "  %-12s %7d %10d %10d %8d %9d\n", usage_name(sp), count[sp][0], count[sp][1], count[sp][2],
            count[sp][3], count[sp][4]);
    for (int o = 0; o < CLFER_FERPLUS_OUTCOMES; o++) tot[o] += count[sp][o];
  }
  fprintf(stderr, "  %-12s %7d %10d %10d %8d %9d\n", "total", tot[0], tot[1], tot[2], tot[3], tot[4]);
  return 0;
}

/* Splits "a,b,c" into malloc'd strings; *n set. NULL on out of memory. */
static char **split_list(const char *text, int *n) {
  int cap = 1;
  for (const char *p = text; *p; p++) cap += *p == ',';
  char **v = calloc((size_t)cap, sizeof(char *));
  if (!v) return NULL;
  int k = 0;
  const char *p = text;
  for (;;) {
    const char *q = strchr(p, ',');
    size_t L = q ? (size_t)(q - p) : strlen(p);
    if (L) {
      if (!(v[k] = malloc(L + 1))) break;
      memcpy(v[k], p, L);
      v[k++][L] = '\0';
    }
    if (!q) break;
    p = q + 1;
  }
  *n = k;
  return v;
}

static void free_split(char **v, int n) {
  if (!v) return;
  for (int i = 0; i < n; i++) free(v[i]);
  free(v);
}

static int cmd_em(int argc, char **argv, int dawid_skene) {
  const char *sub = dawid_skene ? "dawid-skene" : "em";
  static const struct option longopts[] = {{"in", required_argument, 0, 'i'},
                                           {"out", required_argument, 0, 'o'},
                                           {"annotators", required_argument, 0, 'a'},
                                           {"classes", required_argument, 0, 'c'},
                                           {"max-iter", required_argument, 0, 'n'},
                                           {"tol", required_argument, 0, 't'},
                                           {"prior", required_argument, 0, 'p'},
                                           {"smoothing", required_argument, 0, 's'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  const char *in = NULL, *outp = NULL, *annp = NULL, *classes = NULL;
  clfer_em_options_t eo = {0};
  int c;
  optind = 1;
  opterr = 1;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    char *end = NULL;
    switch (c) {
      case 'i': in = optarg; break;
      case 'o': outp = optarg; break;
      case 'a': annp = optarg; break;
      case 'c': classes = optarg; break;
      case 'n':
        eo.max_iterations = (int)strtol(optarg, &end, 10);
        if (*end || eo.max_iterations < 1) goto bad_value;
        break;
      case 't':
        eo.tolerance = strtod(optarg, &end);
        if (*end || !(eo.tolerance > 0)) goto bad_value;
        break;
      case 'p':
        if (dawid_skene) goto wrong_option;
        eo.prior = strtod(optarg, &end);
        if (*end) goto bad_value;
        break;
      case 's':
        if (!dawid_skene) goto wrong_option;
        eo.smoothing = strtod(optarg, &end);
        if (*end || !(eo.smoothing > 0)) goto bad_value;
        break;
      case 'h': usage_em(stdout, sub); return 0;
      default: usage_em(stderr, sub); return 2;
    }
    continue;
  bad_value:
    fprintf(stderr, "clfer labels %s: invalid value '%s'\n", sub, optarg);
    return 2;
  wrong_option:
    fprintf(stderr, "clfer labels %s: option '%s' does not apply to %s\n", sub, argv[optind - 1], sub);
    return 2;
  }
  if (optind < argc) {
    fprintf(stderr, "clfer labels %s: unexpected argument '%s'\n", sub, argv[optind]);
    return 2;
  }
  if (!in || !outp) {
    fprintf(stderr, "clfer labels %s: --in and --out are required\n", sub);
    usage_em(stderr, sub);
    return 2;
  }
  int ncls = 7;
  char **cls = NULL;
  const char *const *names = clfer_classes_rafdb;
  if (classes) {
    if (!(cls = split_list(classes, &ncls)) || ncls < 2) {
      free_split(cls, cls ? ncls : 0);
      fprintf(stderr, "clfer labels %s: --classes needs at least two names\n", sub);
      return 2;
    }
    names = (const char *const *)cls;
  }
  char *annbuf = NULL;
  if (!annp) {
    size_t L = strlen(outp);
    annbuf = malloc(L + 32);
    if (!annbuf) return 1;
    strcpy(annbuf, outp);
    if (L > 4 && !strcmp(annbuf + L - 4, ".csv")) annbuf[L - 4] = '\0';
    strcat(annbuf, "_annotators.csv");
    annp = annbuf;
  }
  int rc = 1;
  clfer_annotations_t *a = NULL;
  clfer_em_result_t *em = NULL;
  clfer_ds_result_t *ds = NULL;
  FILE *f = NULL, *fa = NULL;
  if (clfer_annotations_read_csv(in, names, ncls, &a)) {
    rc = clfer_app_fail("cannot read the labels");
    goto done;
  }
  if (dawid_skene ? clfer_dawid_skene(a, &eo, &ds) : clfer_em_reliability(a, &eo, &em)) {
    rc = clfer_app_fail("EM failed");
    goto done;
  }
  const int k = a->num_classes;
  if (!(f = fopen(outp, "w")) || !(fa = fopen(annp, "w"))) {
    fprintf(stderr, "clfer labels %s: cannot create %s\n", sub, f ? annp : outp);
    goto done;
  }
  fprintf(f, dawid_skene ? "image,truth" : "image,truth,single_label");
  for (int c2 = 0; c2 < k; c2++) {
    fputc(',', f);
    clfer_app_csv_field(f, a->class_names[c2]);
  }
  fputc('\n', f);
  for (int j = 0; j < a->num_items; j++) {
    clfer_app_csv_field(f, a->item_names[j]);
    fputc(',', f);
    clfer_app_csv_field(f, a->class_names[dawid_skene ? ds->label[j] : em->label[j]]);
    if (dawid_skene) {
      for (int c2 = 0; c2 < k; c2++) fprintf(f, ",%.6f", ds->posterior[(size_t)j * k + c2]);
    } else {
      fputc(',', f);
      if (em->single[j] >= 0) clfer_app_csv_field(f, a->class_names[em->single[j]]);
      double s = 0;
      for (int c2 = 0; c2 < k; c2++) s += em->truth[(size_t)j * k + c2];
      for (int c2 = 0; c2 < k; c2++) fprintf(f, ",%.6f", s > 0 ? em->truth[(size_t)j * k + c2] / s : 0.0);
    }
    fputc('\n', f);
  }
  if (dawid_skene) {
    fprintf(fa, "annotator,truth");
    for (int c2 = 0; c2 < k; c2++) {
      fputc(',', fa);
      clfer_app_csv_field(fa, a->class_names[c2]);
    }
    fputc('\n', fa);
    for (int i = 0; i < a->num_annotators; i++)
      for (int t = 0; t < k; t++) {
        clfer_app_csv_field(fa, a->annotator_names[i]);
        fputc(',', fa);
        clfer_app_csv_field(fa, a->class_names[t]);
        for (int c2 = 0; c2 < k; c2++) fprintf(fa, ",%.6f", ds->confusion[((size_t)i * k + t) * k + c2]);
        fputc('\n', fa);
      }
  } else {
    int *count = calloc((size_t)a->num_annotators, sizeof(int));
    if (!count) goto done;
    for (int l = 0; l < a->num_labels; l++) count[a->annotator[l]]++;
    fprintf(fa, "annotator,reliability,labels\n");
    for (int i = 0; i < a->num_annotators; i++) {
      clfer_app_csv_field(fa, a->annotator_names[i]);
      fprintf(fa, ",%.6f,%d\n", em->alpha[i], count[i]);
    }
    free(count);
  }
  int e1 = finish_file(f, outp), e2 = finish_file(fa, annp);
  f = fa = NULL;
  if (e1 || e2) goto done;
  fprintf(stderr, "clfer labels %s: %d images, %d annotators, %d labels, %d classes; %d iterations, log-likelihood %.4f\n",
          sub, a->num_items, a->num_annotators, a->num_labels, k, dawid_skene ? ds->iterations : em->iterations,
          dawid_skene ? ds->log_likelihood : em->log_likelihood);
  if (dawid_skene) {
    fprintf(stderr, "  class priors:");
    for (int c2 = 0; c2 < k; c2++) fprintf(stderr, " %s %.4f", a->class_names[c2], ds->prior[c2]);
    fputc('\n', stderr);
  } else {
    int single = 0;
    for (int j = 0; j < a->num_items; j++) single += em->single[j] >= 0;
    fprintf(stderr, "  single-label subset: %d of %d images\n", single, a->num_items);
  }
  fprintf(stderr, "  wrote %s and %s\n", outp, annp);
  rc = 0;
done:
  if (f) fclose(f);
  if (fa) fclose(fa);
  clfer_em_result_destroy(em);
  clfer_ds_result_destroy(ds);
  clfer_annotations_destroy(a);
  free_split(cls, ncls);
  free(annbuf);
  return rc;
}

int clfer_cmd_labels(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return 2;
  }
  if (clfer_app_is_help(argv[1])) {
    usage_main(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "ferplus")) return cmd_ferplus(argc - 1, argv + 1);
  if (!strcmp(argv[1], "em")) return cmd_em(argc - 1, argv + 1, 0);
  if (!strcmp(argv[1], "dawid-skene")) return cmd_em(argc - 1, argv + 1, 1);
  fprintf(stderr, "clfer labels: unknown mode '%s' (ferplus, em, dawid-skene)\n", argv[1]);
  return 2;
}
