/* commands.h — the subcommands of the `clfer` program; each lives in apps/cmd_<name>.c and
 * returns the process exit code (0 success, 1 failure, 2 usage error). */
#ifndef CLFER_APPS_COMMANDS_H
#define CLFER_APPS_COMMANDS_H

#include <stdio.h>

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
int clfer_cmd_import(int argc, char **argv);
int clfer_cmd_export(int argc, char **argv);

/* Prints "clfer: <message>" with the library's last error to stderr and returns 1. */
int clfer_app_fail(const char *what);
/* True when argv[i] is -h or --help. */
int clfer_app_is_help(const char *arg);

#endif
