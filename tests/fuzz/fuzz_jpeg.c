/* fuzz_jpeg.c — libFuzzer target for the JPEG decoder (libjpeg-turbo with a longjmp error_exit
 * and warnings treated as errors). */
#include <string.h>

#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
    uint8_t *d = malloc(size + 3);
    if (!d) return 0;
    d[0] = 0xFF, d[1] = 0xD8, d[2] = 0xFF;
    memcpy(d + 3, data, size);
    fuzz_image(d, size + 3);
    free(d);
    return 0;
  }
  return fuzz_image(data, size);
}
