/* Ops a plugin brings (plugin ABI 1.5), with the test plugin
 * tests/plugins/ops/testops_plugin.c: they run through xrt_op_run,
 * xrt_op_run_outputs and xrt_op_run_impl like built-in ops (checks, output
 * shapes, profiler), and each badops build, whose op section breaks one
 * rule, is listed unavailable with the reason. XRT_PLUGIN_PATH names the
 * test plugin first, then the badops builds; argv[1] is a trace path. */
#include <math.h>
#include <stdlib.h>

#include "check.h"

static xrt_device_t* cpu;

static float* data_of(const xrt_tensor_t* t) {
  void* data = NULL;
  xrt_tensor_data(t, &data);
  return (float*)data;
}

static xrt_tensor_t* random_tensor(int32_t ndim, const int64_t* shape) {
  xrt_tensor_t* t = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, ndim, shape, &t));
  int64_t n = 1;
  for (int32_t d = 0; d < ndim; ++d) n *= shape[d];
  for (int64_t i = 0; i < n; ++i) data_of(t)[i] = (float)rand() / RAND_MAX * 4.0f - 2.0f;
  return t;
}

static int has_shape(const xrt_tensor_t* t, int32_t ndim, const int64_t* shape) {
  int32_t got_ndim = 0;
  const int64_t* got = NULL;
  if (xrt_tensor_shape(t, &got_ndim, &got) != XRT_OK || got_ndim != ndim) return 0;
  for (int32_t d = 0; d < ndim; ++d)
    if (got[d] != shape[d]) return 0;
  return 1;
}

static void expect_backend(const char* name, int available, const char* reason_part) {
  int32_t count = 0;
  CHECK_OK(xrt_backend_count(&count));
  for (int32_t i = 0; i < count; ++i) {
    xrt_backend_info_t info = {sizeof info};
    if (xrt_backend_info(i, &info) != XRT_OK || strcmp(info.name, name) != 0) continue;
    CHECK(info.available == available);
    if (reason_part && !strstr(info.reason, reason_part)) {
      ++check_failed;
      fprintf(stderr, "backend %s: reason \"%s\" lacks \"%s\"\n", name, info.reason, reason_part);
    }
    return;
  }
  ++check_failed;
  fprintf(stderr, "backend %s is not listed\n", name);
}

static void test_backends(void) {
  expect_backend("testops", 1, NULL);
  expect_backend("badops_duplicate", 0, "defines op 'badops.twice' twice");
  expect_backend("badops_taken", 0,
                 "defines op 'testops.scale_shift', which backend 'testops' already defines");
  expect_backend("badops_builtin", 0, "op 'add' is not namespaced");
  expect_backend("badops_too_many_inputs", 0, "has 7 inputs, expected 1 to 6");
  expect_backend("badops_null_input_name", 0, "input #1 has no name");
  expect_backend("badops_optional_beyond", 0, "marks inputs beyond its 2");
  expect_backend("badops_required_after_optional", 0,
                 "input 'needed' is required but follows optional input 'maybe'");
  expect_backend("badops_bad_attr_type", 0, "attribute 'alpha' has type code 9");
  expect_backend("badops_short_entry", 0, "op schema #0 is 16 bytes");
}

static void test_scale_shift(void) {
  const int64_t shape[3] = {2, 3, 5};
  xrt_tensor_t* x = random_tensor(3, shape);
  xrt_tensor_t* offset = random_tensor(3, shape);
  const xrt_attr_t attrs[] = {{"scale", XRT_ATTR_FLOAT, 0, 1.5}, {"shift", XRT_ATTR_INT, -2, 0}};

  const xrt_tensor_t* plain[] = {x};
  xrt_tensor_t* y = NULL;
  CHECK_OK(xrt_op_run("testops.scale_shift", plain, 1, attrs, 2, NULL, &y));
  const xrt_tensor_t* with_offset[] = {x, offset};
  xrt_tensor_t* z = NULL;
  CHECK_OK(xrt_op_run("testops.scale_shift", with_offset, 2, attrs, 2, NULL, &z));
  xrt_tensor_t* defaults = NULL; /* scale 1, shift 0 */
  CHECK_OK(xrt_op_run("testops.scale_shift", plain, 1, NULL, 0, NULL, &defaults));
  int right = y && z && defaults && has_shape(y, 3, shape) && has_shape(z, 3, shape);
  for (int i = 0; right && i < 30; ++i) {
    const float want = data_of(x)[i] * 1.5f - 2.0f;
    right = fabsf(data_of(y)[i] - want) < 1e-5f &&
            fabsf(data_of(z)[i] - (want + data_of(offset)[i])) < 1e-5f &&
            data_of(defaults)[i] == data_of(x)[i];
  }
  CHECK(right);

  /* The kernel by name, on a stream of the inputs' device. */
  xrt_stream_t* stream = NULL;
  CHECK_OK(xrt_stream_create(cpu, &stream));
  xrt_tensor_t* forced = NULL;
  CHECK_OK(xrt_op_run_impl("testops.scale_shift", "testops.scale_shift_f32", plain, 1, attrs, 2,
                           stream, &forced, 1));
  CHECK(forced && data_of(forced)[7] == data_of(y)[7]);
  xrt_tensor_t* none = NULL;
  CHECK_ERROR(xrt_op_run_impl("testops.scale_shift", "cpu.nothing", plain, 1, NULL, 0, NULL,
                              &none, 1),
              XRT_ERROR_NOT_FOUND, "testops.scale_shift_f32");

  /* The same checks as for built-in ops. */
  const int64_t other_shape[2] = {3, 5};
  xrt_tensor_t* small = random_tensor(2, other_shape);
  const xrt_tensor_t* mismatched[] = {x, small};
  CHECK_ERROR(xrt_op_run("testops.scale_shift", mismatched, 2, NULL, 0, NULL, &none),
              XRT_ERROR_INVALID_ARGUMENT,
              "offset has shape (3, 5), expected x's shape (2, 3, 5) (the op is element-wise)");
  const xrt_tensor_t* missing[] = {NULL};
  CHECK_ERROR(xrt_op_run("testops.scale_shift", missing, 1, NULL, 0, NULL, &none),
              XRT_ERROR_INVALID_ARGUMENT, "input 'x' is NULL");
  const xrt_attr_t unknown[] = {{"bias", XRT_ATTR_FLOAT, 0, 1.0}};
  CHECK_ERROR(xrt_op_run("testops.scale_shift", plain, 1, unknown, 1, NULL, &none),
              XRT_ERROR_INVALID_ARGUMENT, "unknown attribute 'bias' (expected: scale, shift)");
  xrt_tensor_t* doubles = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT64, 3, shape, &doubles));
  const xrt_tensor_t* wrong_dtype[] = {doubles};
  CHECK_ERROR(xrt_op_run("testops.scale_shift", wrong_dtype, 1, NULL, 0, NULL, &none),
              XRT_ERROR_UNSUPPORTED, "testops.scale_shift_f32 (float32)");
  CHECK(none == NULL);

  xrt_tensor_release(doubles);
  xrt_tensor_release(small);
  xrt_tensor_release(forced);
  xrt_stream_release(stream);
  xrt_tensor_release(defaults);
  xrt_tensor_release(z);
  xrt_tensor_release(y);
  xrt_tensor_release(offset);
  xrt_tensor_release(x);
}

static void test_row_stats(void) {
  const int64_t shape[3] = {4, 3, 6}, stats_shape[2] = {4, 3};
  xrt_tensor_t* x = random_tensor(3, shape);
  const xrt_tensor_t* inputs[] = {x};
  xrt_tensor_t* outputs[2] = {NULL, NULL};
  CHECK_OK(xrt_op_run_outputs("testops.row_stats", inputs, 1, NULL, 0, NULL, outputs, 2));
  int right = outputs[0] && outputs[1] && has_shape(outputs[0], 2, stats_shape) &&
              has_shape(outputs[1], 2, stats_shape);
  for (int r = 0; right && r < 12; ++r) {
    float sum = 0, max = -INFINITY;
    for (int i = 0; i < 6; ++i) {
      const float v = data_of(x)[r * 6 + i];
      sum += v;
      max = v > max ? v : max;
    }
    right = fabsf(data_of(outputs[0])[r] - sum) < 1e-4f && data_of(outputs[1])[r] == max;
  }
  CHECK(right);
  xrt_tensor_release(outputs[0]);
  xrt_tensor_release(outputs[1]);

  xrt_tensor_t* one = NULL;
  CHECK_ERROR(xrt_op_run("testops.row_stats", inputs, 1, NULL, 0, NULL, &one),
              XRT_ERROR_INVALID_ARGUMENT, "testops.row_stats has 2 outputs, the call asked for 1");
  xrt_tensor_t* scalar = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 0, NULL, &scalar));
  const xrt_tensor_t* bad[] = {scalar};
  CHECK_ERROR(xrt_op_run_outputs("testops.row_stats", bad, 1, NULL, 0, NULL, outputs, 2),
              XRT_ERROR_INVALID_ARGUMENT,
              "testops.row_stats: x needs a non-empty last axis, got 0 dimensions");
  xrt_tensor_release(scalar);
  xrt_tensor_release(x);
}

static void test_unknown_ops(void) {
  const int64_t shape[1] = {3};
  xrt_tensor_t* x = random_tensor(1, shape);
  const xrt_tensor_t* inputs[] = {x};
  xrt_tensor_t* out = NULL;
  CHECK_ERROR(xrt_op_run("testops.missing", inputs, 1, NULL, 0, NULL, &out), XRT_ERROR_NOT_FOUND,
              "bias_gelu, bias_gelu_backward, attention, attention_lse, attention_backward, "
              "attention_varlen, attention_varlen_lse, attention_varlen_backward, "
              "attention_decode, kv_cache_append, testops.scale_shift, testops.row_stats)");
  /* Ops of a plugin that was refused are not registered. */
  CHECK_ERROR(xrt_op_run("badops.twice", inputs, 1, NULL, 0, NULL, &out), XRT_ERROR_NOT_FOUND,
              "unknown op 'badops.twice'");
  xrt_tensor_release(x);
}

static void test_profiler(const char* trace_path) {
  const int64_t shape[2] = {2, 8};
  xrt_tensor_t* x = random_tensor(2, shape);
  const xrt_tensor_t* inputs[] = {x};
  xrt_tensor_t* y = NULL;
  CHECK_OK(xrt_profiler_start());
  CHECK_OK(xrt_op_run("testops.scale_shift", inputs, 1, NULL, 0, NULL, &y));
  CHECK_OK(xrt_profiler_stop());
  CHECK_OK(xrt_profiler_export(trace_path));
  FILE* f = fopen(trace_path, "rb");
  CHECK(f != NULL);
  if (f) {
    char buf[8192] = {0};
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    CHECK(n > 0 && strstr(buf, "\"name\": \"testops.scale_shift\"") &&
          strstr(buf, "\"impl\": \"testops.scale_shift_f32\"") &&
          strstr(buf, "\"backend\": \"testops\"") && strstr(buf, "\"x\": \"(2, 8)\""));
  }
  xrt_tensor_release(y);
  xrt_tensor_release(x);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s TRACE_PATH\n", argv[0]);
    return 2;
  }
  srand(12345u ^ (unsigned)(size_t)&argc);
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  test_backends();
  test_scale_shift();
  test_row_stats();
  test_unknown_ops();
  test_profiler(argv[1]);
  return check_report("plugin_ops");
}
