/* fuzz_image.h — the body shared by the PNG and JPEG fuzz targets: decode from memory, then
 * convert (gray, RGB, resized) so the conversion code sees every decoded shape. */
#include <stdint.h>
#include <stdlib.h>

#include "clfer/data.h"

static int fuzz_image(const uint8_t *data, size_t size) {
  clfer_image_t img;
  if (clfer_image_decode(data, size, "fuzz", &img) != CLFER_OK) return 0;
  uint8_t *buf = malloc(48 * 48 * 3);
  if (buf) {
    (void)clfer_image_convert(&img, 48, 48, 1, buf);
    (void)clfer_image_convert(&img, 13, 29, 3, buf);
    if ((size_t)img.width * img.height <= 48 * 48) (void)clfer_image_convert(&img, img.width, img.height, 3, buf);
    free(buf);
  }
  clfer_image_free(&img);
  return 0;
}
