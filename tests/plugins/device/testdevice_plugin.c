/* A device plugin over host memory, so the runtime's device path (device
 * registration, pooled memory, streams, events, copies in every direction,
 * zero fill, page-locked tensors) is tested on machines without a GPU. Its
 * devices are "cuda:0" and "cuda:1"; their memory is plain malloc, their
 * streams ordering tokens, and every copy completes before it returns. The
 * table also counts calls so the test can see what the runtime routed.
 * Its tables end where plugin ABI 1.5 ended them (struct_size stops before
 * the 1.6 fields, the kind is the integer XRT_DEVICE_CUDA), so the test
 * also proves that a device plugin built before kinds had names loads. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpuruntime/xpuruntime_plugin.h"

#define DEVICES 2

static __thread char message[256];
static size_t live_allocs;      /* device blocks not yet freed */
static size_t strided_copies;   /* copies that needed the strided path */
static xrt_memory_stats_t stats[DEVICES];

static xrt_status_t refuse(xrt_status_t status, const char* text, int32_t device) {
  snprintf(message, sizeof message, "%s (device %d)", text, (int)device);
  return status;
}

#define CHECK_DEVICE(d) \
  if ((d) < 0 || (d) >= DEVICES) return refuse(XRT_ERROR_INVALID_ARGUMENT, "no such device", d)

static const char* last_error(void) { return message; }
static int32_t device_count(void) { return DEVICES; }

static xrt_status_t device_props(int32_t device, xrt_plugin_device_props_t* props) {
  CHECK_DEVICE(device);
  snprintf(props->name, sizeof props->name, "test device %d", (int)device);
  props->total_memory = 1u << 30;
  props->compute_units = 4;
  props->compute_capability = 90;
  return XRT_OK;
}

static xrt_status_t alloc(int32_t device, size_t nbytes, void* stream, void** out) {
  (void)stream;
  CHECK_DEVICE(device);
  if (nbytes > (1u << 30)) return refuse(XRT_ERROR_OUT_OF_MEMORY, "larger than the device", device);
  *out = malloc(nbytes ? nbytes : 1);
  if (!*out) return refuse(XRT_ERROR_OUT_OF_MEMORY, "malloc failed", device);
  ++live_allocs;
  ++stats[device].num_allocs;
  return XRT_OK;
}

static xrt_status_t free_memory(int32_t device, void* ptr) {
  CHECK_DEVICE(device);
  free(ptr);
  --live_allocs;
  ++stats[device].num_frees;
  return XRT_OK;
}

static xrt_status_t memory_stats(int32_t device, xrt_memory_stats_t* out) {
  CHECK_DEVICE(device);
  *out = stats[device];
  out->struct_size = sizeof *out;
  out->allocated_bytes = live_allocs;  /* lets the test read the live count */
  return XRT_OK;
}

static xrt_status_t no_op(int32_t device) {
  CHECK_DEVICE(device);
  return XRT_OK;
}

static int stream_token;
static xrt_status_t stream_create(int32_t device, void** out) {
  CHECK_DEVICE(device);
  *out = &stream_token;
  return XRT_OK;
}
static void stream_destroy(int32_t device, void* stream) { (void)device, (void)stream; }
static xrt_status_t stream_synchronize(int32_t device, void* stream) {
  (void)stream;
  CHECK_DEVICE(device);
  return XRT_OK;
}
static xrt_status_t stream_wait_event(int32_t device, void* stream, void* event) {
  (void)stream, (void)event;
  CHECK_DEVICE(device);
  return XRT_OK;
}

/* An event holds the number of its recording, so elapsed times differ. */
static xrt_status_t event_create(int32_t device, void** out) {
  CHECK_DEVICE(device);
  *out = calloc(1, sizeof(int));
  return *out ? XRT_OK : refuse(XRT_ERROR_OUT_OF_MEMORY, "calloc failed", device);
}
static void event_destroy(int32_t device, void* event) {
  (void)device;
  free(event);
}
static int recordings;
static xrt_status_t event_record(int32_t device, void* event, void* stream) {
  (void)stream;
  CHECK_DEVICE(device);
  *(int*)event = ++recordings;
  return XRT_OK;
}
static xrt_status_t event_synchronize(int32_t device, void* event) {
  (void)event;
  CHECK_DEVICE(device);
  return XRT_OK;
}
static xrt_status_t event_query(int32_t device, void* event, int32_t* done) {
  (void)event;
  CHECK_DEVICE(device);
  *done = 1;
  return XRT_OK;
}
static xrt_status_t event_elapsed_ms(int32_t device, void* start, void* end, float* ms) {
  CHECK_DEVICE(device);
  *ms = (float)(*(int*)end - *(int*)start);
  return XRT_OK;
}

static xrt_status_t copy(int32_t device, void* stream, void* dst, int32_t dst_device,
                         const void* src, int32_t src_device, size_t nbytes) {
  (void)stream, (void)dst_device, (void)src_device;
  CHECK_DEVICE(device);
  memcpy(dst, src, nbytes);
  return XRT_OK;
}

static size_t element_size(xrt_dtype_t dtype) {
  static const size_t sizes[XRT_DTYPE_COUNT] = {1, 1, 1, 2, 4, 8, 2, 2, 4, 8, 2, 4, 8, 1, 1, 1, 1};
  return (unsigned)dtype < XRT_DTYPE_COUNT ? sizes[dtype] : 1;
}

/* Walks every index of the shape; fine for the small tensors of the test. */
static xrt_status_t copy_strided(int32_t device, void* stream, const xrt_kernel_tensor_t* dst,
                                 const xrt_kernel_tensor_t* src) {
  (void)stream;
  CHECK_DEVICE(device);
  const size_t item = element_size(src->dtype);
  int64_t index[XRT_MAX_DIMS] = {0}, total = 1;
  for (int32_t d = 0; d < src->ndim; ++d) total *= src->shape[d];
  for (int64_t n = 0; n < total; ++n) {
    int64_t so = 0, dof = 0;
    for (int32_t d = 0; d < src->ndim; ++d) {
      so += index[d] * src->strides[d];
      dof += index[d] * dst->strides[d];
    }
    memcpy((char*)dst->data + dof * (int64_t)item, (const char*)src->data + so * (int64_t)item,
           item);
    for (int32_t d = src->ndim - 1; d >= 0 && ++index[d] == src->shape[d]; --d) index[d] = 0;
  }
  ++strided_copies;
  return XRT_OK;
}

static xrt_status_t fill_zero(int32_t device, void* stream, void* ptr, size_t nbytes) {
  (void)stream;
  CHECK_DEVICE(device);
  memset(ptr, 0, nbytes);
  return XRT_OK;
}

static size_t live_pinned;
static xrt_status_t host_alloc(size_t nbytes, void** out) {
  *out = malloc(nbytes ? nbytes : 1);
  if (!*out) return refuse(XRT_ERROR_OUT_OF_MEMORY, "malloc failed", -1);
  ++live_pinned;
  return XRT_OK;
}
static xrt_status_t host_free(void* ptr) {
  free(ptr);
  --live_pinned;
  return XRT_OK;
}

/* What the test reads back: live blocks, strided copies, live pinned blocks. */
__attribute__((visibility("default"))) void xrt_testdevice_counts(size_t* allocs, size_t* strided,
                                                                  size_t* pinned) {
  *allocs = live_allocs;
  *strided = strided_copies;
  *pinned = live_pinned;
}

static const xrt_device_api_t devices_1_5 = {
    offsetof(xrt_device_api_t, kind_name), XRT_DEVICE_CUDA, last_error, NULL, device_count, device_props,
    alloc, free_memory, memory_stats, no_op, no_op, stream_create, stream_destroy,
    stream_synchronize, stream_wait_event, event_create, event_destroy, event_record,
    event_synchronize, event_query, event_elapsed_ms, copy, copy_strided, fill_zero,
    host_alloc, host_free, NULL, 0,
};

static const xrt_plugin_api_t api_1_5 = {
    offsetof(xrt_plugin_api_t, device_tables), XRT_PLUGIN_ABI_MAJOR, 5, "testdevice", "0.0.1",
    NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, 0,
};

/* The tables as handed out: the 1.5 part, then poison where 1.6 fields
 * would be, so a host reading past struct_size takes a wild pointer. */
static xrt_device_api_t devices;
static xrt_plugin_api_t api;

static void poison_tail(void* table, const void* frozen, size_t frozen_size, size_t size) {
  memset(table, 0xA5, size);
  memcpy(table, frozen, frozen_size);
}

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  if (host_abi_major != XRT_PLUGIN_ABI_MAJOR) return NULL;
  poison_tail(&devices, &devices_1_5, devices_1_5.struct_size, sizeof devices);
  poison_tail(&api, &api_1_5, api_1_5.struct_size, sizeof api);
  api.devices = &devices;
  return &api;
}
