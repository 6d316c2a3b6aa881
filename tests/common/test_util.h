/* test_util.h — shared helpers for the Criterion tests: a runtime on the test device (skipping
 * cleanly when OpenCL has none), deterministic random data, tolerant comparisons with NaN
 * handling, temporary directories and whole-file reads and writes. */
#ifndef CLFER_TEST_UTIL_H
#define CLFER_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "clfer.h"

/* Opens the runtime on $CLFER_DEVICE (else auto) or skips the test when OpenCL has no device. */
clfer_runtime_t *test_runtime(void);
clfer_runtime_t *test_runtime_with(const clfer_runtime_options_t *options);

/* Sets NAME to VALUE (NULL: unsets it) once rt's queue has finished: PoCL's worker threads call
 * getenv while they run kernels, and a setenv meanwhile can crash them (glibc's environ is not
 * thread-safe). For the CLFER_* switches the library reads at each call. */
void test_setenv(clfer_runtime_t *rt, const char *name, const char *value);

/* Deterministic uniform floats in [lo, hi) from a seed (splitmix64). */
void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

/* Largest |a-b| / (atol + rtol·|b|); > 1 means out of tolerance. NaN in either side counts as
 * a failure unless both are NaN. Returns the index of the worst element in *worst. */
double test_compare(const float *got, const float *want, size_t n, double atol, double rtol, size_t *worst);

/* Asserts test_compare(...) <= 1 with a message naming the worst element. */
#define TEST_ASSERT_CLOSE(got, want, n, atol, rtol, what)                                                  \
  do {                                                                                                    \
    size_t test__worst = 0;                                                                               \
    double test__r = test_compare((got), (want), (n), (atol), (rtol), &test__worst);                      \
    cr_assert(test__r <= 1.0, "%s: element %zu is %g, expected %g (ratio %g)", (what), test__worst,       \
              (double)(got)[test__worst], (double)(want)[test__worst], test__r);                          \
  } while (0)

/* Makes an empty temporary directory under the build tree and returns its path (static). */
const char *test_tmpdir(const char *name);

/* Writes `text` to PATH, asserting that it can. */
void test_write_text(const char *path, const char *text);
/* Writes `text` to DIR/NAME; returns the path (a static buffer, valid until the next call). */
const char *test_write_in(const char *dir, const char *name, const char *text);
/* The whole file, NUL-terminated (malloc'd); its size in *size when size is not NULL. Asserts
 * that the file can be read whole. */
char *test_read_file(const char *path, size_t *size);

#endif
