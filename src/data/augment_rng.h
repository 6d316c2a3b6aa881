/* augment_rng.h — the seeded host generator shared by synth, augmentation and batching: splitmix64
 * streams keyed by (seed, a, b), so every face, epoch permutation and per-sample augmentation is
 * reproducible on its own, whatever thread or order produces it. Private to src/data/. */
#ifndef CLFER_DATA_AUGMENT_RNG_H
#define CLFER_DATA_AUGMENT_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct clfer__rng {
  uint64_t s;
} clfer__rng_t;

/* splitmix64's finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix. */
static inline uint64_t clfer__mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* An independent stream for (seed, a, b): e.g. (seed, epoch, sample) or (seed, row, purpose). */
static inline clfer__rng_t clfer__rng_stream(uint64_t seed, uint64_t a, uint64_t b) {
  clfer__rng_t r;
  r.s = clfer__mix64(seed + 0x9e3779b97f4a7c15ull) ^ clfer__mix64(a * 0xd1b54a32d192ed03ull + 0x632be59bd9b4e019ull) ^
        clfer__mix64(b * 0xaef17502108ef2d9ull + 0x8cb92ba72f3d8dd7ull);
  return r;
}

static inline uint64_t clfer__rng_next(clfer__rng_t *r) { return clfer__mix64(r->s += 0x9e3779b97f4a7c15ull); }

/* Uniform in [0, 1) with 53 random bits. */
static inline double clfer__rng_uniform(clfer__rng_t *r) { return (double)(clfer__rng_next(r) >> 11) * 0x1.0p-53; }

static inline double clfer__rng_range(clfer__rng_t *r, double lo, double hi) {
  return lo + (hi - lo) * clfer__rng_uniform(r);
}

/* Uniform integer in [0, n) for 0 < n < 2^32 (53-bit fraction times n: bias < 2^-21). */
static inline uint32_t clfer__rng_below(clfer__rng_t *r, uint32_t n) {
  uint32_t k = (uint32_t)(clfer__rng_uniform(r) * (double)n);
  return k < n ? k : n - 1;
}

/* Standard normal (Box–Muller, one value per call; simple beats fast here). */
static inline double clfer__rng_normal(clfer__rng_t *r) {
  double u1 = 1.0 - clfer__rng_uniform(r), u2 = clfer__rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Index drawn from a discrete distribution p[0..n) (need not be normalised; all ≥ 0). */
static inline int clfer__rng_categorical(clfer__rng_t *r, const double *p, int n) {
  double total = 0;
  for (int i = 0; i < n; i++) total += p[i];
  double u = clfer__rng_uniform(r) * total, acc = 0;
  for (int i = 0; i < n; i++) {
    acc += p[i];
    if (u < acc && p[i] > 0) return i;
  }
  for (int i = n - 1; i >= 0; i--)
    if (p[i] > 0) return i;
  return 0;
}

#endif
