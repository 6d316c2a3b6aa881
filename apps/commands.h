/* commands.h — the subcommands of the `clfer` program; each lives in apps/cmd_<name>.c and
 * returns the process exit code (0 success, 1 failure, 2 usage error). */
#ifndef CLFER_APPS_COMMANDS_H
#define CLFER_APPS_COMMANDS_H

#include <stdio.h>

#include "clfer/infer.h"

typedef struct clfer_command {
  const char *name;
  int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
  const char *summary;
} clfer_command_t;

int clfer_cmd_devices(int argc, char **argv);
int clfer_cmd_selftest(int argc, char **argv);
int clfer_cmd_models(int argc, char **argv);
int clfer_cmd_train(int argc, char **argv);
int clfer_cmd_profile(int argc, char **argv);
int clfer_cmd_synth(int argc, char **argv);
int clfer_cmd_labels(int argc, char **argv);
int clfer_cmd_eval(int argc, char **argv);
int clfer_cmd_predict(int argc, char **argv);
int clfer_cmd_features(int argc, char **argv);
int clfer_cmd_svm(int argc, char **argv);
int clfer_cmd_import(int argc, char **argv);
int clfer_cmd_export(int argc, char **argv);

/* Prints "clfer: <message>" with the library's last error to stderr and returns 1. */
int clfer_app_fail(const char *what);
/* Prints accuracy, mean diagonal, per-class precision/recall and the confusion matrix. */
struct clfer_confusion;
struct clfer_scores;
void clfer_app_print_scores(const struct clfer_confusion *c, const struct clfer_scores *s);
/* mkdir -p; 0 on success, else -1 with the library's error message set. */
int clfer_app_mkdir_p(const char *dir);
/* Writes a CSV field, quoted (RFC 4180) when it holds a separator, quote or newline. */
void clfer_app_csv_field(FILE *f, const char *s);
/* The dataset options `clfer eval` and `clfer features` share. */
typedef struct clfer_app_data {
  const char *data, *format, *split_name, *labels; /* --data --format --split --labels */
  int split_given, batch;                          /* --split seen; --batch */
  int majority, split;                             /* set by clfer_app_data_check (split −1: all) */
} clfer_app_data_t;
/* Takes one of the dataset options (getopt's c: 'D' --data, 'f' --format, 's' --split, 'l' --labels,
 * 'b' --batch) into d; 0 when c is none of them. */
int clfer_app_data_option(clfer_app_data_t *d, int c, const char *arg);
/* Checks --labels, --split (folders and CK+, which have no splits, default to all samples) and
 * --batch; 0, or 2 after a message naming `cmd`. */
int clfer_app_data_check(const char *cmd, clfer_app_data_t *d);
/* Reads the dataset for the model and picks the labelled samples of the split: *store, *truth
 * (the evaluation label of every sample) and ids[*n]. 0, or 1 after a message. */
int clfer_app_data_select(const char *cmd, const clfer_app_data_t *d, clfer_model_t *model, clfer_store_t **store,
                          int **truth, int **ids, int *n);
/* Loads a checkpoint and applies --preprocess (NULL: the checkpoint's own); 0, or 1 after a
 * message with nothing left to free. */
int clfer_app_load_model(clfer_runtime_t *rt, const char *path, const char *preprocess, clfer_model_t **out);
/* True when argv[i] is -h or --help. */
int clfer_app_is_help(const char *arg);

#endif
