/* test_labels_cli.c — `clfer labels` run as a program (CLFER_CLI_PATH) on fixtures: the FER+
 * target file's exact content per mode, the EM and Dawid–Skene output files, the stderr summary,
 * and usage errors (unknown options, missing arguments) with exit code 2. */
#include <sys/wait.h>

#include "data_test_util.h"

/* Runs the CLI with `args`, stderr to err_path; returns the exit code. */
static int run_cli(const char *args, const char *err_path) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' labels %s >/dev/null 2>'%s'", CLFER_CLI_PATH, args, err_path);
  int rc = system(cmd);
  cr_assert(rc != -1 && WIFEXITED(rc), "cannot run %s", cmd);
  return WEXITSTATUS(rc);
}

Test(labels_cli, ferplus_majority_and_crossentropy) {
  const char *dir = test_tmpdir("cli_ferplus");
  char out[1200], err[1200], args[3000];
  snprintf(out, sizeof out, "%s/targets.csv", dir);
  snprintf(err, sizeof err, "%s/stderr.txt", dir);
  snprintf(args, sizeof args, "ferplus --mode majority --in '%s' --out '%s'", FIXTURE("fer2013new.csv"), out);
  cr_assert_eq(run_cli(args, err), 0, "%s", test_read_file(err, NULL));
  char *got = test_read_file(out, NULL);
  cr_assert_str_eq(got, "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt\n"
                        "PublicTest,fer0000002.png,0.000000,1.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000\n"
                        "PrivateTest,fer0000003.png,0.000000,0.000000,0.000000,1.000000,0.000000,0.000000,0.000000,0.000000\n"
                        "Training,fer0000004.png,0.000000,0.000000,1.000000,0.000000,0.000000,0.000000,0.000000,0.000000\n");
  free(got);
  char *summary = test_read_file(err, NULL);
  /* Training: 1 kept, 1 unresolved (no majority), 1 without a name. */
  cr_assert(strstr(summary, "Training           1          1          0        0         1"), "%s", summary);
  free(summary);

  snprintf(args, sizeof args, "ferplus --mode crossentropy --in '%s' --out '%s'", FIXTURE("fer2013new.csv"), out);
  cr_assert_eq(run_cli(args, err), 0);
  got = test_read_file(out, NULL);
  cr_assert(strstr(got, "Training,fer0000000.png,0.571429,0.000000,0.000000,0.000000,0.428571,0.000000,0.000000,0.000000\n"),
            "%s", got);
  cr_assert(strstr(got, "PrivateTest,fer0000003.png,0.250000,0.000000,0.000000,0.750000,"), "%s", got);
  free(got);
}

Test(labels_cli, ferplus_errors) {
  const char *dir = test_tmpdir("cli_err");
  char out[1200], err[1200], args[3000], bad[1200];
  snprintf(out, sizeof out, "%s/t.csv", dir);
  snprintf(err, sizeof err, "%s/stderr.txt", dir);
  snprintf(args, sizeof args, "ferplus --mode majority --in '%s' --out '%s' --bogus", FIXTURE("fer2013new.csv"), out);
  cr_assert_eq(run_cli(args, err), 2);
  snprintf(args, sizeof args, "ferplus --mode softmax --in '%s' --out '%s'", FIXTURE("fer2013new.csv"), out);
  cr_assert_eq(run_cli(args, err), 2);
  cr_assert_eq(run_cli("ferplus --mode majority", err), 2);
  cr_assert_eq(run_cli("nonsense", err), 2);
  cr_assert_eq(run_cli("ferplus --help", err), 0);
  cr_assert_eq(run_cli("em --help", err), 0);
  cr_assert_eq(run_cli("dawid-skene --help", err), 0);
  cr_assert_eq(run_cli("em --prior 1 --in x --out y --smoothing 1", err), 2);
  snprintf(bad, sizeof bad, "%s/bad.csv", dir);
  test_write_text(bad, "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
                "Training,a.png,1,2,3,4,5,6,7,8,9,x\n");
  snprintf(args, sizeof args, "ferplus --mode majority --in '%s' --out '%s'", bad, out);
  cr_assert_eq(run_cli(args, err), 1);
  char *msg = test_read_file(err, NULL);
  cr_assert(strstr(msg, "bad.csv:2:") && strstr(msg, "'NF'"), "%s", msg);
  free(msg);
}

Test(labels_cli, em_and_dawid_skene_files) {
  const char *dir = test_tmpdir("cli_em");
  char out[1200], err[1200], args[3000], ann[1300];
  snprintf(out, sizeof out, "%s/truth.csv", dir);
  snprintf(err, sizeof err, "%s/stderr.txt", dir);
  snprintf(args, sizeof args, "em --in '%s' --out '%s'", FIXTURE("annotations.csv"), out);
  cr_assert_eq(run_cli(args, err), 0, "%s", test_read_file(err, NULL));
  char *got = test_read_file(out, NULL);
  const char *header = "image,truth,single_label,surprise,fear,disgust,happiness,sadness,anger,neutral\n";
  cr_assert(!strncmp(got, header, strlen(header)), "%s", got);
  cr_assert(strstr(got, "\nimg1,happiness,happiness,"), "%s", got);
  cr_assert(strstr(got, "\nimg3,surprise,surprise,1.000000,"), "%s", got);
  free(got);
  snprintf(ann, sizeof ann, "%s/truth_annotators.csv", dir);
  got = test_read_file(ann, NULL);
  cr_assert(!strncmp(got, "annotator,reliability,labels\nann1,", strlen("annotator,reliability,labels\nann1,")), "%s",
            got);
  cr_assert(strstr(got, ",3\n"), "%s", got);
  free(got);

  snprintf(ann, sizeof ann, "%s/confusions.csv", dir);
  snprintf(args, sizeof args, "dawid-skene --in '%s' --out '%s' --annotators '%s' --classes %s", FIXTURE("annotations.csv"),
           out, ann, "surprise,fear,disgust,happiness,sadness,anger,neutral");
  cr_assert_eq(run_cli(args, err), 0, "%s", test_read_file(err, NULL));
  got = test_read_file(out, NULL);
  cr_assert(!strncmp(got, "image,truth,surprise,", 21), "%s", got);
  cr_assert(strstr(got, "\nimg1,happiness,"), "%s", got);
  free(got);
  got = test_read_file(ann, NULL);
  int rows = 0;
  for (char *p = got; *p; p++) rows += *p == '\n';
  cr_assert_eq(rows, 1 + 3 * 7, "header + 7 rows per annotator: %s", got);
  cr_assert(strstr(got, "\nann2,happiness,"), "%s", got);
  free(got);
}
