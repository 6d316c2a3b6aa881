/* replace_file.c — writing an output file whole or not at all (see runtime_internal.h). */
#include <errno.h>
#include <string.h>

#include "runtime_internal.h"

FILE *clfer__replace_open(const char *path, char *tmp, size_t size) {
  snprintf(tmp, size, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) clfer_set_error(CLFER_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
  return f;
}

clfer_status clfer__replace_close(FILE *f, const char *tmp, const char *path) {
  int ok = !ferror(f);
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    remove(tmp);
    return clfer_set_error(CLFER_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
  }
  return CLFER_OK;
}
