/* test_torch_parity.c — a clfer checkpoint of vgg13_ferplus loads into the equivalent PyTorch model
 * (tests/scripts/torch_models.py) with load_state_dict(strict=True) and gives clfer's logits
 * within 1e-4. Skipped when Debian's python3-torch is not installed. */
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

static void write_floats(const char *path, const float *x, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s", path);
  cr_assert_eq(fwrite(x, sizeof *x, n, f), n);
  fclose(f);
}

Test(torch_parity, vgg13_ferplus_logits_match_pytorch, .timeout = 600) {
  if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) cr_skip_test("python3-torch is not installed");
  clfer_runtime_t *rt = test_runtime();
  enum { N = 2, C = 1, H = 64, W = 64, K = 8 };
  clfer_net_t *net;
  cr_assert_eq(clfer_zoo_build(rt, "vgg13_ferplus", C, H, W, K, &net), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_GLOROT_UNIFORM, 42), CLFER_OK);
  /* non-zero biases so they are checked too */
  for (int i = 0; i < clfer_net_param_count(net); i++) {
    clfer_net_param_t *p = clfer_net_param(net, i);
    if (p->value.ndim == 1) clfer_tensor_fill(&p->value, 0.01f * (float)(i % 7));
  }
  clfer_tensor_t x;
  int shape[4] = {N, C, H, W};
  clfer_tensor_create(rt, 4, shape, &x);
  static float in[N * C * H * W], logits[N * K];
  test_fill_uniform(in, N * C * H * W, 3, -1, 1);
  clfer_tensor_upload(&x, in);
  const clfer_tensor_t *y;
  cr_assert_eq(clfer_net_forward(net, &x, 0, 0, &y), CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(y, logits);
  const char *dir = test_tmpdir("torch-parity");
  char ckpt[1100], inp[1100], out[1100], cmd[4000];
  snprintf(ckpt, sizeof ckpt, "%s/vgg13.safetensors", dir);
  snprintf(inp, sizeof inp, "%s/input.f32", dir);
  snprintf(out, sizeof out, "%s/logits.f32", dir);
  cr_assert_eq(clfer_net_save(net, ckpt, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  write_floats(inp, in, N * C * H * W);
  write_floats(out, logits, N * K);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/scripts/torch_parity.py vgg13_ferplus %s %s %s %d %d %d %d %d",
           CLFER_SOURCE_DIR, ckpt, inp, out, N, C, H, W, K);
  int rc = system(cmd);
  cr_assert_eq(WEXITSTATUS(rc), 0, "PyTorch's logits differ from clfer's (see the output above)");
  clfer_tensor_release(&x);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}
