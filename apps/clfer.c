/* clfer.c — the command-line program: dispatches subcommands from one table. */
#include <stdio.h>
#include <string.h>

#include "clfer.h"
#include "commands.h"

static const clfer_command_t commands[] = {
    {"devices", clfer_cmd_devices, "list OpenCL devices and which one `auto` picks"},
    {"selftest", clfer_cmd_selftest, "run kernels and CLBlast SGEMM on a device against C references"},
    {"models", clfer_cmd_models, "list the model zoo with parameter counts and FLOPs"},
    {"train", clfer_cmd_train, "train a recipe (apps/recipes/*.ini) and evaluate it"},
    {"profile", clfer_cmd_profile, "run a few training steps of a recipe with every kernel timed"},
    {"eval", clfer_cmd_eval, "evaluate a checkpoint on a dataset split (accuracy, mean diagonal, confusion)"},
    {"predict", clfer_cmd_predict, "class probabilities of PNG/JPEG images (one model or an ensemble)"},
    {"features", clfer_cmd_features, "write a layer's deep features in libsvm format"},
    {"svm", clfer_cmd_svm, "train and test a libsvm SVM on deep features (RAF-DB protocol)"},
    {"synth", clfer_cmd_synth, "render the built-in FER+-like dataset (faces + crowd votes)"},
    {"labels", clfer_cmd_labels, "crowd votes to targets: FER+ schemes, RAF-DB EM, Dawid-Skene"},
    {"import", clfer_cmd_import, "convert an ONNX model (ImageNet weights) into a clfer checkpoint"},
    {"export", clfer_cmd_export, "write a checkpoint's model as ONNX for onnxruntime"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: clfer <command> [options]\n\n"
          "Trains and runs facial-expression recognition networks with OpenCL.\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\n`clfer <command> --help` describes a command's options.\n"
          "Environment: CLFER_DEVICE (device selector), CLFER_NO_CACHE=1 (no program cache),\n"
          "CLFER_KERNEL_DIR (load kernels/*.cl from a directory), CLFER_PROFILE=1.\n");
}

int clfer_app_fail(const char *what) {
  const char *msg = clfer_last_error();
  fprintf(stderr, "clfer: %s%s%s\n", what, *msg ? ": " : "", msg);
  return 1;
}

int clfer_app_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (clfer_app_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("clfer 0.1.0\n");
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "clfer: unknown command '%s' (see `clfer --help`)\n", argv[1]);
  return 2;
}
