/* csv.c — the streaming CSV / whitespace tokenizer every reader uses, strict number parsing, and
 * small file-system helpers. Quoted fields may hold separators, doubled quotes and newlines;
 * CRLF and a missing final newline are accepted; limits turn absurd input into errors. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"

#define CSV_READ_CHUNK (1u << 16)

static void csv_reset(clfer__csv_t *c) {
  memset(c, 0, sizeof *c);
  c->next_line = 1;
}

void clfer__csv_init_stream(clfer__csv_t *c, FILE *f, const char *name, char sep) {
  csv_reset(c);
  c->f = f;
  c->name = name ? name : "<stream>";
  c->sep = sep;
}

clfer_status clfer__csv_open(clfer__csv_t *c, const char *path, char sep) {
  csv_reset(c);
  FILE *f = fopen(path, "rb");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "%s: cannot open: %s", path, strerror(errno));
  clfer__csv_init_stream(c, f, path, sep);
  c->own = 1;
  return CLFER_OK;
}

void clfer__csv_close(clfer__csv_t *c) {
  if (c->own && c->f) fclose(c->f);
  free(c->rbuf);
  free(c->rec);
  free(c->fields);
  c->f = NULL;
  c->rbuf = c->rec = NULL;
  c->fields = NULL;
}

/* Next byte or EOF. */
static inline int csv_getc(clfer__csv_t *c) {
  if (c->rpos == c->rlen) {
    if (c->eof) return EOF;
    if (!c->rbuf && !(c->rbuf = malloc(CSV_READ_CHUNK))) {
      c->eof = 1;
      return EOF;
    }
    c->rlen = fread(c->rbuf, 1, CSV_READ_CHUNK, c->f);
    c->rpos = 0;
    if (c->rlen == 0) {
      c->eof = 1;
      return EOF;
    }
  }
  c->bytes++;
  return (unsigned char)c->rbuf[c->rpos++];
}

static inline int csv_peekc(clfer__csv_t *c) {
  int ch = csv_getc(c);
  if (ch != EOF) {
    c->rpos--;
    c->bytes--;
  }
  return ch;
}

static int csv_put(clfer__csv_t *c, char ch) {
  if (c->rec_len + 1 >= c->rec_cap) {
    if (c->rec_cap >= CLFER__CSV_MAX_RECORD) {
      clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: record longer than %u bytes", c->name, c->line,
                      CLFER__CSV_MAX_RECORD);
      return -1;
    }
    size_t cap = c->rec_cap ? c->rec_cap * 2 : 4096;
    if (cap > CLFER__CSV_MAX_RECORD) cap = CLFER__CSV_MAX_RECORD;
    char *p = realloc(c->rec, cap);
    if (!p) {
      clfer_set_error(CLFER_OUT_OF_MEMORY, "%s:%ld: out of memory", c->name, c->line);
      return -1;
    }
    c->rec = p;
    c->rec_cap = cap;
  }
  c->rec[c->rec_len++] = ch;
  return 0;
}

/* Field starts are stored as offsets in `fields` while the record may still move, then turned
 * into pointers once it is complete. */
static int csv_field_start(clfer__csv_t *c) {
  if (c->nfields >= CLFER__CSV_MAX_FIELDS) {
    clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: more than %d fields", c->name, c->line, CLFER__CSV_MAX_FIELDS);
    return -1;
  }
  if (c->nfields == c->fields_cap) {
    int cap = c->fields_cap ? c->fields_cap * 2 : 32;
    char **p = realloc(c->fields, (size_t)cap * sizeof *p);
    if (!p) {
      clfer_set_error(CLFER_OUT_OF_MEMORY, "%s:%ld: out of memory", c->name, c->line);
      return -1;
    }
    c->fields = p;
    c->fields_cap = cap;
  }
  c->fields[c->nfields++] = (char *)(uintptr_t)c->rec_len;
  return 0;
}

static void csv_finish(clfer__csv_t *c) {
  for (int i = 0; i < c->nfields; i++) c->fields[i] = c->rec + (uintptr_t)c->fields[i];
}

/* Comma-separated record. Returns 1 record, 0 end, −1 error. */
static int csv_next_comma(clfer__csv_t *c) {
  int ch = csv_peekc(c);
  if (ch == EOF) return 0;
  for (;;) { /* fields */
    if (csv_field_start(c)) return -1;
    ch = csv_getc(c);
    if (ch == '"') {
      for (;;) {
        ch = csv_getc(c);
        if (ch == EOF) {
          clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: unterminated quoted field", c->name, c->line);
          return -1;
        }
        if (ch == '"') {
          if (csv_peekc(c) == '"') {
            csv_getc(c);
          } else {
            break;
          }
        } else if (ch == '\n') {
          c->next_line++;
        }
        if (csv_put(c, (char)ch)) return -1;
      }
      ch = csv_getc(c);
      /* Spaces after the closing quote are tolerated; anything else is not CSV. */
      while (ch == ' ' || ch == '\t') ch = csv_getc(c);
      if (ch == '\r' && csv_peekc(c) == '\n') ch = csv_getc(c);
      if (ch != c->sep && ch != '\n' && ch != '\r' && ch != EOF) {
        clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: field %d: text after the closing quote", c->name, c->line,
                        c->nfields);
        return -1;
      }
    } else {
      while (ch != c->sep && ch != '\n' && ch != EOF) {
        if (ch == '\r') {
          int nx = csv_peekc(c);
          if (nx == '\n' || nx == EOF) {
            ch = csv_getc(c);
            break;
          }
        }
        if (csv_put(c, (char)ch)) return -1;
        ch = csv_getc(c);
      }
      if (ch == '\r') ch = '\n'; /* lone CR at end of input */
    }
    if (csv_put(c, '\0')) return -1;
    if (ch == c->sep) continue;
    if (ch == '\n' || ch == '\r') c->next_line++;
    return 1;
  }
}

/* Whitespace-separated record (runs of spaces or tabs; no quotes). */
static int csv_next_space(clfer__csv_t *c) {
  int ch = csv_peekc(c);
  if (ch == EOF) return 0;
  int in_field = 0;
  for (;;) {
    ch = csv_getc(c);
    if (ch == '\r' && (csv_peekc(c) == '\n' || csv_peekc(c) == EOF)) continue;
    if (ch == EOF || ch == '\n') {
      if (in_field && csv_put(c, '\0')) return -1;
      if (ch == '\n') c->next_line++;
      return 1;
    }
    if (ch == ' ' || ch == '\t' || ch == '\r') {
      if (in_field) {
        if (csv_put(c, '\0')) return -1;
        in_field = 0;
      }
      continue;
    }
    if (!in_field) {
      if (csv_field_start(c)) return -1;
      in_field = 1;
    }
    if (csv_put(c, (char)ch)) return -1;
  }
}

static int csv_blank(const clfer__csv_t *c) {
  if (c->nfields == 0) return 1;
  if (c->nfields == 1) {
    for (const char *p = c->fields[0]; *p; p++)
      if (!isspace((unsigned char)*p)) return 0;
    return 1;
  }
  return 0;
}

int clfer__csv_next(clfer__csv_t *c) {
  if (!c->f) return 0;
  if (c->bytes == 0) { /* skip a UTF-8 byte-order mark */
    if (csv_peekc(c) == 0xEF) {
      csv_getc(c);
      if (csv_peekc(c) == 0xBB) {
        csv_getc(c);
        if (csv_peekc(c) == 0xBF) csv_getc(c);
      }
    }
  }
  for (;;) {
    c->rec_len = 0;
    c->nfields = 0;
    c->line = c->next_line;
    int r = c->sep == ' ' ? csv_next_space(c) : csv_next_comma(c);
    if (r <= 0) {
      if (r < 0) c->nfields = 0;
      if (r == 0 && ferror(c->f))
        return clfer_set_error(CLFER_IO_ERROR, "%s:%ld: read error", c->name, c->line), -1;
      return r;
    }
    csv_finish(c);
    if (!csv_blank(c)) return 1;
  }
}

/* ---- numbers --------------------------------------------------------------------------------- */
int clfer__parse_int(const char *s, long lo, long hi, long *out) {
  while (isspace((unsigned char)*s)) s++;
  if (!*s) return -1;
  errno = 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || errno) return -1;
  while (isspace((unsigned char)*end)) end++;
  if (*end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int clfer__parse_float(const char *s, double *out) {
  while (isspace((unsigned char)*s)) s++;
  if (!*s) return -1;
  /* strtod also takes "nan", "inf" and hex floats: refuse the first two explicitly. */
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (end == s) return -1;
  while (isspace((unsigned char)*end)) end++;
  if (*end || !isfinite(v)) return -1;
  if (errno == ERANGE && fabs(v) > 1) return -1;
  *out = v;
  return 0;
}

int clfer__parse_pixels(const char *s, uint8_t *out, int n, char *why, size_t why_size) {
  int count = 0;
  const unsigned char *p = (const unsigned char *)s;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    if (*p < '0' || *p > '9') {
      snprintf(why, why_size, "pixels: value %d is not a number ('%c')", count + 1, isprint(*p) ? *p : '?');
      return -1;
    }
    unsigned v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (digits < 4) v = v * 10 + (unsigned)(*p - '0');
      digits++;
      p++;
    }
    if (*p && *p != ' ' && *p != '\t') {
      snprintf(why, why_size, "pixels: value %d is not a number", count + 1);
      return -1;
    }
    if (v > 255 || digits > 3) {
      snprintf(why, why_size, "pixels: value %d is out of range 0..255", count + 1);
      return -1;
    }
    if (count < n) out[count] = (uint8_t)v;
    count++;
  }
  if (count != n) {
    snprintf(why, why_size, "pixels: expected %d values, got %d", n, count);
    return -1;
  }
  return 0;
}

/* ---- helpers --------------------------------------------------------------------------------- */
char *clfer__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

char *clfer__path_join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *p = malloc(na + nb + 2);
  if (!p) return NULL;
  memcpy(p, a, na);
  size_t k = na;
  if (na && a[na - 1] != '/') p[k++] = '/';
  memcpy(p + k, b, nb + 1);
  return p;
}

int clfer__file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int clfer__is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

clfer_status clfer__list_dir(const char *path, char ***names, int *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(path);
  if (!d) return clfer_set_error(CLFER_NOT_FOUND, "%s: cannot open directory: %s", path, strerror(errno));
  char **v = NULL;
  int len = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (len == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(v, (size_t)cap * sizeof *p);
      if (!p) goto oom;
      v = p;
    }
    if (!(v[len] = clfer__strdup(e->d_name))) goto oom;
    len++;
  }
  closedir(d);
  if (len) qsort(v, (size_t)len, sizeof *v, cmp_str);
  *names = v;
  *n = len;
  return CLFER_OK;
oom:
  closedir(d);
  clfer__free_list(v, len);
  return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory listing the directory", path);
}

void clfer__free_list(char **names, int n) {
  if (!names) return;
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

clfer_status clfer__read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return clfer_set_error(CLFER_NOT_FOUND, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  for (;;) {
    if (len == cap) {
      if (cap >= max_bytes) {
        free(buf);
        fclose(f);
        return clfer_set_error(CLFER_UNSUPPORTED, "%s: file larger than %zu bytes", path, max_bytes);
      }
      cap *= 2;
      uint8_t *p = realloc(buf, cap);
      if (!p) {
        free(buf);
        fclose(f);
        return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
      }
      buf = p;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    return clfer_set_error(CLFER_IO_ERROR, "%s: read error", path);
  }
  *data = buf;
  *size = len;
  return CLFER_OK;
}

int clfer__strieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
  return *a == *b;
}
