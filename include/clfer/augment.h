/* clfer/augment.h — pre-processing and augmentation of 8-bit face images into float NCHW network
 * input: one affine matrix per sample (48→64 resize, FER+ jitter, resize+crop, flip) applied by
 * bilinear resampling with reflect borders, then FER+ normalisation or min–max / mean–std scaling.
 * Every step has a plain-C reference and an OpenCL path (kernels/augment.cl) that agree given the
 * same matrices, which are drawn on the host from a seeded generator. See docs/augment.md. */
#ifndef CLFER_AUGMENT_H
#define CLFER_AUGMENT_H

#include <stdint.h>

#include "clfer/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- affine matrices -------------------------------------------------------------------------
 * A matrix m[6] maps an OUTPUT pixel (x, y) (integer pixel indices: pixel centres at integers) to
 * the INPUT position it samples: xs = m0·x + m1·y + m2, ys = m3·x + m4·y + m5. */
#define CLFER_AFFINE_SIZE 6

/* Plain resize of an in_h×in_w image to out_h×out_w with corners on corners (FER+'s
 * s = (in−1)/(out−1), no jitter): the 48→64 matrix of evaluation. */
void clfer_affine_resize(int in_h, int in_w, int out_h, int out_w, float m[6]);
/* Composes a horizontal flip of the output (x → out_w−1−x) into m. */
void clfer_affine_flip_output(float m[6], int out_w);

/* How matrices are drawn. Two families: the FER+ jitter (resize == 0: the whole input is the face
 * box, mapped onto the output as FERPlus img_util.crop_img does) and the ImageNet-style
 * resize-then-crop (resize > 0: resize the input to resize×resize, take an out_h×out_w crop). */
typedef struct clfer_augment_config {
  float max_shift;     /* FER+: shift up to ±max_shift·out size per axis (0.08) */
  float max_angle_deg; /* FER+: rotation U(−a, a) degrees (20) */
  float max_skew;      /* FER+: skew U(−k, k) per axis (0.05) */
  float max_scale;     /* FER+: scale U(1, s) per axis, inverted with p = 0.5 (1.05); 1 = off */
  int flip;            /* horizontal flip with p = 0.5 (both families) */
  int resize;          /* > 0: resize-then-crop family with this intermediate size (256) */
  int random_crop;     /* resize family: random crop offset (train) instead of the centre */
} clfer_augment_config_t;

/* FER+ training augmentation (Barsoum et al., FERPlus ferplus.py): 0.08, 20°, 0.05, 1.05, flip. */
clfer_augment_config_t clfer_augment_config_ferplus(void);
/* Ng et al.: resize to 256, random crop, flip (train); with random_crop 0: centre crop, no flip. */
clfer_augment_config_t clfer_augment_config_crop(int resize, int random_crop, int flip);

/* The deterministic (no-augmentation) matrix of a config: plain resize (FER+ family) or the
 * centre crop (resize family). */
clfer_status clfer_augment_base_matrix(const clfer_augment_config_t *cfg, int in_h, int in_w, int out_h,
                                       int out_w, float m[6]);
/* Draws one sample's matrix from the stream (seed, stream): the same arguments give the same
 * matrix on every machine and thread. The batcher uses stream = epoch·2^32 + sample index. */
clfer_status clfer_augment_draw(const clfer_augment_config_t *cfg, int in_h, int in_w, int out_h, int out_w,
                                uint64_t seed, uint64_t stream, float m[6]);

/* ---- pre-processing ------------------------------------------------------------------------- */

typedef enum clfer_norm_mode {
  /* out = (v·scale − mean[c]) / std[c], v the resampled 0..255 value (after the optional
   * min–max stretch): [0,1] inputs, ImageNet mean/std, Caffe mean subtraction. */
  CLFER_NORM_LINEAR = 0,
  /* FER+ (img_util.preproc_img): the resampled image rounded to 8 bits, histogram-equalised to
   * [−1, 1] (cdf·2/N − 1), the least-squares plane a + bx + cy subtracted, divided by the RMS
   * (when > 1e−6). Computed per output channel plane. */
  CLFER_NORM_FERPLUS = 1,
} clfer_norm_mode;

typedef struct clfer_preproc {
  int out_h, out_w; /* output size (64×64 for VGG13-FER+, 224/227 for ImageNet models) */
  int out_c;        /* 1 or 3; 3 from a gray input replicates it (Ng et al.); else = input channels */
  clfer_norm_mode norm;
  int minmax_stretch; /* stretch each input image's own min..max to 0..255 first (Ng et al.) */
  float scale;        /* LINEAR: multiplies v (e.g. 1/255) */
  float mean[3], std[3]; /* LINEAR: per output channel (std 0 is taken as 1) */
} clfer_preproc_t;

/* 64×64, FER+ normalisation, 1 channel. */
clfer_preproc_t clfer_preproc_ferplus(int out_h, int out_w);
/* out_c channels, v·scale, mean 0, std 1 (scale 1/255 gives [0, 1]). */
clfer_preproc_t clfer_preproc_linear(int out_h, int out_w, int out_c, float scale);
/* Checks a preproc against an input channel count; CLFER_INVALID_ARGUMENT with a message. */
clfer_status clfer_preproc_check(const clfer_preproc_t *p, int in_c);

/* ---- plain-C reference (also the host path of the batcher) ----------------------------------- */

/* Bilinear sample of channel `ch` of an 8-bit h×w×c image at (xs, ys) with half-sample
 * symmetric ("reflect", scipy.ndimage) borders, computed in float in the kernel's exact order. */
float clfer_sample_bilinear_u8(const uint8_t *img, int h, int w, int c, int ch, float xs, float ys);
/* Resamples channel `ch` through m into out[out_h·out_w] (0..255 floats). */
void clfer_resample_affine_u8(const uint8_t *img, int h, int w, int c, int ch, const float m[6], int out_h,
                              int out_w, float *out);
/* FER+ normalisation of an 8-bit plane of n pixels laid out h×w (in double; result in float). */
void clfer_ferplus_normalize(const uint8_t *plane, int h, int w, float *out);
/* Minimum and maximum over all channels of an 8-bit image. */
void clfer_minmax_u8(const uint8_t *img, size_t n, int *lo, int *hi);
/* One sample: 8-bit h×w×c (channels interleaved) → out_c×out_h×out_w floats. */
clfer_status clfer_preprocess_host(const uint8_t *img, int h, int w, int c, const float m[6],
                                   const clfer_preproc_t *p, float *out);

/* ---- OpenCL path ------------------------------------------------------------------------------ */

/* Pre-processes n samples on the device into out [n, out_c, out_h, out_w]. `images` holds 8-bit
 * h×w×c images back to back starting at byte images_offset; sample i reads image indices[i]
 * (int32 buffer) or image i when indices is NULL (num_images bounds the indices, checked on the
 * device: an index out of range writes NaN). `matrices` holds n×6 floats. One work-group per
 * (sample, channel) plane does the resample, the histogram, plane fit and RMS in local memory. */
clfer_status clfer_preprocess_device(clfer_runtime_t *rt, cl_mem images, size_t images_offset, int num_images,
                                     int h, int w, int c, cl_mem indices, cl_mem matrices, int n,
                                     const clfer_preproc_t *p, clfer_tensor_t *out);
/* The same from host arrays: uploads the n gathered images and matrices into pool scratch
 * (released before returning), then runs clfer_preprocess_device. */
clfer_status clfer_preprocess_device_upload(clfer_runtime_t *rt, const uint8_t *images, int n, int h, int w, int c,
                                            const float *matrices, const clfer_preproc_t *p, clfer_tensor_t *out);

#ifdef __cplusplus
}
#endif
#endif
