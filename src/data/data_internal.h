/* data_internal.h — pieces shared by the readers: a streaming CSV tokenizer (RFC 4180 quotes,
 * CRLF, a missing final newline), strict number parsing, path helpers, and the stream entry
 * points the fuzz targets call without touching the file system. */
#ifndef CLFER_DATA_INTERNAL_H
#define CLFER_DATA_INTERNAL_H

#include <stdio.h>

#include "clfer/data.h"

/* ---- CSV ------------------------------------------------------------------------------------- */
/* Longest record accepted (a FER2013 row is ~9 KB); longer is a parse error, not a huge malloc. */
#define CLFER__CSV_MAX_RECORD (16u << 20)
#define CLFER__CSV_MAX_FIELDS 4096

typedef struct clfer__csv {
  FILE *f;
  int own;            /* fclose on close */
  const char *name;   /* for messages */
  char sep;           /* ',' or ' ' (whitespace-separated: runs of spaces/tabs, no quotes) */
  char *rbuf;         /* read buffer */
  size_t rlen, rpos;
  int eof;
  char *rec;          /* current record, fields NUL-separated */
  size_t rec_len, rec_cap;
  char **fields;
  int nfields, fields_cap;
  long line;          /* line number where the current record starts (1-based) */
  long next_line;
  long bytes;         /* bytes consumed */
} clfer__csv_t;

/* Opens a file (sep ',' or ' '). Error names the path. */
clfer_status clfer__csv_open(clfer__csv_t *c, const char *path, char sep);
/* Reads from a stream the caller owns; `name` labels messages. */
void clfer__csv_init_stream(clfer__csv_t *c, FILE *f, const char *name, char sep);
/* Next record: 1 with c->fields/c->nfields set, 0 at end of input, −1 on error (message set,
 * naming file and line). Blank lines are skipped. A UTF-8 BOM at the start is skipped. */
int clfer__csv_next(clfer__csv_t *c);
void clfer__csv_close(clfer__csv_t *c);

/* ---- numbers --------------------------------------------------------------------------------- */
/* Whole-field parses: surrounding spaces allowed, anything else is an error (return −1). */
int clfer__parse_int(const char *s, long lo, long hi, long *out);
int clfer__parse_float(const char *s, double *out); /* finite only */
/* FER2013 pixels: exactly n space-separated integers 0..255. Returns 0, or −1 with `why` set. */
int clfer__parse_pixels(const char *s, uint8_t *out, int n, char *why, size_t why_size);

/* ---- helpers --------------------------------------------------------------------------------- */
char *clfer__strdup(const char *s);
/* Joins a and b with '/', malloc'd. */
char *clfer__path_join(const char *a, const char *b);
int clfer__file_exists(const char *path);
int clfer__is_dir(const char *path);
/* Sorted entries of a directory (names, not paths); excludes . and ..; *n set. */
clfer_status clfer__list_dir(const char *path, char ***names, int *n);
void clfer__free_list(char **names, int n);
/* Reads a whole file (at most max_bytes) into a malloc'd buffer. */
clfer_status clfer__read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size);
/* Loads an image and converts it to the store's size and channels into *scratch (grown as
 * needed). The first image of a store created with size 0 sets the size: the options' size, else
 * the image's; channels from the options, else default_channels, else the image's. Without a
 * resize size, an image of another size is an error naming the file. */
clfer_status clfer__load_into(clfer_store_t *s, const char *path, const clfer_read_options_t *opt,
                              int default_channels, uint8_t **scratch);
/* Case-insensitive compare. */
int clfer__strieq(const char *a, const char *b);

/* Stream forms of the CSV readers (the fuzz targets use these with fmemopen). */
clfer_status clfer__read_fer2013_csv(clfer__csv_t *fer, clfer__csv_t *plus, const clfer_read_options_t *opt,
                                     clfer_store_t **out);
clfer_status clfer__read_ferplus_votes_csv(clfer__csv_t *plus, int skipped_no_name[CLFER_SPLIT_COUNT],
                                           clfer_store_t **out);
/* One FER+ folder's label.csv: appends rows (images loaded from dir unless dir is NULL). */
clfer_status clfer__read_ferplus_label_csv(clfer__csv_t *c, const char *dir, int split,
                                           const clfer_read_options_t *opt, clfer_store_t *s);
/* Parses the 10 votes of a FER+ row (fields[0..9]); checks range. Message names file:line. */
clfer_status clfer__parse_ferplus_votes(clfer__csv_t *c, char **fields, float *votes);

#endif
