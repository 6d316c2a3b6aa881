/* fuzz_png.c — libFuzzer target for the PNG decoder (libpng with setjmp error handling). The
 * signature is forced so the fuzzer's effort goes into libpng's parsing, not the format sniffing. */
#include <string.h>

#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size < 8 || memcmp(data, sig, 8)) {
    uint8_t *d = malloc(size + 8);
    if (!d) return 0;
    memcpy(d, sig, 8);
    memcpy(d + 8, data, size);
    fuzz_image(d, size + 8);
    free(d);
    return 0;
  }
  return fuzz_image(data, size);
}
