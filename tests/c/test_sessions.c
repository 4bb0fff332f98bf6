/* Model sessions through the C API on the ONNX Runtime plugin: metadata,
 * runs from a path and from bytes, and every bad call refused with a typed
 * error; failing runs in a loop leak nothing (checked under valgrind). */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static xrt_device_t* cpu;

static char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char* data = malloc(*size);
  if (data && fread(data, 1, *size, f) != *size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

static void check_add(xrt_session_t* session) {
  const int64_t shape[2] = {3, 4};
  float x[12];
  for (int i = 0; i < 12; ++i) x[i] = (float)i;
  xrt_tensor_t* input = NULL;
  CHECK_OK(xrt_tensor_wrap(cpu, XRT_FLOAT32, 2, shape, NULL, x, NULL, NULL, &input));
  const char* names[1] = {"x"};
  const xrt_tensor_t* inputs[1] = {input};
  xrt_tensor_t* out = NULL;
  CHECK_OK(xrt_session_run(session, names, inputs, 1, NULL, 1, &out));
  if (out) {
    xrt_tensor_info_t info = {sizeof info};
    CHECK_OK(xrt_tensor_info(out, &info));
    const float* y = (const float*)info.data;
    CHECK(info.ndim == 2 && info.shape[0] == 3 && info.shape[1] == 4);
    int ok = 1;
    for (int i = 0; i < 12; ++i) ok &= y[i] == x[i] + (float)(i % 4 + 1);
    CHECK(ok);
  }
  xrt_tensor_release(out);
  xrt_tensor_release(input);
}

static void check_bad_runs(xrt_session_t* session, int rounds) {
  const int64_t good_shape[2] = {2, 4}, bad_rank[1] = {4}, bad_dim[2] = {2, 5};
  xrt_tensor_t *good = NULL, *rank = NULL, *dim = NULL, *f64 = NULL, *out = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, good_shape, &good));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, bad_rank, &rank));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, bad_dim, &dim));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT64, 2, good_shape, &f64));
  const char* x[2] = {"x", "x"};
  const char* wrong[1] = {"z"};
  const xrt_tensor_t* two[2] = {good, good};
  for (int r = 0; r < rounds; ++r) {
    const xrt_tensor_t* in[1] = {good};
    CHECK_ERROR(xrt_session_run(session, wrong, in, 1, NULL, 1, &out), XRT_ERROR_INVALID_ARGUMENT,
                "unknown input 'z'");
    CHECK_ERROR(xrt_session_run(session, x, in, 0, NULL, 1, &out), XRT_ERROR_INVALID_ARGUMENT,
                "missing input 'x'");
    CHECK_ERROR(xrt_session_run(session, x, two, 2, NULL, 1, &out), XRT_ERROR_INVALID_ARGUMENT,
                "given twice");
    in[0] = f64;
    CHECK_ERROR(xrt_session_run(session, x, in, 1, NULL, 1, &out), XRT_ERROR_INVALID_ARGUMENT,
                "the model expects float32");
    in[0] = rank;
    CHECK_ERROR(xrt_session_run(session, x, in, 1, NULL, 1, &out), XRT_ERROR_INVALID_ARGUMENT,
                "rank 2 (batch, 4)");
    in[0] = dim;
    CHECK_ERROR(xrt_session_run(session, x, in, 1, NULL, 1, &out), XRT_ERROR_INVALID_ARGUMENT,
                "dimension 1 differs");
    in[0] = good;
    CHECK_ERROR(xrt_session_run(session, x, in, 1, wrong, 1, &out), XRT_ERROR_INVALID_ARGUMENT,
                "unknown output 'z'");
  }
  CHECK(out == NULL);
  xrt_tensor_release(good);
  xrt_tensor_release(rank);
  xrt_tensor_release(dim);
  xrt_tensor_release(f64);
}

/* Run options: terminate stops runs until cleared; NULL options run as
 * xrt_session_run does. */
static void check_run_options(xrt_session_t* session) {
  const int64_t shape[2] = {2, 4};
  xrt_tensor_t *x = NULL, *out = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, shape, &x));
  const char* names[1] = {"x"};
  const xrt_tensor_t* in[1] = {x};
  xrt_run_options_t* options = NULL;
  CHECK_OK(xrt_run_options_create(&options));
  CHECK_OK(xrt_session_run_with_options(session, NULL, names, in, 1, NULL, 1, &out));
  xrt_tensor_release(out);
  out = NULL;
  CHECK_OK(xrt_session_run_with_options(session, options, names, in, 1, NULL, 1, &out));
  xrt_tensor_release(out);
  out = NULL;
  CHECK_OK(xrt_run_options_set_terminate(options, 1));
  CHECK_ERROR(xrt_session_run_with_options(session, options, names, in, 1, NULL, 1, &out),
              XRT_ERROR_BACKEND, "stopped");
  CHECK(out == NULL);
  CHECK_ERROR(xrt_run_options_set_terminate(options, 2), XRT_ERROR_INVALID_ARGUMENT, "0 or 1");
  CHECK_ERROR(xrt_run_options_set_terminate(NULL, 1), XRT_ERROR_INVALID_ARGUMENT, "NULL");
  CHECK_OK(xrt_run_options_set_terminate(options, 0));
  CHECK_OK(xrt_session_run_with_options(session, options, names, in, 1, NULL, 1, &out));
  xrt_tensor_release(out);
  xrt_run_options_release(options);
  xrt_run_options_release(NULL);
  CHECK_ERROR(xrt_run_options_create(NULL), XRT_ERROR_INVALID_ARGUMENT, "out");
  xrt_tensor_release(x);
}

/* x (3, 4) filled with `base + i` and the expected y = x + (1, 2, 3, 4). */
static xrt_tensor_t* add_input(float base, float* expected) {
  const int64_t shape[2] = {3, 4};
  xrt_tensor_t* x = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &x));
  float* xs = NULL;
  CHECK_OK(xrt_tensor_data(x, (void**)&xs));
  for (int i = 0; xs && i < 12; ++i) {
    xs[i] = base + (float)i;
    expected[i] = xs[i] + (float)(i % 4 + 1);
  }
  return x;
}

static int holds(const xrt_tensor_t* t, const float* expected) {
  void* raw = NULL;
  if (xrt_tensor_data(t, &raw) != XRT_OK || !raw) return 0;
  const float* data = raw;
  for (int i = 0; i < 12; ++i)
    if (data[i] != expected[i]) return 0;
  return 1;
}

/* xrt_session_run_into: the caller's tensor receives the output, run after
 * run (ONNX Runtime keeps it bound), mixed with runs that make new outputs;
 * a tensor it cannot write into is refused naming the output, what was given
 * and what was expected, and failing runs leak nothing. */
static void check_run_into(xrt_session_t* session, int rounds) {
  const int64_t shape[2] = {3, 4}, short_batch[2] = {2, 4}, wide[2] = {3, 5};
  float expected[12], other_expected[12];
  xrt_tensor_t* x = add_input(0.5f, expected);
  xrt_tensor_t* x2 = add_input(-7.0f, other_expected);
  xrt_tensor_t *y = NULL, *y2 = NULL, *made = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &y));
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &y2));
  const char* names[1] = {"x"};
  const char* y_name[1] = {"y"};
  const xrt_tensor_t* in[1] = {x};
  xrt_tensor_t* out[1] = {y};
  for (int r = 0; r < 3; ++r) { /* the same tensor again: kept bound */
    in[0] = r % 2 ? x2 : x;
    CHECK_OK(xrt_session_run_into(session, NULL, names, in, 1, y_name, 1, out));
    CHECK(out[0] == y && holds(y, r % 2 ? other_expected : expected));
  }
  out[0] = y2; /* another tensor: bound anew, the first left alone */
  CHECK_OK(xrt_session_run_into(session, NULL, names, in, 1, NULL, 1, out));
  CHECK(out[0] == y2 && holds(y2, expected) && holds(y, expected));
  out[0] = NULL; /* NULL: a new tensor, as xrt_session_run gives */
  in[0] = x2;
  CHECK_OK(xrt_session_run_into(session, NULL, names, in, 1, NULL, 1, out));
  CHECK(out[0] != NULL && out[0] != y && out[0] != y2 && holds(out[0], other_expected));
  CHECK(holds(y2, expected));
  xrt_tensor_release(out[0]);
  out[0] = y;
  CHECK_OK(xrt_session_run_into(session, NULL, names, in, 1, NULL, 1, out));
  CHECK(holds(y, other_expected));

  xrt_tensor_t *f64 = NULL, *wider = NULL, *shorter = NULL, *strided = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT64, 2, shape, &f64));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, wide, &wider));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, short_batch, &shorter));
  float storage[12] = {0};
  const int64_t transposed[2] = {1, 3}; /* a (3, 4) view of column-major memory */
  CHECK_OK(xrt_tensor_wrap(cpu, XRT_FLOAT32, 2, shape, transposed, storage, NULL, NULL,
                           &strided));
  in[0] = x;
  for (int r = 0; r < rounds; ++r) {
    out[0] = f64;
    CHECK_ERROR(xrt_session_run_into(session, NULL, names, in, 1, y_name, 1, out),
                XRT_ERROR_INVALID_ARGUMENT, "output 'y' was given as float64, the model gives "
                "float32");
    out[0] = wider;
    CHECK_ERROR(xrt_session_run_into(session, NULL, names, in, 1, y_name, 1, out),
                XRT_ERROR_INVALID_ARGUMENT, "output 'y' was given with shape (3, 5), the model "
                "gives (batch, 4)");
    out[0] = shorter; /* fits the model, not this run: ONNX Runtime says so */
    CHECK_ERROR(xrt_session_run_into(session, NULL, names, in, 1, y_name, 1, out),
                XRT_ERROR_INVALID_ARGUMENT, "output 'y'");
    out[0] = strided;
    CHECK_ERROR(xrt_session_run_into(session, NULL, names, in, 1, y_name, 1, out),
                XRT_ERROR_INVALID_ARGUMENT, "output 'y' was given with strides (1, 3)");
    out[0] = x;
    CHECK_ERROR(xrt_session_run_into(session, NULL, names, in, 1, y_name, 1, out),
                XRT_ERROR_INVALID_ARGUMENT, "output 'y' was given memory that input 'x' uses");
    CHECK(out[0] == x);
    made = NULL;
    CHECK_ERROR(xrt_session_run_into(NULL, NULL, names, in, 1, y_name, 1, &made),
                XRT_ERROR_INVALID_ARGUMENT, "session is NULL");
    CHECK(made == NULL);
  }
  out[0] = y; /* and the session still runs into a good one */
  CHECK_OK(xrt_session_run_into(session, NULL, names, in, 1, y_name, 1, out));
  CHECK(holds(y, expected));
  xrt_tensor_release(strided);
  xrt_tensor_release(shorter);
  xrt_tensor_release(wider);
  xrt_tensor_release(f64);
  xrt_tensor_release(y2);
  xrt_tensor_release(y);
  xrt_tensor_release(x2);
  xrt_tensor_release(x);
}

/* A profiled session's spans go to a file of their own, once. */
static void check_end_profiling(const char* model_path) {
  const xrt_option_t profiled[1] = {{"enable_profiling", "1"}};
  xrt_session_t* session = NULL;
  CHECK_OK(xrt_session_create(model_path, NULL, 0, "onnxruntime", cpu, profiled, 1, &session));
  if (!session) return;
  check_add(session);
  char trace[4096];
  const char* dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(trace, sizeof trace, "%s/xrt_test_end_profiling_%d.json", dir, (int)getpid());
  CHECK_OK(xrt_session_end_profiling(session, trace));
  size_t size = 0;
  char* text = read_file(trace, &size);
  CHECK(text != NULL && size > 0 && strstr(text, "\"traceEvents\"") != NULL);
  free(text);
  remove(trace);
  CHECK_ERROR(xrt_session_end_profiling(session, trace), XRT_ERROR_INVALID_ARGUMENT,
              "already ended");
  CHECK_ERROR(xrt_session_end_profiling(session, NULL), XRT_ERROR_INVALID_ARGUMENT, "path");
  xrt_session_release(session);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL_DIR\n", argv[0]);
    return 2;
  }
  const int rounds = getenv("XRT_TEST_ROUNDS") ? atoi(getenv("XRT_TEST_ROUNDS")) : 1000;
  char path[4096];
  snprintf(path, sizeof path, "%s/add_bias.onnx", argv[1]);
  CHECK_OK(xrt_device_by_name("cpu", &cpu));

  xrt_session_t* session = NULL;
  CHECK_OK(xrt_session_create(path, NULL, 0, NULL, cpu, NULL, 0, &session));
  if (!session) return check_report("sessions");
  const char* backend = NULL;
  CHECK_OK(xrt_session_backend(session, &backend));
  CHECK(backend && strcmp(backend, "onnxruntime") == 0);
  size_t count = 0;
  CHECK_OK(xrt_session_input_count(session, &count));
  CHECK(count == 1);
  xrt_value_info_t info = {sizeof info};
  CHECK_OK(xrt_session_input_info(session, 0, &info));
  CHECK(strcmp(info.name, "x") == 0 && info.dtype == XRT_FLOAT32 && info.ndim == 2);
  CHECK(info.shape[0] == -1 && strcmp(info.dim_names[0], "batch") == 0 && info.shape[1] == 4);
  CHECK_ERROR(xrt_session_output_info(session, 1, &info), XRT_ERROR_INVALID_ARGUMENT,
              "out of range");
  const char* providers = NULL;
  CHECK_OK(xrt_session_property(session, "providers", &providers));
  CHECK(providers && strcmp(providers, "CPUExecutionProvider") == 0);
  CHECK_ERROR(xrt_session_property(session, "no_such_key", &providers), XRT_ERROR_NOT_FOUND,
              "no_such_key");
  CHECK_ERROR(xrt_session_property(session, NULL, &providers), XRT_ERROR_INVALID_ARGUMENT,
              "key");
  check_add(session);
  check_bad_runs(session, rounds);
  check_run_options(session);
  check_run_into(session, rounds / 10 + 1);
  xrt_session_release(session);
  check_end_profiling(path);

  /* The same model from bytes, with options. */
  size_t size = 0;
  char* bytes = read_file(path, &size);
  CHECK(bytes != NULL);
  const xrt_option_t options[2] = {{"intra_op_num_threads", "1"},
                                   {"graph_optimization_level", "all"}};
  CHECK_OK(xrt_session_create(NULL, bytes, size, "onnxruntime", cpu, options, 2, &session));
  if (session) check_add(session);
  xrt_session_release(session);

  /* backend auto: "first" takes the first backend unmeasured; the report
   * names the policy and the choice. */
  const xrt_option_t first[1] = {{"policy", "first"}};
  CHECK_OK(xrt_session_create(NULL, bytes, size, "auto", cpu, first, 1, &session));
  const char* selection = NULL;
  CHECK_OK(xrt_session_property(session, "selection", &selection));
  const char* expected = "policy=first\tchosen=onnxruntime\t";
  CHECK(selection && strncmp(selection, expected, strlen(expected)) == 0);
  xrt_session_release(session);
  session = NULL;
  const xrt_option_t fastest[1] = {{"policy", "fastest"}};
  CHECK_ERROR(xrt_session_create(NULL, bytes, size, NULL, cpu, fastest, 1, &session),
              XRT_ERROR_INVALID_ARGUMENT, "'fastest' (expected latency, throughput");
  CHECK_ERROR(xrt_session_create(NULL, bytes, size, "onnxruntime", cpu, first, 1, &session),
              XRT_ERROR_INVALID_ARGUMENT, "needs backend 'auto'");

  /* Bad models, backends and options. */
  session = NULL;
  CHECK_ERROR(xrt_session_create(NULL, bytes, size / 2, NULL, cpu, NULL, 0, &session),
              XRT_ERROR_INVALID_ARGUMENT, "onnxruntime");
  CHECK_ERROR(xrt_session_create(NULL, bytes, 0, NULL, cpu, NULL, 0, &session),
              XRT_ERROR_INVALID_ARGUMENT, "empty");
  CHECK_ERROR(xrt_session_create("/nonexistent/model.onnx", NULL, 0, NULL, cpu, NULL, 0, &session),
              XRT_ERROR_NOT_FOUND, "/nonexistent/model.onnx");
  CHECK_ERROR(xrt_session_create(path, NULL, 0, "tensorrtx", cpu, NULL, 0, &session),
              XRT_ERROR_NOT_FOUND, "tensorrtx");
  CHECK_ERROR(xrt_session_create(path, NULL, 0, "cpu", cpu, NULL, 0, &session),
              XRT_ERROR_UNSUPPORTED, "does not run models");
  const xrt_option_t unknown[1] = {{"intra_threads", "2"}};
  CHECK_ERROR(xrt_session_create(path, NULL, 0, NULL, cpu, unknown, 1, &session),
              XRT_ERROR_INVALID_ARGUMENT, "intra_threads");
  CHECK(session == NULL);
  free(bytes);
  return check_report("sessions");
}
