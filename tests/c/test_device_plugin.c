/* The runtime's device path through a plugin's device table, with the test
 * device plugin (host memory behind "cuda:0" and "cuda:1"): registration,
 * memory routing, copies in every direction and layout, zero fill, streams,
 * events, page-locked tensors, DLPack, and that every block comes back.
 * Run with XRT_PLUGIN_PATH naming the plugin file (argv[1]). */
#include <dlfcn.h>

#include "check.h"

typedef void (*counts_fn)(size_t* allocs, size_t* strided, size_t* pinned);

static float* data_of(const xrt_tensor_t* t) {
  void* data = NULL;
  xrt_tensor_data(t, &data);
  return (float*)data;
}

static void release_parent(void* data, void* parent) {
  (void)data;
  xrt_tensor_release((xrt_tensor_t*)parent);
}

/* A view of `parent`'s memory with other shape and strides. */
static xrt_tensor_t* view(xrt_tensor_t* parent, xrt_device_t* device, const int64_t* shape,
                          const int64_t* strides) {
  xrt_tensor_t* out = NULL;
  xrt_tensor_retain(parent);
  CHECK_OK(xrt_tensor_wrap(device, XRT_FLOAT32, 2, shape, strides, data_of(parent),
                           release_parent, parent, &out));
  return out;
}

/* The (3, 2) transpose of 0..5 laid out as (2, 3), read back on the host. */
static void check_transposed(const xrt_tensor_t* t, const char* what) {
  xrt_device_t* cpu = NULL;
  xrt_device_by_name("cpu", &cpu);
  xrt_tensor_t* back = NULL;
  CHECK_OK(xrt_tensor_to(t, cpu, NULL, &back));
  if (!back) return;
  xrt_tensor_t* packed = NULL;
  CHECK_OK(xrt_tensor_contiguous(back, &packed));
  const float expected[6] = {0, 3, 1, 4, 2, 5};
  const float* got = data_of(packed);
  int same = 1;
  for (int i = 0; i < 6; ++i) same &= got[i] == expected[i];
  CHECK(same);
  if (!same) fprintf(stderr, "%s: wrong values\n", what);
  xrt_tensor_release(packed);
  xrt_tensor_release(back);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN_FILE\n", argv[0]);
    return 2;
  }
  xrt_device_t *cpu = NULL, *gpu0 = NULL, *gpu1 = NULL, *missing = NULL;
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  CHECK_OK(xrt_device_by_name("cuda:0", &gpu0));
  CHECK_OK(xrt_device_by_name("cuda:1", &gpu1));
  CHECK_ERROR(xrt_device_by_name("cuda:5", &missing), XRT_ERROR_NOT_FOUND, "cuda:1");
  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
  counts_fn counts = plugin ? (counts_fn)dlsym(plugin, "xrt_testdevice_counts") : NULL;
  CHECK(counts != NULL);
  if (!counts || !gpu0 || !gpu1) return check_report("device_plugin");

  xrt_device_info_t info = {sizeof info};
  CHECK_OK(xrt_device_info(gpu1, &info));
  CHECK(info.kind == XRT_DEVICE_CUDA && info.index == 1 && info.compute_capability == 90);
  CHECK(strcmp(info.description, "test device 1") == 0 && info.compute_units == 4);

  /* Host (2, 3) holding 0..5; its transpose is a strided view. */
  const int64_t shape[2] = {2, 3}, tshape[2] = {3, 2}, tstrides[2] = {1, 3};
  xrt_tensor_t* host = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &host));
  for (int i = 0; i < 6; ++i) data_of(host)[i] = (float)i;
  xrt_tensor_t* host_t = view(host, cpu, tshape, tstrides);

  size_t allocs = 0, strided = 0, pinned = 0;
  /* Host strided → device: packed on the host, one plain copy. */
  xrt_tensor_t* dev_t = NULL;
  CHECK_OK(xrt_tensor_to(host_t, gpu0, NULL, &dev_t));
  check_transposed(dev_t, "host view to device");
  counts(&allocs, &strided, &pinned);
  CHECK(strided == 0);

  /* Device strided → host: packed on the device by the plugin. */
  xrt_tensor_t* dev = NULL;
  CHECK_OK(xrt_tensor_to(host, gpu0, NULL, &dev));
  xrt_tensor_t* dev_view = view(dev, gpu0, tshape, tstrides);
  check_transposed(dev_view, "device view to host");
  counts(&allocs, &strided, &pinned);
  CHECK(strided == 1);

  /* Device → device across devices, and into a strided host destination. */
  xrt_tensor_t* other = NULL;
  CHECK_OK(xrt_tensor_to(dev_view, gpu1, NULL, &other));
  check_transposed(other, "cuda:0 view to cuda:1");
  xrt_tensor_t* host_dst = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &host_dst));
  xrt_tensor_t* host_dst_t = view(host_dst, cpu, tshape, tstrides);
  CHECK_OK(xrt_tensor_copy(host_dst_t, other, NULL));
  check_transposed(host_dst_t, "device to strided host destination");

  /* A copy between shapes that differ, and a stream of another device. */
  xrt_stream_t* stream1 = NULL;
  CHECK_OK(xrt_stream_create(gpu1, &stream1));
  CHECK_ERROR(xrt_tensor_copy(dev, other, NULL), XRT_ERROR_INVALID_ARGUMENT, "shape mismatch");
  CHECK_ERROR(xrt_tensor_copy(dev, host, stream1), XRT_ERROR_INVALID_ARGUMENT,
              "the stream belongs to cuda:1");

  /* Zero fill, streams and events. */
  xrt_tensor_t* zeros = NULL;
  CHECK_OK(xrt_tensor_zeros(gpu1, XRT_FLOAT32, 2, shape, &zeros));
  xrt_tensor_t* zeros_host = NULL;
  CHECK_OK(xrt_tensor_to(zeros, cpu, stream1, &zeros_host));
  CHECK(zeros_host && data_of(zeros_host)[5] == 0.0f);
  xrt_event_t *start = NULL, *end = NULL;
  CHECK_OK(xrt_event_create(gpu1, &start));
  CHECK_OK(xrt_event_create(gpu1, &end));
  CHECK_OK(xrt_event_record(start, stream1));
  CHECK_OK(xrt_event_record(end, NULL));
  CHECK_OK(xrt_stream_wait_event(stream1, end));
  CHECK_OK(xrt_stream_synchronize(stream1));
  CHECK_OK(xrt_device_synchronize(gpu1));
  float ms = 0;
  int32_t done = 0;
  CHECK_OK(xrt_event_elapsed_time(start, end, &ms));
  CHECK_OK(xrt_event_query(end, &done));
  CHECK(ms == 1.0f && done == 1);
  /* A device's stream may wait for another device's event of its backend,
   * not for an event of the host. */
  xrt_stream_t* stream0 = NULL;
  xrt_event_t* host_event = NULL;
  CHECK_OK(xrt_stream_create(gpu0, &stream0));
  CHECK_OK(xrt_stream_wait_event(stream0, end));
  CHECK_OK(xrt_event_create(cpu, &host_event));
  CHECK_OK(xrt_event_record(host_event, NULL));
  CHECK_ERROR(xrt_stream_wait_event(stream0, host_event), XRT_ERROR_INVALID_ARGUMENT,
              "the stream belongs to cuda:0, the event to cpu (another backend)");
  xrt_event_release(host_event);
  xrt_stream_release(stream0);

  /* Memory through the table, and ops without kernels on the device. */
  void* raw = NULL;
  CHECK_OK(xrt_memory_alloc(gpu0, 100, &raw));
  CHECK_OK(xrt_memory_free(gpu0, raw));
  CHECK_ERROR(xrt_memory_alloc(gpu0, (size_t)1 << 40, &raw), XRT_ERROR_OUT_OF_MEMORY,
              "allocating memory on cuda:0: larger than the device");
  xrt_memory_stats_t stats = {sizeof stats};
  CHECK_OK(xrt_memory_stats(gpu0, &stats));
  CHECK(stats.num_allocs >= 4 && stats.num_frees >= 1);
  CHECK_OK(xrt_memory_empty_cache(gpu0));
  xrt_tensor_t* sum = NULL;
  CHECK_ERROR(xrt_add(dev, dev, NULL, &sum), XRT_ERROR_UNSUPPORTED,
              "no kernel for op 'add' on cuda:0");

  /* DLPack keeps the device. */
  DLManagedTensorVersioned* managed = NULL;
  CHECK_OK(xrt_tensor_to_dlpack(dev, &managed));
  CHECK(managed && managed->dl_tensor.device.device_type == kDLCUDA);
  xrt_tensor_t* imported = NULL;
  CHECK_OK(xrt_tensor_from_dlpack(managed, &imported));
  xrt_tensor_info_t tinfo = {sizeof tinfo};
  CHECK_OK(xrt_tensor_info(imported, &tinfo));
  CHECK(tinfo.device == gpu0);

  /* Page-locked host tensors come from the plugin and go back to it. */
  xrt_tensor_t* locked = NULL;
  CHECK_OK(xrt_tensor_create_pinned(XRT_FLOAT32, 2, shape, &locked));
  CHECK_OK(xrt_tensor_info(locked, &tinfo));
  CHECK(tinfo.device == cpu);
  counts(&allocs, &strided, &pinned);
  CHECK(pinned == 1);

  xrt_tensor_t* all[] = {host, host_t, dev_t, dev, dev_view, other, host_dst, host_dst_t,
                         zeros, zeros_host, imported, locked};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) xrt_tensor_release(all[i]);
  xrt_event_release(start);
  xrt_event_release(end);
  xrt_stream_release(stream1);
  counts(&allocs, &strided, &pinned);
  CHECK(allocs == 0 && pinned == 0);
  if (allocs || pinned) fprintf(stderr, "leaked: %zu device blocks, %zu pinned\n", allocs, pinned);
  return check_report("device_plugin");
}
