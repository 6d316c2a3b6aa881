/* cmd_devices.c — `clfer devices`: a table of every OpenCL device and the one `auto` picks. */
#include <getopt.h>
#include <stdlib.h>

#include "clfer.h"
#include "commands.h"

int clfer_cmd_devices(int argc, char **argv) {
  static const struct option longopts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (c == 'h') {
      printf("usage: clfer devices\n\nLists every OpenCL platform's devices and marks the one that\n"
             "--device auto (or $CLFER_DEVICE) selects.\n");
      return 0;
    }
    return 2;
  }
  if (optind < argc) {
    fprintf(stderr, "clfer devices: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  clfer_device_info_t *devs = NULL;
  int n = 0;
  if (clfer_devices_list(&devs, &n)) return clfer_app_fail("cannot list devices");
  clfer_device_selector_t sel;
  int chosen = -1;
  const char *env = getenv("CLFER_DEVICE");
  if (clfer_device_selector_parse(env, &sel) == CLFER_OK) clfer_device_select(&sel, devs, n, &chosen);
  printf("%-5s %-28s %-40s %-4s %5s %10s %14s %5s %s\n", "P:D", "platform", "name", "type", "CUs", "memory",
         "OpenCL C", "fp16", "");
  for (int i = 0; i < n; i++) {
    const clfer_device_info_t *d = &devs[i];
    char idx[16];
    snprintf(idx, sizeof idx, "%d:%d", d->platform_index, d->device_index);
    printf("%-5s %-28.28s %-40.40s %-4s %5u %7.1f GiB %14.14s %5s %s\n", idx, d->platform_name, d->name,
           d->is_gpu ? "GPU" : d->is_cpu ? "CPU" : "ACC", d->compute_units, d->global_mem_bytes / 1073741824.0,
           d->opencl_c_version, d->has_fp16 ? "yes" : "no",
           i == chosen ? (env && *env ? "<- CLFER_DEVICE" : "<- auto") : "");
  }
  free(devs);
  return 0;
}
