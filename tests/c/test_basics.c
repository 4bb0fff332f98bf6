/* Versions, devices, tensors, copies, DLPack, streams, events, memory stats
 * and the profiler, through the public header only. */
#include <math.h>
#include <stdlib.h>

#include "check.h"

static xrt_device_t* cpu;

static void test_version(void) {
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", XRT_VERSION_MAJOR, XRT_VERSION_MINOR,
           XRT_VERSION_PATCH);
  CHECK(strcmp(xrt_version(), expected) == 0);
  CHECK(strcmp(xrt_status_name(XRT_ERROR_NOT_FOUND), "XRT_ERROR_NOT_FOUND") == 0);
}

static void test_devices(void) {
  int32_t count = 0;
  CHECK_OK(xrt_device_count(&count));
  CHECK(count >= 1);
  xrt_device_t* first = NULL;
  CHECK_OK(xrt_device_get(0, &first));
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  CHECK(first == cpu);
  xrt_device_t* again = NULL;
  CHECK_OK(xrt_device_by_name("cpu:0", &again));
  CHECK(again == cpu);
  xrt_device_info_t info = {sizeof info};
  CHECK_OK(xrt_device_info(cpu, &info));
  CHECK(info.kind == XRT_DEVICE_CPU && info.index == 0 && strcmp(info.name, "cpu") == 0);
  CHECK(info.total_memory > 0 && info.compute_units > 0);

  xrt_device_t* none = NULL;
  CHECK_ERROR(xrt_device_by_name("tpu:0", &none), XRT_ERROR_NOT_FOUND, "tpu:0");
  CHECK_ERROR(xrt_device_by_name("cuda:7", &none), XRT_ERROR_NOT_FOUND, "cuda:7");
  CHECK(none == NULL);
  CHECK_ERROR(xrt_device_by_name(NULL, &none), XRT_ERROR_INVALID_ARGUMENT, "NULL");
  CHECK_ERROR(xrt_device_count(NULL), XRT_ERROR_INVALID_ARGUMENT, "count is NULL");
  CHECK_ERROR(xrt_device_get(count, &none), XRT_ERROR_NOT_FOUND, "out of range");
  CHECK_ERROR(xrt_device_info(NULL, &info), XRT_ERROR_INVALID_ARGUMENT, "device is NULL");
}

static void test_dtypes(void) {
  size_t size = 0;
  const char* name = NULL;
  CHECK_OK(xrt_dtype_size(XRT_BFLOAT16, &size));
  CHECK(size == 2);
  CHECK_OK(xrt_dtype_name(XRT_FLOAT64, &name));
  CHECK(strcmp(name, "float64") == 0);
  CHECK_ERROR(xrt_dtype_size((xrt_dtype_t)42, &size), XRT_ERROR_INVALID_ARGUMENT, "42");
}

static void test_tensor_create(void) {
  const int64_t shape[3] = {2, 3, 4};
  xrt_tensor_t* t = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 3, shape, &t));
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(t, &info));
  CHECK(info.ndim == 3 && info.numel == 24 && info.nbytes == 96 && info.contiguous);
  CHECK(info.strides[0] == 12 && info.strides[1] == 4 && info.strides[2] == 1);
  CHECK(((uintptr_t)info.data % 64) == 0);
  int32_t ndim = 0;
  const int64_t* got = NULL;
  CHECK_OK(xrt_tensor_shape(t, &ndim, &got));
  CHECK(ndim == 3 && got[2] == 4);
  CHECK_OK(xrt_tensor_retain(t));
  xrt_tensor_release(t);
  xrt_tensor_release(t);
  xrt_tensor_release(NULL);

  xrt_tensor_t* scalar = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_INT64, 0, NULL, &scalar));
  void* data = NULL;
  CHECK_OK(xrt_tensor_data(scalar, &data));
  CHECK(*(int64_t*)data == 0);
  xrt_tensor_release(scalar);

  xrt_tensor_t* empty = NULL;
  const int64_t empty_shape[2] = {0, 5};
  CHECK_OK(xrt_tensor_create(cpu, XRT_BOOL, 2, empty_shape, &empty));
  xrt_tensor_release(empty);

  /* Bad input: each refused with a message naming the value. */
  xrt_tensor_t* bad = NULL;
  const int64_t negative[2] = {2, -3};
  CHECK_ERROR(xrt_tensor_create(cpu, XRT_FLOAT32, 2, negative, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "-3");
  const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK_ERROR(xrt_tensor_create(cpu, XRT_FLOAT32, 9, nine, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "ndim 9");
  const int64_t huge[3] = {1LL << 40, 1LL << 40, 1LL << 40};
  CHECK_ERROR(xrt_tensor_create(cpu, XRT_FLOAT32, 3, huge, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "int64");
  const int64_t too_many_bytes[1] = {1LL << 62};
  CHECK_ERROR(xrt_tensor_create(cpu, XRT_FLOAT64, 1, too_many_bytes, &bad),
              XRT_ERROR_INVALID_ARGUMENT, "bytes");
  CHECK_ERROR(xrt_tensor_create(cpu, (xrt_dtype_t)17, 3, shape, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "dtype code 17");
  CHECK_ERROR(xrt_tensor_create(cpu, (xrt_dtype_t)-1, 3, shape, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "dtype code -1");
  CHECK_ERROR(xrt_tensor_create(NULL, XRT_FLOAT32, 3, shape, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "device is NULL");
  CHECK_ERROR(xrt_tensor_create(cpu, XRT_FLOAT32, 3, shape, NULL), XRT_ERROR_INVALID_ARGUMENT,
              "out is NULL");
  CHECK_ERROR(xrt_tensor_create(cpu, XRT_FLOAT32, 3, NULL, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "shape is NULL");
  CHECK_ERROR(xrt_tensor_info(NULL, &info), XRT_ERROR_INVALID_ARGUMENT, "tensor is NULL");
  CHECK(bad == NULL);
}

static int deleter_calls = 0;
static void count_deleter(void* data, void* context) {
  (void)data;
  deleter_calls += *(int*)context;
}

static void test_wrap_and_copy(void) {
  /* A 3x4 row-major buffer viewed transposed (4x3, strides 1 and 4). */
  float buffer[12];
  for (int i = 0; i < 12; ++i) buffer[i] = (float)i;
  const int64_t shape[2] = {4, 3};
  const int64_t strides[2] = {1, 4};
  int one = 1;
  xrt_tensor_t* view = NULL;
  CHECK_OK(xrt_tensor_wrap(cpu, XRT_FLOAT32, 2, shape, strides, buffer, count_deleter, &one, &view));
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(view, &info));
  CHECK(!info.contiguous && info.data == buffer);

  xrt_tensor_t* packed = NULL;
  CHECK_OK(xrt_tensor_contiguous(view, &packed));
  CHECK_OK(xrt_tensor_info(packed, &info));
  const float* p = (const float*)info.data;
  int transposed_ok = info.contiguous;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 3; ++c) transposed_ok &= p[r * 3 + c] == buffer[c * 4 + r];
  CHECK(transposed_ok);

  xrt_tensor_t* moved = NULL;
  CHECK_OK(xrt_tensor_to(view, cpu, NULL, &moved));
  CHECK_OK(xrt_tensor_info(moved, &info));
  CHECK(memcmp(info.data, p, sizeof(float) * 12) == 0);

  /* Copy back into the strided view. */
  memset(buffer, 0, sizeof buffer);
  CHECK_OK(xrt_tensor_copy(view, packed, NULL));
  CHECK(buffer[4] == 4.0f && buffer[11] == 11.0f);

  xrt_tensor_t* other = NULL;
  const int64_t other_shape[2] = {3, 4};
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, other_shape, &other));
  CHECK_ERROR(xrt_tensor_copy(other, view, NULL), XRT_ERROR_INVALID_ARGUMENT, "(3, 4)");
  xrt_tensor_t* other_dtype = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT64, 2, shape, &other_dtype));
  CHECK_ERROR(xrt_tensor_copy(other_dtype, view, NULL), XRT_ERROR_INVALID_ARGUMENT, "float64");
  CHECK_ERROR(xrt_tensor_copy(NULL, view, NULL), XRT_ERROR_INVALID_ARGUMENT, "dst is NULL");

  xrt_tensor_release(other);
  xrt_tensor_release(other_dtype);
  xrt_tensor_release(moved);
  xrt_tensor_release(packed);
  CHECK(deleter_calls == 0);
  xrt_tensor_release(view);
  CHECK(deleter_calls == 1);

  /* NULL data with a non-zero size is refused and the deleter not called. */
  xrt_tensor_t* bad = NULL;
  CHECK_ERROR(xrt_tensor_wrap(cpu, XRT_FLOAT32, 2, shape, NULL, NULL, count_deleter, &one, &bad),
              XRT_ERROR_INVALID_ARGUMENT, "data is NULL");
  CHECK(deleter_calls == 1 && bad == NULL);
  const int64_t empty_shape[1] = {0};
  CHECK_OK(xrt_tensor_wrap(cpu, XRT_FLOAT32, 1, empty_shape, NULL, NULL, NULL, NULL, &bad));
  xrt_tensor_release(bad);
}

static void test_dlpack(void) {
  const int64_t shape[2] = {2, 3};
  xrt_tensor_t* t = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_BFLOAT16, 2, shape, &t));
  DLManagedTensorVersioned* managed = NULL;
  CHECK_OK(xrt_tensor_to_dlpack(t, &managed));
  CHECK(managed->version.major == 1);
  CHECK(managed->dl_tensor.dtype.code == kDLBfloat && managed->dl_tensor.dtype.bits == 16);
  CHECK(managed->dl_tensor.device.device_type == kDLCPU && managed->dl_tensor.ndim == 2);
  xrt_tensor_t* back = NULL;
  CHECK_OK(xrt_tensor_from_dlpack(managed, &back));
  void* a = NULL;
  void* b = NULL;
  CHECK_OK(xrt_tensor_data(t, &a));
  CHECK_OK(xrt_tensor_data(back, &b));
  CHECK(a == b);
  xrt_tensor_release(t);
  xrt_tensor_release(back); /* frees through the managed tensor's deleter */

  DLManagedTensor* legacy = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_INT16, 2, shape, &t));
  CHECK_OK(xrt_tensor_to_dlpack_legacy(t, &legacy));
  CHECK_OK(xrt_tensor_from_dlpack_legacy(legacy, &back));
  xrt_tensor_release(back);

  /* Unsupported dtype: refused, ownership stays with the caller. */
  CHECK_OK(xrt_tensor_to_dlpack(t, &managed));
  managed->dl_tensor.dtype.code = kDLComplex;
  managed->dl_tensor.dtype.bits = 64;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_UNSUPPORTED, "complex64");
  managed->dl_tensor.dtype.code = kDLInt;
  managed->dl_tensor.dtype.bits = 16;
  managed->dl_tensor.device.device_type = kDLVulkan;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_UNSUPPORTED, "device type 7");
  managed->version.major = 2;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_UNSUPPORTED, "version 2");
  managed->deleter(managed);
  CHECK_ERROR(xrt_tensor_from_dlpack(NULL, &back), XRT_ERROR_INVALID_ARGUMENT, "NULL");
  xrt_tensor_release(t);
}

static void test_streams_and_events(void) {
  xrt_stream_t* stream = NULL;
  xrt_event_t* start = NULL;
  xrt_event_t* end = NULL;
  CHECK_OK(xrt_stream_create(cpu, &stream));
  CHECK_OK(xrt_event_create(cpu, &start));
  CHECK_OK(xrt_event_create(cpu, &end));
  float ms = -1;
  CHECK_ERROR(xrt_event_elapsed_time(start, end, &ms), XRT_ERROR_INVALID_ARGUMENT,
              "never recorded");
  CHECK_OK(xrt_event_record(start, stream));
  const int64_t shape[2] = {64, 64};
  xrt_tensor_t* a = NULL;
  xrt_tensor_t* c = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, shape, &a));
  CHECK_OK(xrt_matmul(a, a, stream, &c));
  CHECK_OK(xrt_event_record(end, stream));
  CHECK_OK(xrt_stream_synchronize(stream));
  CHECK_OK(xrt_event_synchronize(end));
  int32_t done = 0;
  CHECK_OK(xrt_event_query(end, &done));
  CHECK(done == 1);
  CHECK_OK(xrt_event_elapsed_time(start, end, &ms));
  CHECK(ms >= 0);
  xrt_device_t* device = NULL;
  CHECK_OK(xrt_stream_device(stream, &device));
  CHECK(device == cpu);
  CHECK_ERROR(xrt_stream_synchronize(NULL), XRT_ERROR_INVALID_ARGUMENT, "stream is NULL");
  xrt_tensor_release(a);
  xrt_tensor_release(c);
  xrt_event_release(start);
  xrt_event_release(end);
  xrt_stream_release(stream);
}

static void test_memory(void) {
  CHECK_OK(xrt_memory_empty_cache(cpu));
  xrt_memory_stats_t before = {sizeof before};
  CHECK_OK(xrt_memory_stats(cpu, &before));
  void* p = NULL;
  CHECK_OK(xrt_memory_alloc(cpu, 1000, &p));
  CHECK(p != NULL && ((uintptr_t)p % 64) == 0);
  xrt_memory_stats_t during = {sizeof during};
  CHECK_OK(xrt_memory_stats(cpu, &during));
  CHECK(during.allocated_bytes >= before.allocated_bytes + 1000);
  CHECK(during.num_allocs == before.num_allocs + 1);
  CHECK_OK(xrt_memory_free(cpu, p));
  void* q = NULL;
  CHECK_OK(xrt_memory_alloc(cpu, 1000, &q));
  CHECK(q == p); /* served from the cache */
  CHECK_OK(xrt_memory_free(cpu, q));
  xrt_memory_stats_t after = {sizeof after};
  CHECK_OK(xrt_memory_stats(cpu, &after));
  CHECK(after.allocated_bytes == before.allocated_bytes);
  CHECK(after.num_cache_hits >= before.num_cache_hits + 1);
  CHECK(after.peak_allocated_bytes >= during.allocated_bytes);
  CHECK(after.reserved_bytes > before.reserved_bytes);
  CHECK_OK(xrt_memory_empty_cache(cpu));
  CHECK_OK(xrt_memory_stats(cpu, &after));
  CHECK(after.reserved_bytes == before.reserved_bytes);
  CHECK_ERROR(xrt_memory_free(cpu, (void*)0x1000), XRT_ERROR_INVALID_ARGUMENT, "0x1000");
  CHECK_OK(xrt_memory_free(cpu, NULL));
  xrt_memory_stats_t small = {sizeof(size_t)};
  CHECK_ERROR(xrt_memory_stats(cpu, &small), XRT_ERROR_INVALID_ARGUMENT, "struct_size");
}

static void test_profiler(const char* trace_path) {
  CHECK_ERROR(xrt_profiler_stop(), XRT_ERROR_INVALID_ARGUMENT, "not running");
  CHECK_OK(xrt_profiler_start());
  CHECK_ERROR(xrt_profiler_start(), XRT_ERROR_INVALID_ARGUMENT, "already running");
  const int64_t shape[1] = {16};
  xrt_tensor_t* x = NULL;
  xrt_tensor_t* y = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, shape, &x));
  CHECK_OK(xrt_gelu(x, NULL, &y));
  CHECK_OK(xrt_profiler_stop());
  size_t count = 0;
  CHECK_OK(xrt_profiler_event_count(&count));
  CHECK(count == 1);
  size_t length = 0;
  CHECK_OK(xrt_profiler_summary(NULL, 0, &length));
  char* text = malloc(length + 1);
  CHECK_OK(xrt_profiler_summary(text, length + 1, &length));
  CHECK(strstr(text, "gelu") != NULL);
  free(text);
  CHECK_OK(xrt_profiler_export(trace_path));
  FILE* f = fopen(trace_path, "rb");
  CHECK(f != NULL);
  if (f) {
    char buf[4096] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    CHECK(n > 0 && strstr(buf, "\"traceEvents\"") && strstr(buf, "\"impl\": \"cpu."));
  }
  CHECK_ERROR(xrt_profiler_export("/nonexistent-dir/trace.json"), XRT_ERROR_IO, "nonexistent");
  xrt_tensor_release(x);
  xrt_tensor_release(y);
}

int main(int argc, char** argv) {
  test_version();
  test_devices();
  test_dtypes();
  test_tensor_create();
  test_wrap_and_copy();
  test_dlpack();
  test_streams_and_events();
  test_memory();
  test_profiler(argc > 1 ? argv[1] : "test_basics_trace.json");
  return check_report("basics");
}
