/* clfer/dataset.h — reading a dataset the way a recipe's [data] section names it (format,
 * directory, labels CSV, RAF-DB distribution file), converted and resized for a model and mapped
 * onto its class list: one implementation for training (src/train/train.c) and evaluation
 * (clfer_model_read_dataset), so the two cannot read the same data differently. */
#ifndef CLFER_DATASET_H
#define CLFER_DATASET_H

#include "clfer/data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clfer_dataset_spec {
  /* "ferplus" (DIR/fer2013.csv + fer2013new.csv), "fer2013", "ferplus_folders", "rafdb",
   * "ckplus", "folder" (DIR/<class>/ images, or `csv`) */
  const char *format;
  const char *dir;
  const char *csv;               /* folder: labels CSV, paths relative to DIR (NULL/"": class folders) */
  const char *distribution_file; /* rafdb: `name v1..v7` crowd distribution → votes (NULL/"": none) */
  int channels;                  /* 1: colour becomes gray (BT.601) on load; 3: gray replicated; 0: as stored */
  int height, width;             /* rafdb, ckplus, folder: resize on load (0: keep) */
  const char *const *class_names; /* the classes to map onto (others dropped) */
  int num_classes;
  /* FER+ crowd votes (ferplus, ferplus_folders): a clfer_ferplus_mode_t applied to them, or −1
   * to keep the raw counts (Ohlsen's vote distribution) */
  int ferplus_mode;
} clfer_dataset_spec_t;

/* Reads the dataset; errors name the directory or file. */
clfer_status clfer_dataset_read(const clfer_dataset_spec_t *spec, clfer_store_t **out);

#ifdef __cplusplus
}
#endif
#endif
