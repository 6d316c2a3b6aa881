/* synth_render.c — the procedural face renderer of `clfer synth`: an expression parameter vector
 * (eye openness, brows, mouth curve/opening, asymmetry, nose wrinkle …) mixed from per-emotion
 * prototypes, drawn with signed-distance shapes and anti-aliased coverage onto a 48×48 canvas
 * under random identity, pose, lighting, noise and occlusion. docs/synth.md describes the model. */
#include <math.h>
#include <string.h>

#include "clfer/synth.h"
#include "data/augment_rng.h"
#include "data/synth_internal.h"

/* ---- expression parameters -------------------------------------------------------------------- */

enum {
  P_EYE_OPEN,     /* eye height multiplier (1 neutral) */
  P_BROW_RAISE,   /* brows up (+) / down (−) */
  P_BROW_TILT,    /* inner ends up (+, sadness/fear) / down (−, anger) */
  P_BROW_SQUEEZE, /* brows drawn together (anger, disgust) */
  P_BROW_ARCH,    /* arched brows (surprise) */
  P_SMILE,        /* mouth corners up (+) / down (−) */
  P_MOUTH_OPEN,   /* opening height */
  P_MOUTH_WIDTH,  /* width multiplier (1 neutral) */
  P_ASYM,         /* one corner raised (contempt) */
  P_LIP_RAISE,    /* upper lip raised (disgust) */
  P_WRINKLE,      /* nose-bridge wrinkles (disgust) */
  P_TEETH,        /* visible upper teeth in an open mouth */
  P_FOLDS,        /* nasolabial folds (smile, disgust) */
  P_COUNT
};

static const float k_neutral[P_COUNT] = {1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0};

/* Prototype deltas from neutral, FER+ order. The pairs FER+ annotators confuse share cues on
 * purpose: fear/surprise (wide eyes, raised brows, open mouth), disgust/anger (lowered brows,
 * frown), contempt/neutral (one subtle cue): those are the hard classes. */
static const float k_proto[CLFER_SYNTH_EMOTIONS][P_COUNT] = {
    /* eye  raise tilt squeeze arch smile open width asym lip  wrinkle teeth folds */
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                                  /* neutral */
    {-0.28f, 0.1f, 0, 0, 0, 1.0f, 0.35f, 0.28f, 0, 0, 0, 0.8f, 0.75f},       /* happiness */
    {0.6f, 1.0f, 0, 0, 0.8f, 0, 1.0f, -0.35f, 0, 0, 0, 0.15f, 0},            /* surprise */
    {-0.22f, 0.15f, 0.9f, 0.15f, 0, -0.85f, 0, -0.1f, 0, 0, 0, 0, 0.1f},     /* sadness */
    {-0.12f, -0.75f, -1.0f, 1.0f, 0, -0.4f, 0.1f, -0.2f, 0, 0, 0, 0.3f, 0.2f}, /* anger */
    {-0.35f, -0.5f, -0.4f, 0.55f, 0, -0.55f, 0.15f, -0.05f, 0.25f, 1.0f, 1.0f, 0.2f, 0.6f}, /* disgust */
    {0.5f, 0.65f, 0.6f, 0.3f, 0.2f, -0.35f, 0.45f, 0.3f, 0, 0, 0, 0.4f, 0},  /* fear */
    {-0.1f, 0.05f, 0, 0, 0, 0.05f, 0, -0.05f, 1.0f, 0, 0, 0, 0.15f},          /* contempt */
};

/* ---- per-face state --------------------------------------------------------------------------- */

typedef struct face {
  float p[P_COUNT];
  int asym_side; /* ±1: which mouth corner contempt raises */
  /* identity */
  float face_rx, face_ry, face_cy, jaw;
  float eye_dx, eye_y, eye_rx, gaze_x, gaze_y, brow_thick, brow_gap;
  float nose_y, mouth_y, mouth_w, yaw;
  float skin, bg, bg_grad_x, bg_grad_y, hair, hairline, has_hair, lip_dark;
  /* pose and camera */
  float angle, tx, ty, scale, softness;
  float light_dir, light_amp, contrast, brightness, noise;
  int occlusion; /* 0 none, 1 block, 2 dark glasses */
  float occ_x, occ_y, occ_w, occ_h, occ_val;
} face_t;

static float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }
static float frand(clfer__rng_t *r, float lo, float hi) { return (float)clfer__rng_range(r, lo, hi); }

/* ---- signed distances in face units ----------------------------------------------------------- */

/* Ellipse (approximation k0(k0−1)/k1, good near the boundary, where anti-aliasing needs it). */
static float sd_ellipse(float x, float y, float rx, float ry) {
  float k0 = sqrtf((x / rx) * (x / rx) + (y / ry) * (y / ry));
  float k1 = sqrtf((x / (rx * rx)) * (x / (rx * rx)) + (y / (ry * ry)) * (y / (ry * ry)));
  return k1 > 1e-9f ? k0 * (k0 - 1.0f) / k1 : -fminf(rx, ry);
}

/* Distance to the segment a–b. */
static float dist_segment(float px, float py, float ax, float ay, float bx, float by) {
  float vx = bx - ax, vy = by - ay, wx = px - ax, wy = py - ay;
  float t = clampf((wx * vx + wy * vy) / (vx * vx + vy * vy + 1e-12f), 0.0f, 1.0f);
  float dx = wx - t * vx, dy = wy - t * vy;
  return sqrtf(dx * dx + dy * dy);
}

/* Distance to the quadratic Bézier a–c–b, as a 6-segment polyline. */
static float dist_bezier(float px, float py, float ax, float ay, float cx, float cy, float bx, float by) {
  float best = 1e9f, qx = ax, qy = ay;
  for (int i = 1; i <= 6; i++) {
    float t = (float)i / 6.0f, u = 1.0f - t;
    float rx = u * u * ax + 2 * u * t * cx + t * t * bx, ry = u * u * ay + 2 * u * t * cy + t * t * by;
    float d = dist_segment(px, py, qx, qy, rx, ry);
    if (d < best) best = d;
    qx = rx, qy = ry;
  }
  return best;
}

/* Coverage of a shape with signed distance d (negative inside) for an anti-aliasing width aa. */
static float coverage(float d, float aa) { return clampf(0.5f - d / aa, 0.0f, 1.0f); }

static void over(float *val, float color, float alpha) { *val += (color - *val) * alpha; }

/* ---- face description from the stream ---------------------------------------------------------- */

/* `e` drives the expression, `r` the person, pose and camera: separate streams, so one index is
 * one person whatever the expression (the contact sheet and the tests rely on it). */
static void make_face(clfer__rng_t *e, clfer__rng_t *r, const float mixture[CLFER_SYNTH_EMOTIONS], float intensity,
                      face_t *f) {
  memset(f, 0, sizeof *f);
  double wsum = 0;
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++) wsum += mixture[k] > 0 ? mixture[k] : 0;
  for (int i = 0; i < P_COUNT; i++) f->p[i] = k_neutral[i];
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS && wsum > 0; k++) {
    float w = mixture[k] > 0 ? (float)(mixture[k] / wsum) : 0.0f;
    if (w <= 0) continue;
    for (int i = 0; i < P_COUNT; i++) {
      float jitter = k_proto[k][i] != 0 ? frand(e, 0.75f, 1.25f) : 1.0f; /* people differ */
      f->p[i] += intensity * w * k_proto[k][i] * jitter;
    }
  }
  if (mixture[1] > 0 && clfer__rng_uniform(e) < 0.4) f->p[P_MOUTH_OPEN] *= 0.15f, f->p[P_TEETH] *= 0.3f; /* closed smiles */
  for (int i = 0; i < P_COUNT; i++) f->p[i] += 0.06f * (float)clfer__rng_normal(e); /* resting-face variety */
  f->p[P_EYE_OPEN] = clampf(f->p[P_EYE_OPEN], 0.25f, 2.0f);
  f->p[P_MOUTH_OPEN] = clampf(f->p[P_MOUTH_OPEN], 0.0f, 1.4f);
  f->p[P_MOUTH_WIDTH] = clampf(f->p[P_MOUTH_WIDTH], 0.55f, 1.5f);
  f->p[P_TEETH] = clampf(f->p[P_TEETH], 0.0f, 1.0f);
  f->p[P_WRINKLE] = clampf(f->p[P_WRINKLE], 0.0f, 1.2f);
  f->p[P_FOLDS] = clampf(f->p[P_FOLDS], 0.0f, 1.2f);
  f->p[P_ASYM] = clampf(f->p[P_ASYM], -0.2f, 1.4f);
  f->p[P_LIP_RAISE] = clampf(f->p[P_LIP_RAISE], 0.0f, 1.3f);
  f->asym_side = clfer__rng_uniform(e) < 0.5 ? -1 : 1;

  f->face_rx = 0.66f * frand(r, 0.9f, 1.1f);
  f->face_ry = 0.88f * frand(r, 0.94f, 1.06f);
  f->face_cy = 0.06f + frand(r, -0.03f, 0.03f);
  f->jaw = frand(r, 0.0f, 0.35f);
  f->eye_dx = 0.29f * frand(r, 0.92f, 1.08f);
  f->eye_y = -0.1f + frand(r, -0.04f, 0.04f);
  f->eye_rx = 0.125f * frand(r, 0.88f, 1.12f);
  f->gaze_x = frand(r, -0.025f, 0.025f);
  f->gaze_y = frand(r, -0.01f, 0.01f);
  f->brow_thick = 0.045f * frand(r, 0.75f, 1.35f);
  f->brow_gap = 0.17f * frand(r, 0.9f, 1.1f);
  f->nose_y = 0.2f + frand(r, -0.03f, 0.03f);
  f->mouth_y = 0.45f + frand(r, -0.04f, 0.04f);
  f->mouth_w = 0.25f * frand(r, 0.88f, 1.12f);
  f->yaw = frand(r, -0.5f, 0.5f);

  f->skin = frand(r, 85, 215);
  f->bg = frand(r, 15, 240);
  if (fabsf(f->bg - f->skin) < 30) f->bg = f->skin + (f->skin > 128 ? -60.0f : 60.0f);
  f->bg_grad_x = frand(r, -40, 40), f->bg_grad_y = frand(r, -40, 40);
  f->has_hair = clfer__rng_uniform(r) < 0.85 ? 1.0f : 0.0f;
  f->hair = clfer__rng_uniform(r) < 0.8 ? frand(r, 10, 80) : frand(r, 150, 230);
  f->hairline = -0.5f + frand(r, -0.12f, 0.1f);
  f->lip_dark = frand(r, 0.45f, 0.7f);

  f->angle = clampf(0.1f * (float)clfer__rng_normal(r), -0.26f, 0.26f); /* ~6° s.d., ±15° */
  f->tx = frand(r, -2.0f, 2.0f), f->ty = frand(r, -2.0f, 2.0f);
  f->scale = frand(r, 0.9f, 1.1f);
  f->softness = frand(r, 1.0f, 1.9f);
  f->light_dir = frand(r, 0, 6.2831853f);
  f->light_amp = frand(r, 0.0f, 0.35f);
  f->contrast = frand(r, 0.7f, 1.2f);
  f->brightness = frand(r, -20, 20);
  f->noise = frand(r, 1.0f, 7.0f);
  double occ = clfer__rng_uniform(r);
  f->occlusion = occ < 0.04 ? 1 : occ < 0.06 ? 2 : 0;
  f->occ_x = frand(r, -0.7f, 0.7f), f->occ_y = frand(r, -0.5f, 0.8f);
  f->occ_w = frand(r, 0.15f, 0.4f), f->occ_h = frand(r, 0.15f, 0.4f);
  f->occ_val = clfer__rng_uniform(r) < 0.5 ? frand(r, 10, 60) : frand(r, 150, 230);
}

/* ---- drawing ---------------------------------------------------------------------------------- */

/* Mouth centre line (face units): corners up with smile, one corner up with asymmetry. */
static float mouth_line(const face_t *f, float x, float W) {
  float t = x / W, side = (float)f->asym_side * t;
  return f->mouth_y - f->p[P_SMILE] * 0.085f * t * t - f->p[P_ASYM] * 0.08f * (side > 0 ? side * side : 0) +
         0.02f * f->p[P_LIP_RAISE];
}

static float shade_pixel(const face_t *f, float u, float v, float aa) {
  /* background with a gradient */
  float val = f->bg + f->bg_grad_x * u + f->bg_grad_y * v;
  float fx = u, fy = v - f->face_cy;
  /* neck */
  float dneck = fmaxf(fabsf(u) - 0.3f, f->face_cy + 0.5f - v);
  over(&val, f->skin * 0.8f, coverage(dneck, aa));
  /* hair mass behind and above the face */
  if (f->has_hair > 0) {
    float dh = sd_ellipse(fx, fy + 0.06f, f->face_rx * 1.15f, f->face_ry * 1.1f);
    dh = fmaxf(dh, v - (f->hairline + 0.55f + 0.25f * fabsf(u)));
    over(&val, f->hair, coverage(dh, aa));
  }
  /* face oval, narrower at the jaw */
  float jaw = fy > 0 ? 1.0f - f->jaw * (fy / f->face_ry) * 0.5f : 1.0f;
  float dface = sd_ellipse(fx / jaw, fy, f->face_rx, f->face_ry) * jaw;
  float r2 = (fx / f->face_rx) * (fx / f->face_rx) + (fy / f->face_ry) * (fy / f->face_ry);
  float skin = f->skin * (1.0f - 0.16f * r2);
  over(&val, skin, coverage(dface, aa));
  if (f->has_hair > 0) { /* fringe over the forehead */
    float dfr = fmaxf(sd_ellipse(fx, fy + 0.06f, f->face_rx * 1.15f, f->face_ry * 1.1f),
                      v - (f->hairline + 0.08f * (u / f->face_rx) * (u / f->face_rx)));
    over(&val, f->hair, coverage(dfr, aa));
  }
  if (dface > 0.05f) return val;

  float shift = f->yaw * 0.08f; /* head turn: features slide sideways on the oval */
  float dark = f->skin * 0.3f;

  /* forehead lines when brows go up */
  if (f->p[P_BROW_RAISE] > 0.4f && v < f->eye_y - 0.2f) {
    float s = clampf((f->p[P_BROW_RAISE] - 0.4f) * 0.8f, 0, 0.5f);
    for (int j = 0; j < 2; j++) {
      float yy = f->eye_y - 0.33f - 0.07f * j - 0.05f * f->p[P_BROW_RAISE];
      float d = dist_segment(u, v, shift - 0.2f, yy, shift + 0.2f, yy) - 0.008f;
      over(&val, skin * 0.75f, s * coverage(d, aa));
    }
  }

  for (int side = -1; side <= 1; side += 2) {
    float sx = (float)side;
    float ex = shift + sx * f->eye_dx, ey = f->eye_y;
    float eye_ry = f->eye_rx * 0.5f * f->p[P_EYE_OPEN];
    /* eye: white, iris clipped to the opening, upper lid line */
    if (fabsf(v - ey) < 0.25f && fabsf(u - ex) < 0.25f) {
      float de = sd_ellipse(u - ex, v - ey, f->eye_rx, eye_ry);
      over(&val, fminf(skin + 35.0f, 245.0f), coverage(de, aa));
      float di = sqrtf((u - ex - f->gaze_x) * (u - ex - f->gaze_x) + (v - ey - f->gaze_y) * (v - ey - f->gaze_y)) -
                 0.06f;
      over(&val, 30.0f, coverage(fmaxf(di, de), aa));
      float dl = fabsf(de) - 0.012f;
      if (v < ey + 0.01f) over(&val, dark, 0.9f * coverage(dl, aa));
      /* lower-lid tension (squint, disgust) */
      float squint = clampf(0.8f - f->p[P_EYE_OPEN], 0.0f, 0.6f);
      if (squint > 0) {
        float d = dist_bezier(u, v, ex - sx * f->eye_rx, ey + eye_ry + 0.03f, ex, ey + eye_ry + 0.06f,
                              ex + sx * f->eye_rx, ey + eye_ry + 0.03f) -
                  0.01f;
        over(&val, skin * 0.7f, squint * coverage(d, aa));
      }
    }
    /* brow: inner end → middle → outer end */
    float base = ey - f->brow_gap - f->p[P_BROW_RAISE] * 0.09f;
    float ix = shift + sx * (f->eye_dx - f->eye_rx * 0.95f - f->p[P_BROW_SQUEEZE] * 0.035f);
    float ox = shift + sx * (f->eye_dx + f->eye_rx * 1.2f);
    float iy = base - f->p[P_BROW_TILT] * 0.075f + f->p[P_BROW_SQUEEZE] * 0.02f;
    float oy = base + f->p[P_BROW_TILT] * 0.025f;
    float mx = shift + sx * f->eye_dx, my = 0.5f * (iy + oy) - 0.035f - f->p[P_BROW_ARCH] * 0.05f;
    if (fabsf(v - base) < 0.3f) {
      float db = dist_bezier(u, v, ix, iy, mx, my, ox, oy) - f->brow_thick * 0.5f;
      over(&val, fminf(dark + 20.0f, f->hair + 25.0f), coverage(db, aa));
      /* vertical frown lines between squeezed brows */
      if (f->p[P_BROW_SQUEEZE] > 0.4f && side == 1) {
        float d = dist_segment(u, v, shift - 0.04f, iy + 0.01f, shift - 0.03f, iy + 0.08f) - 0.007f;
        float d2 = dist_segment(u, v, shift + 0.04f, iy + 0.01f, shift + 0.03f, iy + 0.08f) - 0.007f;
        float s = clampf((f->p[P_BROW_SQUEEZE] - 0.4f), 0, 0.6f);
        over(&val, skin * 0.7f, s * coverage(fminf(d, d2), aa));
      }
    }
    /* nostril and nose side */
    float nx = shift * 1.3f + sx * 0.07f;
    float dn = sd_ellipse(u - nx, v - f->nose_y, 0.035f, 0.022f);
    over(&val, skin * 0.5f, 0.85f * coverage(dn, aa));
    float ds = dist_segment(u, v, shift + sx * 0.045f, ey + 0.1f, shift * 1.2f + sx * 0.085f, f->nose_y - 0.04f) -
               0.01f;
    over(&val, skin * 0.8f, 0.5f * coverage(ds, aa));
    /* nasolabial fold */
    float W = f->mouth_w * f->p[P_MOUTH_WIDTH];
    if (f->p[P_FOLDS] > 0.05f) {
      float ax = shift * 1.2f + sx * 0.13f, ay = f->nose_y - 0.01f;
      float bx = shift + sx * (W + 0.06f), by = f->mouth_y + 0.06f;
      float d = dist_bezier(u, v, ax, ay, shift + sx * (W + 0.12f), 0.5f * (ay + by), bx, by) - 0.01f;
      over(&val, skin * 0.62f, clampf(f->p[P_FOLDS], 0, 1) * 0.8f * coverage(d, aa));
    }
  }

  /* disgust: wrinkles across the nose bridge */
  if (f->p[P_WRINKLE] > 0.1f) {
    for (int j = 0; j < 3; j++) {
      float yy = f->eye_y + 0.06f + 0.045f * j;
      float d = dist_bezier(u, v, shift - 0.07f, yy + 0.01f, shift, yy - 0.012f, shift + 0.07f, yy + 0.01f) - 0.008f;
      over(&val, skin * 0.6f, clampf(f->p[P_WRINKLE], 0, 1) * 0.85f * coverage(d, aa));
    }
  }

  /* mouth */
  float W = f->mouth_w * f->p[P_MOUTH_WIDTH];
  float mu = u - shift;
  if (fabsf(v - f->mouth_y) < 0.35f && fabsf(mu) < W + 0.15f) {
    float lip = skin * f->lip_dark;
    float open = f->p[P_MOUTH_OPEN] * 0.13f + f->p[P_LIP_RAISE] * 0.03f;
    float xc = clampf(mu, -W, W);
    float c = mouth_line(f, xc, W);
    float slope = (mouth_line(f, clampf(xc + 0.01f, -W, W), W) - mouth_line(f, clampf(xc - 0.01f, -W, W), W)) / 0.02f;
    if (open > 0.012f) {
      float t = 1.0f - (xc / W) * (xc / W);
      float tp = powf(fmaxf(t, 0.0f), 0.8f);
      float up = c - open * 0.35f * tp - f->p[P_LIP_RAISE] * 0.035f * t;
      float lo = c + open * 0.65f * tp;
      float dm = fmaxf(fmaxf(up - v, v - lo), fabsf(mu) - W) / sqrtf(1.0f + slope * slope);
      over(&val, lip, coverage(dm - 0.028f, aa)); /* lips around the opening */
      over(&val, 28.0f, coverage(dm, aa));
      if (f->p[P_TEETH] > 0.05f) {
        float dt = fmaxf(dm, v - (up + f->p[P_TEETH] * 0.45f * (lo - up)));
        over(&val, fminf(skin + 45.0f, 235.0f), coverage(dt, aa));
      }
    } else {
      float dc = fabsf(v - c) / sqrtf(1.0f + slope * slope);
      if (fabsf(mu) > W) {
        float ex = mu > 0 ? W : -W;
        dc = sqrtf((mu - ex) * (mu - ex) + (v - c) * (v - c));
      }
      over(&val, lip, coverage(dc - 0.022f, aa));
    }
    /* lower-lip shadow */
    float ds = dist_segment(mu, v, -0.5f * W, c + open * 0.65f + 0.07f, 0.5f * W, c + open * 0.65f + 0.07f) - 0.012f;
    over(&val, skin * 0.82f, 0.6f * coverage(ds, aa));
    /* contempt's dimple at the raised corner */
    if (f->p[P_ASYM] > 0.3f) {
      float cx = (float)f->asym_side * (W + 0.025f);
      float dd = sqrtf((mu - cx) * (mu - cx) + (v - mouth_line(f, (float)f->asym_side * W, W)) *
                                                   (v - mouth_line(f, (float)f->asym_side * W, W))) -
                 0.022f;
      over(&val, skin * 0.6f, clampf(f->p[P_ASYM] - 0.3f, 0, 0.8f) * coverage(dd, aa));
    }
  }
  return val;
}

static void render_face(clfer__rng_t *r, const face_t *f, uint8_t *out) {
  const int S = CLFER_SYNTH_SIZE;
  float px_per_unit = 22.0f * f->scale, inv = 1.0f / px_per_unit, aa = f->softness * inv;
  float ca = cosf(f->angle), sa = sinf(f->angle);
  float lx = cosf(f->light_dir), ly = sinf(f->light_dir);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      float dx = (float)x + 0.5f - 0.5f * S - f->tx, dy = (float)y + 0.5f - 0.5f * S - f->ty;
      float u = (ca * dx + sa * dy) * inv, v = (-sa * dx + ca * dy) * inv;
      float val = shade_pixel(f, u, v, aa);
      if (f->occlusion == 1) {
        float d = fmaxf(fabsf(u - f->occ_x) - f->occ_w, fabsf(v - f->occ_y) - f->occ_h);
        over(&val, f->occ_val, coverage(d, aa));
      } else if (f->occlusion == 2) { /* dark glasses over both eyes */
        float d = fmaxf(fabsf(u) - 0.48f, fabsf(v - f->eye_y) - 0.09f);
        over(&val, 25.0f, coverage(d, aa));
      }
      val *= 1.0f + f->light_amp * (lx * u + ly * v);
      val = (val - 128.0f) * f->contrast + 128.0f + f->brightness;
      val += f->noise * (float)clfer__rng_normal(r);
      out[y * S + x] = (uint8_t)clampf(floorf(val + 0.5f), 0.0f, 255.0f);
    }
}

clfer_status clfer_synth_render(uint64_t seed, uint64_t index, const float mixture[CLFER_SYNTH_EMOTIONS],
                                float intensity, uint8_t *out) {
  if (!mixture || !out) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_render: NULL mixture or output");
  if (!(intensity >= 0.0f && intensity <= 4.0f))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_render: intensity %g outside 0..4", intensity);
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++)
    if (!isfinite(mixture[k]) || mixture[k] < 0)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_render: mixture[%d] = %g", k, mixture[k]);
  clfer__rng_t expr = clfer__rng_stream(seed, index, 0x65787072u /* "expr" */);
  clfer__rng_t person = clfer__rng_stream(seed, index, 0x70657273u /* "pers" */);
  clfer__rng_t noise = clfer__rng_stream(seed, index, 0x6e6f6973u /* "nois" */);
  face_t f;
  make_face(&expr, &person, mixture, intensity, &f);
  render_face(&noise, &f, out);
  return CLFER_OK;
}

/* Not-a-face images (FER+ rows with an empty name): smooth random texture plus noise. */
void clfer__synth_render_nonface(uint64_t seed, uint64_t index, uint8_t *out) {
  clfer__rng_t r = clfer__rng_stream(seed, index, 0x6e6f6e66u /* "nonf" */);
  const int S = CLFER_SYNTH_SIZE;
  float base = frand(&r, 30, 220), amp[4], fx[4], fy[4], ph[4];
  for (int k = 0; k < 4; k++)
    amp[k] = frand(&r, 10, 50), fx[k] = frand(&r, -0.4f, 0.4f), fy[k] = frand(&r, -0.4f, 0.4f),
    ph[k] = frand(&r, 0, 6.28f);
  float noise = frand(&r, 3, 25);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      float v = base;
      for (int k = 0; k < 4; k++) v += amp[k] * sinf(fx[k] * x + fy[k] * y + ph[k]);
      v += noise * (float)clfer__rng_normal(&r);
      out[y * S + x] = (uint8_t)clampf(floorf(v + 0.5f), 0.0f, 255.0f);
    }
}
