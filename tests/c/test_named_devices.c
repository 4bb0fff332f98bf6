/* Device kinds by name (plugin ABI 1.6), with the testnpu plugin's "npu"
 * and "gpu" devices on host memory: lookup by name, what xrt_device_info
 * says, tensors, copies, streams, events, ops dispatched by kind name,
 * DLPack, and sessions created on a named device, exactly as a C caller
 * reaches cuda:0. Then every way a plugin's device tables can be wrong
 * leaves that plugin listed unavailable with the reason.
 * argv: the testnpu plugin, then its fault builds 1..6 in order. */
#include <dlfcn.h>
#include <stdlib.h>

#include "check.h"

static float* data_of(const xrt_tensor_t* t) {
  void* data = NULL;
  xrt_tensor_data(t, &data);
  return (float*)data;
}

static xrt_tensor_t* vector(xrt_device_t* device, const float* values, int64_t n) {
  xrt_tensor_t *host = NULL, *out = NULL;
  xrt_device_t* cpu = NULL;
  xrt_device_by_name("cpu", &cpu);
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 1, &n, &host));
  if (host) memcpy(data_of(host), values, (size_t)n * sizeof(float));
  CHECK_OK(xrt_tensor_to(host, device, NULL, &out));
  xrt_tensor_release(host);
  return out;
}

static void test_lookup(xrt_device_t** npu, xrt_device_t** gpu1) {
  xrt_device_t *cpu = NULL, *npu_again = NULL, *out = NULL;
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  CHECK_OK(xrt_device_by_name("npu:0", npu));
  CHECK_OK(xrt_device_by_name("npu", &npu_again));
  CHECK(*npu && *npu == npu_again);
  CHECK_OK(xrt_device_by_name("gpu:1", gpu1));
  CHECK_ERROR(xrt_device_by_name("gpu:2", &out), XRT_ERROR_NOT_FOUND, "gpu devices: gpu:0, gpu:1");
  CHECK_ERROR(xrt_device_by_name("tpu:0", &out), XRT_ERROR_NOT_FOUND, "device kind 'tpu'");
  CHECK_ERROR(xrt_device_by_name("tpu:0", &out), XRT_ERROR_NOT_FOUND, "'npu'");
  CHECK(out == NULL);

  int32_t count = 0;
  CHECK_OK(xrt_device_count(&count));
  CHECK(count == 4);  /* cpu, npu:0, gpu:0, gpu:1 */

  xrt_device_info_t info = {sizeof info};
  CHECK_OK(xrt_device_info(*npu, &info));
  CHECK(strcmp(info.name, "npu:0") == 0 && strcmp(info.kind_name, "npu") == 0);
  CHECK(strcmp(info.description, "test NPU") == 0 && info.host_memory == 1);
  /* A code handed out at registration: neither cpu's nor cuda's. */
  CHECK(info.kind != XRT_DEVICE_CPU && info.kind != XRT_DEVICE_CUDA);
  xrt_device_info_t gpu_info = {sizeof gpu_info};
  CHECK_OK(xrt_device_info(*gpu1, &gpu_info));
  CHECK(gpu_info.kind != info.kind && gpu_info.index == 1 && gpu_info.host_memory == 1);
  xrt_device_info_t cpu_info = {sizeof cpu_info};
  CHECK_OK(xrt_device_info(cpu, &cpu_info));
  CHECK(cpu_info.kind == XRT_DEVICE_CPU && strcmp(cpu_info.kind_name, "cpu") == 0);
  CHECK(cpu_info.host_memory == 1);
}

static void test_memory_and_copies(xrt_device_t* npu, xrt_device_t* gpu1) {
  const float values[6] = {0, 1, 2, 3, 4, 5};
  xrt_tensor_t* t = vector(npu, values, 6);
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(t, &info));
  CHECK(info.device == npu);
  /* Host memory: the caller reads it directly. */
  CHECK(info.data && memcmp(info.data, values, sizeof values) == 0);

  /* A transposed view on gpu:1 of npu memory copied in one strided pass. */
  xrt_tensor_t *view = NULL, *packed = NULL;
  const int64_t shape[2] = {3, 2}, strides[2] = {1, 3};
  /* The view owns nothing: t outlives it. */
  CHECK_OK(xrt_tensor_wrap(gpu1, XRT_FLOAT32, 2, shape, strides, data_of(t), NULL, NULL, &view));
  CHECK_OK(xrt_tensor_to(view, npu, NULL, &packed));
  const float transposed[6] = {0, 3, 1, 4, 2, 5};
  CHECK(packed && memcmp(data_of(packed), transposed, sizeof transposed) == 0);
  xrt_tensor_release(packed);
  xrt_tensor_release(view);
  xrt_tensor_release(t);

  xrt_tensor_t* zeros = NULL;
  const int64_t n = 5;
  CHECK_OK(xrt_tensor_zeros(gpu1, XRT_FLOAT32, 1, &n, &zeros));
  const float none[5] = {0};
  CHECK(zeros && memcmp(data_of(zeros), none, sizeof none) == 0);
  xrt_tensor_release(zeros);

  void* raw = NULL;
  CHECK_OK(xrt_memory_alloc(npu, 100, &raw));
  CHECK_OK(xrt_memory_free(npu, raw));
  xrt_memory_stats_t stats = {sizeof stats};
  CHECK_OK(xrt_memory_stats(npu, &stats));
  CHECK(stats.num_allocs > 0 && stats.num_frees > 0);
}

static void test_streams_and_events(xrt_device_t* npu, xrt_device_t* gpu1) {
  xrt_stream_t *stream = NULL, *wrapped = NULL;
  xrt_event_t *start = NULL, *end = NULL;
  CHECK_OK(xrt_stream_create(npu, &stream));
  CHECK_OK(xrt_event_create(npu, &start));
  CHECK_OK(xrt_event_create(npu, &end));
  CHECK_OK(xrt_event_record(start, stream));
  CHECK_OK(xrt_event_record(end, stream));
  float ms = -1;
  int32_t done = 0;
  CHECK_OK(xrt_event_elapsed_time(start, end, &ms));
  CHECK(ms >= 0);
  CHECK_OK(xrt_event_query(end, &done));
  CHECK(done == 1);
  CHECK_OK(xrt_stream_wait_event(stream, end));
  CHECK_OK(xrt_stream_synchronize(stream));
  CHECK_OK(xrt_device_synchronize(npu));
  int token = 0;
  CHECK_ERROR(xrt_stream_wrap(npu, &token, &wrapped), XRT_ERROR_INVALID_ARGUMENT,
              "npu:0 has no native streams");
  /* A stream of one named device is not another's. */
  xrt_event_t* other = NULL;
  CHECK_OK(xrt_event_create(gpu1, &other));
  CHECK_ERROR(xrt_event_record(other, stream), XRT_ERROR_INVALID_ARGUMENT, "gpu:1");
  xrt_event_release(other);
  xrt_event_release(end);
  xrt_event_release(start);
  xrt_stream_release(stream);
}

typedef int32_t (*last_kind_fn)(void);

static void test_ops(xrt_device_t* npu, xrt_device_t* gpu1, last_kind_fn last_kind) {
  const float a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
  xrt_tensor_t *x = vector(npu, a, 3), *y = vector(npu, b, 3), *sum = NULL;
  CHECK_OK(xrt_add(x, y, NULL, &sum));
  const float expected[3] = {11, 22, 33};
  CHECK(sum && memcmp(data_of(sum), expected, sizeof expected) == 0);
  xrt_device_info_t info = {sizeof info};
  xrt_device_info(npu, &info);
  CHECK(last_kind() == (int32_t)info.kind);  /* the kernel saw the npu code */
  xrt_tensor_release(sum);

  /* No kernel for kind "gpu": the error names the op, device and dtype. */
  xrt_tensor_t *g = vector(gpu1, a, 3), *out = NULL;
  CHECK_ERROR(xrt_add(g, g, NULL, &out), XRT_ERROR_UNSUPPORTED, "gpu");
  CHECK(out == NULL);
  CHECK_ERROR(xrt_add(x, g, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "gpu:1");

  /* Host memory leaves through DLPack as CPU memory. */
  DLManagedTensorVersioned* managed = NULL;
  CHECK_OK(xrt_tensor_to_dlpack(x, &managed));
  CHECK(managed && managed->dl_tensor.device.device_type == kDLCPU);
  if (managed) managed->deleter(managed);
  xrt_tensor_release(g);
  xrt_tensor_release(y);
  xrt_tensor_release(x);
}

static void test_sessions(xrt_device_t* npu, xrt_device_t* gpu1) {
  const char model[] = "doubles";
  xrt_session_t* session = NULL;
  /* "auto" picks the backend that brought the device. */
  CHECK_OK(xrt_session_create(NULL, model, sizeof model, NULL, gpu1, NULL, 0, &session));
  const char* value = NULL;
  CHECK_OK(xrt_session_property(session, "device", &value));
  CHECK(value && strcmp(value, "gpu:1") == 0);
  const char* backend = NULL;
  CHECK_OK(xrt_session_backend(session, &backend));
  CHECK(backend && strcmp(backend, "testnpu") == 0);
  xrt_session_release(session);

  session = NULL;
  CHECK_OK(xrt_session_create(NULL, model, sizeof model, "testnpu", npu, NULL, 0, &session));
  const float values[4] = {1, -2, 3.5f, 0};
  xrt_tensor_t *x = vector(npu, values, 4), *y = NULL;
  const char* names[1] = {"x"};
  const xrt_tensor_t* inputs[1] = {x};
  CHECK_OK(xrt_session_run(session, names, inputs, 1, NULL, 1, &y));
  xrt_device_t* where = NULL;
  if (y) {
    xrt_tensor_info_t info = {sizeof info};
    xrt_tensor_info(y, &info);
    where = info.device;
    const float doubled[4] = {2, -4, 7, 0};
    CHECK(memcmp(info.data, doubled, sizeof doubled) == 0);
  }
  CHECK(where == npu);
  /* Inputs on another device are refused, naming both. */
  xrt_tensor_t* elsewhere = vector(gpu1, values, 4);
  const xrt_tensor_t* wrong[1] = {elsewhere};
  xrt_tensor_t* none = NULL;
  CHECK_ERROR(xrt_session_run(session, names, wrong, 1, NULL, 1, &none),
              XRT_ERROR_INVALID_ARGUMENT, "gpu:1");
  /* An output given on another device is refused the same way; one on the
   * session's device receives the backend's output by a copy. */
  xrt_tensor_t* into[1] = {elsewhere};
  CHECK_ERROR(xrt_session_run_into(session, NULL, names, inputs, 1, NULL, 1, into),
              XRT_ERROR_INVALID_ARGUMENT, "output 'y' was given on gpu:1, the session runs on "
              "npu:0");
  const float zeros[4] = {0, 0, 0, 0};
  xrt_tensor_t* given = vector(npu, zeros, 4);
  into[0] = given;
  CHECK_OK(xrt_session_run_into(session, NULL, names, inputs, 1, NULL, 1, into));
  xrt_tensor_info_t given_info = {sizeof given_info};
  CHECK_OK(xrt_tensor_info(given, &given_info));
  const float doubled[4] = {2, -4, 7, 0};
  CHECK(into[0] == given && memcmp(given_info.data, doubled, sizeof doubled) == 0);
  xrt_tensor_release(given);
  xrt_tensor_release(elsewhere);
  xrt_tensor_release(y);
  xrt_tensor_release(x);
  xrt_session_release(session);

  /* The backend says which kinds it runs on. */
  xrt_device_t* cpu = NULL;
  xrt_device_by_name("cpu", &cpu);
  session = NULL;
  CHECK_ERROR(xrt_session_create(NULL, model, sizeof model, "testnpu", cpu, NULL, 0, &session),
              XRT_ERROR_UNSUPPORTED, "not cpu");
  CHECK(session == NULL);
}

/* The reason the plugin file `path` is listed unavailable with, or NULL. */
static const char* unavailable_reason(const char* path) {
  int32_t count = 0;
  xrt_backend_count(&count);
  for (int32_t i = 0; i < count; ++i) {
    xrt_backend_info_t info = {sizeof info};
    xrt_backend_info(i, &info);
    if (strcmp(info.path, path) == 0 && !info.available) return info.reason;
  }
  return NULL;
}

static void check_refused(const char* path, const char* why) {
  CHECK(xrt_plugin_load(path) != XRT_OK);
  const char* reason = unavailable_reason(path);
  CHECK(reason != NULL);
  if (reason && !strstr(reason, why)) {
    ++check_failed;
    fprintf(stderr, "%s: reason \"%s\" lacks \"%s\"\n", path, reason, why);
  }
}

int main(int argc, char** argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s TESTNPU FAULT1 .. FAULT6\n", argv[0]);
    return 2;
  }
  /* Broken tables first: none of them may leave a device behind. */
  check_refused(argv[2], "in two device tables");
  check_refused(argv[3], "'NPU!' is malformed");
  check_refused(argv[4], "incomplete device table");
  check_refused(argv[5], "'n pu' is malformed");
  check_refused(argv[6], "NULL device table");
  int32_t count = 0;
  CHECK_OK(xrt_device_count(&count));
  CHECK(count == 1);

  CHECK_OK(xrt_plugin_load(argv[1]));
  void* handle = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
  last_kind_fn last_kind = handle ? (last_kind_fn)dlsym(handle, "xrt_testnpu_last_kernel_kind") : NULL;
  CHECK(last_kind != NULL);
  /* A second plugin bringing "npu" is refused, naming who has it. */
  check_refused(argv[7], "'npu', which backend 'testnpu' already provides");

  xrt_device_t *npu = NULL, *gpu1 = NULL;
  test_lookup(&npu, &gpu1);
  if (npu && gpu1 && last_kind) {
    test_memory_and_copies(npu, gpu1);
    test_streams_and_events(npu, gpu1);
    test_ops(npu, gpu1, last_kind);
    test_sessions(npu, gpu1);
  }
  if (handle) dlclose(handle);
  return check_report("named_devices");
}
