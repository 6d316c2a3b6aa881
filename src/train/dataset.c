/* dataset.c — a recipe's [data] section to a sample store: the reader its format names, the
 * model's channels and size, FER+ votes through the label scheme, the recipe's classes. */
#include <stdio.h>
#include <string.h>

#include "clfer/dataset.h"
#include "clfer/labels.h"

clfer_status clfer_dataset_read(const clfer_dataset_spec_t *spec, clfer_store_t **out) {
  char a[1100], b[1100];
  const char *format = spec->format ? spec->format : "ferplus", *dir = spec->dir ? spec->dir : "";
  const char *csv = spec->csv && *spec->csv ? spec->csv : NULL;
  const char *dist = spec->distribution_file && *spec->distribution_file ? spec->distribution_file : NULL;
  clfer_read_options_t ro = {.channels = spec->channels};
  clfer_status st;
  *out = NULL;
  int fer = strcmp(format, "ferplus") == 0 || strcmp(format, "ferplus_folders") == 0;
  if (strcmp(format, "ferplus") == 0) {
    snprintf(a, sizeof a, "%s/fer2013.csv", dir);
    snprintf(b, sizeof b, "%s/fer2013new.csv", dir);
    st = clfer_read_fer2013(a, b, &ro, out);
  } else if (strcmp(format, "fer2013") == 0) {
    snprintf(a, sizeof a, "%s/fer2013.csv", dir);
    st = clfer_read_fer2013(a, NULL, &ro, out);
  } else if (strcmp(format, "ferplus_folders") == 0) {
    st = clfer_read_ferplus_folders(dir, &ro, out);
  } else {
    ro.width = spec->width, ro.height = spec->height;
    if (strcmp(format, "rafdb") == 0)
      st = clfer_read_rafdb(dir, dist, &ro, out);
    else if (strcmp(format, "ckplus") == 0)
      st = clfer_read_ckplus(dir, &ro, out);
    else if (strcmp(format, "folder") == 0)
      /* a CSV may label by index into the class list; folders are matched by name afterwards */
      st = csv ? clfer_read_image_folder(dir, csv, spec->class_names, spec->num_classes, &ro, out)
               : clfer_read_image_folder(dir, NULL, NULL, 0, &ro, out);
    else
      return clfer_set_error(CLFER_INVALID_ARGUMENT,
                             "unknown data format '%s' (known: ferplus, fer2013, ferplus_folders, rafdb, ckplus, folder)",
                             format);
  }
  if (st) return st;
  if (fer && (*out)->vote_width >= 10 && spec->ferplus_mode >= 0 &&
      (st = clfer_ferplus_apply(*out, (clfer_ferplus_mode_t)spec->ferplus_mode, NULL)))
    goto fail;
  if ((st = clfer_store_map_classes(*out, spec->class_names, spec->num_classes, 1))) goto fail;
  return CLFER_OK;
fail:
  clfer_wrap_error(st, "%s: ", dir);
  clfer_store_destroy(*out);
  *out = NULL;
  return st;
}
