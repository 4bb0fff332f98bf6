/*
 * xpuruntime — public C API.
 *
 * Conventions
 *   - Every function that can fail returns xrt_status_t and writes results
 *     through out-parameters. On failure the out-parameters are left untouched
 *     and xrt_last_error() describes the failure on the calling thread.
 *   - Handles are opaque. Results of *_create / *_copy / *_to / ops belong to
 *     the caller, who drops them with the matching *_release (which accepts
 *     NULL). Accessors borrow: what they return lives as long as the object
 *     they were asked about, unless the comment says otherwise.
 *   - Structs passed across the boundary begin with `size_t struct_size`; set
 *     it to sizeof(the struct) before the call (see Versions).
 *   - No function throws or aborts on bad input.
 *
 * Versions
 *   XRT_API_VERSION (the header) and xrt_api_version() (the library) count
 *   additions to this API; a program may compare them to use what a newer
 *   library offers. The library's SONAME carries XRT_VERSION_MAJOR.
 *   A minor version may: add functions; append fields to the end of a
 *   struct (never reorder, remove or retype one); append codes to an enum
 *   (never renumber one); append fields to a plugin table (plugin ABI
 *   minor). Anything else needs a major version.
 *   Structs are read and written only up to the caller's struct_size: a
 *   program built against an older header (a smaller struct) keeps working,
 *   and fields past its size are neither read nor written; a newer, larger
 *   struct is accepted and its unknown tail left alone. A struct_size below
 *   the struct's first released size (API version 2) is
 *   XRT_ERROR_INVALID_ARGUMENT naming the struct. Plugin tables follow the
 *   same rule (xpuruntime_plugin.h).
 *
 * Threads
 *   Every function may be called from any thread. Tensors, streams, events
 *   and devices may be shared between threads: their metadata never changes
 *   after creation and their reference counts are atomic. Ordering concurrent
 *   writes to the *contents* of one tensor is the caller's business, as with
 *   any memory. The profiler is process-wide.
 *
 * CPU execution
 *   Work on the "cpu" device runs on the calling thread (ops may fan out to
 *   the runtime's worker threads) and is complete when the call returns; CPU
 *   streams and events exist so code can be written once for every device.
 *
 * GPU execution
 *   Ops, copies and fills on a "cuda:N" device are queued on a stream (NULL:
 *   the device's default stream, CUDA's legacy default stream, which orders
 *   itself against every other blocking stream) and return before the work
 *   is done. Results are ready once the stream is synchronized or an event
 *   recorded after the work has completed. Memory of a released tensor is
 *   handed out again only in stream order: at once to later work on the
 *   stream it was allocated on, to work on other streams only once that
 *   stream has passed its last use. A tensor used on a stream other than the
 *   one it was created on must be kept alive until that work completes.
 *   Copies that read or write pageable host memory return when the host
 *   memory may be reused (device→host: when the data has arrived); copies
 *   with page-locked memory (xrt_tensor_create_pinned) are asynchronous.
 */
#ifndef XPURUNTIME_H_
#define XPURUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#include "xpuruntime_dlpack.h"
#include "xpuruntime_version.h"

#if defined(_WIN32)
#define XRT_API __declspec(dllexport)
#else
#define XRT_API __attribute__((visibility("default")))
#endif

/* Enums are int32 in C; in C++ they get that fixed underlying type, so a
 * code a caller or plugin stores that the enum does not name (an older or
 * newer library's, or a mistake) is a valid value to read and reject. */
#ifdef __cplusplus
#define XRT_ENUM_INT32 : int32_t
#else
#define XRT_ENUM_INT32
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this C API; bumped when a function, struct field or enum code
 * is added. 3: xrt_api_version, xrt_device_info_t.kind_name. 4: dtypes
 * uint16/32/64 and the four float8 types (codes 10..16). 5: device kinds
 * that plugins bring by name, xrt_device_info_t.host_memory, run options
 * (xrt_run_options_*, xrt_session_run_with_options) and
 * xrt_session_end_profiling. 6: values other than tensors (xrt_value_t,
 * xrt_session_run_values, xrt_value_info_t.kind/type). 7: outputs written
 * into tensors the caller gives (xrt_session_run_into). */
#define XRT_API_VERSION 7
#define XRT_MAX_DIMS 8

/* ------------------------------------------------------------------------ */
/* Status and errors                                                        */
/* ------------------------------------------------------------------------ */

typedef enum XRT_ENUM_INT32 {
  XRT_OK = 0,
  XRT_ERROR_INVALID_ARGUMENT = 1,
  XRT_ERROR_OUT_OF_MEMORY = 2,
  XRT_ERROR_NOT_FOUND = 3,
  XRT_ERROR_UNSUPPORTED = 4,
  XRT_ERROR_BACKEND = 5,
  XRT_ERROR_IO = 6,
  XRT_ERROR_INTERNAL = 7,
} xrt_status_t;

/* Library version as "MAJOR.MINOR.PATCH"; static storage. */
XRT_API const char* xrt_version(void);

/* XRT_API_VERSION of the library that is running (it may be newer than the
 * header a program was built with). */
XRT_API int32_t xrt_api_version(void);

/* Message of the last failed call on this thread ("" if none); valid until
 * the next failing call on the same thread. */
XRT_API const char* xrt_last_error(void);

/* Name of a status code ("XRT_ERROR_NOT_FOUND"); static storage. */
XRT_API const char* xrt_status_name(xrt_status_t status);

/* ------------------------------------------------------------------------ */
/* Data types                                                               */
/* ------------------------------------------------------------------------ */

typedef enum XRT_ENUM_INT32 {
  XRT_BOOL = 0,
  XRT_UINT8 = 1,
  XRT_INT8 = 2,
  XRT_INT16 = 3,
  XRT_INT32 = 4,
  XRT_INT64 = 5,
  XRT_FLOAT16 = 6,
  XRT_BFLOAT16 = 7,
  XRT_FLOAT32 = 8,
  XRT_FLOAT64 = 9,
  /* API 4. */
  XRT_UINT16 = 10,
  XRT_UINT32 = 11,
  XRT_UINT64 = 12,
  /* 8-bit floats as ONNX and ml_dtypes define them: E4M3FN (no infinities,
   * one NaN per sign), E5M2 (IEEE-like), and the FNUZ variants (no negative
   * zero, NaN is 0x80). Tensors hold and copy them; which ops compute them
   * is up to the kernels registered (XRT_ERROR_UNSUPPORTED otherwise). */
  XRT_FLOAT8_E4M3FN = 13,
  XRT_FLOAT8_E5M2 = 14,
  XRT_FLOAT8_E4M3FNUZ = 15,
  XRT_FLOAT8_E5M2FNUZ = 16,
  /* The number of codes; it grows as codes are appended. */
  XRT_DTYPE_COUNT = 17,
} xrt_dtype_t;

/* No int4/uint4: a tensor finds element (i0, i1, ...) at byte
 * data + (i0*strides[0] + i1*strides[1] + ...) * element size, and a packed
 * half-byte element has no such address: any view but the whole tensor
 * (a slice, a transpose, DLPack strides) could not be described. numpy
 * cannot share the memory either: ml_dtypes.int4 keeps one element per
 * byte, and the buffer protocol has no packed format. */

/* Size in bytes of one element. */
XRT_API xrt_status_t xrt_dtype_size(xrt_dtype_t dtype, size_t* size);
/* Lower-case name as numpy and ml_dtypes spell it ("float32", "bfloat16",
 * "float8_e4m3fn"); static storage. */
XRT_API xrt_status_t xrt_dtype_name(xrt_dtype_t dtype, const char** name);

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct xrt_device xrt_device_t;

/* A device kind is a name a backend brings ("cpu", "cuda", "npu", "gpu",
 * ...); xrt_device_info_t.kind_name and device names ("npu:0") carry it.
 * The integer kind is a code for the name within one process: "cpu" and
 * "cuda" keep the codes below in every process; any other kind gets the
 * next free code (2, 3, ...) when the first plugin that names it loads, so
 * its code may differ between runs: compare kinds by name.
 *
 * Migration (API 5, plugin ABI 1.6): C callers that switch on kind keep
 * working for CPU and CUDA and should treat any other code as a device
 * they may not know, described by kind_name; host_memory says whether its
 * tensors can be read directly. Plugin authors name their kinds with
 * kind_name in the device table and kernel entries (xpuruntime_plugin.h). */
typedef enum XRT_ENUM_INT32 {
  XRT_DEVICE_CPU = 0,
  XRT_DEVICE_CUDA = 1,
} xrt_device_kind_t;

typedef struct {
  size_t struct_size;
  xrt_device_kind_t kind;     /* the code of kind_name (see above) */
  int32_t index;              /* ordinal within its kind */
  const char* name;           /* "cpu", "cuda:0", "npu:0" */
  const char* description;    /* model name, e.g. the CPU brand string */
  uint64_t total_memory;      /* bytes */
  int32_t compute_units;      /* cores or multiprocessors */
  int32_t compute_capability; /* major*10+minor for CUDA, 0 otherwise */
  /* API 3: the kind as a name ("cpu", "cuda"), as in the device's name. */
  const char* kind_name;
  /* API 5: 1 when the device's tensors live in ordinary host memory (the
   * CPU, and devices such as an NPU reached through OpenVINO), so the host
   * may read and write them directly. */
  int32_t host_memory;
} xrt_device_info_t;

/* Device handles belong to the runtime and stay valid until the process
 * exits; they need no retain or release. */
XRT_API xrt_status_t xrt_device_count(int32_t* count);
XRT_API xrt_status_t xrt_device_get(int32_t ordinal, xrt_device_t** out);
/* "<kind>:<index>" or "<kind>" (= index 0) for any kind a loaded backend
 * brings: "cpu", "cuda:1", "npu:0". A kind no loaded backend brings is
 * XRT_ERROR_NOT_FOUND naming it and the kinds there are; a known kind with
 * no such index is XRT_ERROR_NOT_FOUND listing that kind's devices. */
XRT_API xrt_status_t xrt_device_by_name(const char* name, xrt_device_t** out);
/* Strings in info live as long as the device. */
XRT_API xrt_status_t xrt_device_info(const xrt_device_t* device, xrt_device_info_t* info);

/* ------------------------------------------------------------------------ */
/* Streams and events                                                       */
/* ------------------------------------------------------------------------ */

typedef struct xrt_stream xrt_stream_t;
typedef struct xrt_event xrt_event_t;

/* Wherever a stream parameter is taken, NULL means the device's default
 * stream. */
XRT_API xrt_status_t xrt_stream_create(xrt_device_t* device, xrt_stream_t** out);
XRT_API xrt_status_t xrt_stream_retain(xrt_stream_t* stream);
XRT_API void xrt_stream_release(xrt_stream_t* stream);
XRT_API xrt_status_t xrt_stream_synchronize(xrt_stream_t* stream);
XRT_API xrt_status_t xrt_stream_device(const xrt_stream_t* stream, xrt_device_t** out);
/* Wraps a stream the caller created elsewhere (a cudaStream_t, e.g. torch's
 * current stream) so xpuruntime work can be queued on it; the caller keeps
 * it alive and destroys it. NULL native is the device's default stream. */
XRT_API xrt_status_t xrt_stream_wrap(xrt_device_t* device, void* native, xrt_stream_t** out);
/* The backend's handle for the stream (cudaStream_t; NULL for the default
 * stream and on the CPU). */
XRT_API xrt_status_t xrt_stream_native(const xrt_stream_t* stream, void** out);
/* Work queued on `stream` after this call waits for `event`'s point. The
 * event may belong to another device of the stream's backend (a cuda:1
 * stream waiting for work on cuda:0), not to another backend's. */
XRT_API xrt_status_t xrt_stream_wait_event(xrt_stream_t* stream, xrt_event_t* event);
/* Waits for all work queued on the device's default stream. */
XRT_API xrt_status_t xrt_device_synchronize(xrt_device_t* device);

XRT_API xrt_status_t xrt_event_create(xrt_device_t* device, xrt_event_t** out);
XRT_API xrt_status_t xrt_event_retain(xrt_event_t* event);
XRT_API void xrt_event_release(xrt_event_t* event);
/* Marks the point in `stream` (NULL: default stream) the event stands for. */
XRT_API xrt_status_t xrt_event_record(xrt_event_t* event, xrt_stream_t* stream);
XRT_API xrt_status_t xrt_event_synchronize(xrt_event_t* event);
/* *done = 1 when the work before the recorded point has finished. */
XRT_API xrt_status_t xrt_event_query(xrt_event_t* event, int32_t* done);
/* Milliseconds from `start` to `end`; both must have been recorded. */
XRT_API xrt_status_t xrt_event_elapsed_time(xrt_event_t* start, xrt_event_t* end, float* ms);

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
  size_t struct_size;
  uint64_t allocated_bytes;      /* handed out to callers, rounded to blocks */
  uint64_t reserved_bytes;       /* obtained from the device, cache included */
  uint64_t peak_allocated_bytes; /* since start or xrt_memory_reset_peak */
  uint64_t peak_reserved_bytes;
  uint64_t num_allocs;           /* allocation requests served */
  uint64_t num_frees;
  uint64_t num_cache_hits;       /* requests served from the cache */
  uint64_t num_device_allocs;    /* requests that reached the device */
} xrt_memory_stats_t;

/* Pooled allocation of raw memory on a device (host memory is 64-byte
 * aligned). nbytes may be 0 (a unique non-NULL pointer is returned). */
XRT_API xrt_status_t xrt_memory_alloc(xrt_device_t* device, size_t nbytes, void** out);
/* ptr must come from xrt_memory_alloc on the same device; NULL is ignored. */
XRT_API xrt_status_t xrt_memory_free(xrt_device_t* device, void* ptr);
XRT_API xrt_status_t xrt_memory_stats(xrt_device_t* device, xrt_memory_stats_t* stats);
/* Returns cached, unused blocks to the device. */
XRT_API xrt_status_t xrt_memory_empty_cache(xrt_device_t* device);
XRT_API xrt_status_t xrt_memory_reset_peak(xrt_device_t* device);

/* ------------------------------------------------------------------------ */
/* Tensors                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct xrt_tensor xrt_tensor_t;

/* Read-only view of a tensor's description; pointers live as long as the
 * tensor. Strides are in elements. */
typedef struct {
  size_t struct_size;
  xrt_dtype_t dtype;
  int32_t ndim;
  const int64_t* shape;
  const int64_t* strides;
  void* data;          /* address of element [0, ..., 0] */
  xrt_device_t* device;
  int64_t numel;
  uint64_t nbytes;     /* numel * element size */
  int32_t contiguous;  /* 1 when row-major compact */
  int32_t read_only;   /* 1 for memory imported as read-only */
} xrt_tensor_info_t;

/* Called once when the last reference to a wrapped tensor is dropped. */
typedef void (*xrt_deleter_t)(void* data, void* context);

/* New contiguous tensor with uninitialised contents. ndim 0 is a scalar. */
XRT_API xrt_status_t xrt_tensor_create(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                                       const int64_t* shape, xrt_tensor_t** out);
/* Same, filled with zeros. */
XRT_API xrt_status_t xrt_tensor_zeros(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                                      const int64_t* shape, xrt_tensor_t** out);
/* Contiguous host ("cpu") tensor in page-locked memory, so copies to and
 * from GPUs run at full speed and asynchronously; XRT_ERROR_UNSUPPORTED when
 * no loaded backend provides page-locked memory. */
XRT_API xrt_status_t xrt_tensor_create_pinned(xrt_dtype_t dtype, int32_t ndim,
                                              const int64_t* shape, xrt_tensor_t** out);
/* Wraps external memory without copying. strides (in elements) may be NULL
 * for row-major. On success the tensor owns the memory and calls
 * deleter(data, context) when released (deleter may be NULL); on failure
 * nothing is called and the memory stays the caller's. */
XRT_API xrt_status_t xrt_tensor_wrap(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                                     const int64_t* shape, const int64_t* strides, void* data,
                                     xrt_deleter_t deleter, void* context, xrt_tensor_t** out);
XRT_API xrt_status_t xrt_tensor_retain(xrt_tensor_t* tensor);
XRT_API void xrt_tensor_release(xrt_tensor_t* tensor);

XRT_API xrt_status_t xrt_tensor_info(const xrt_tensor_t* tensor, xrt_tensor_info_t* info);
XRT_API xrt_status_t xrt_tensor_data(const xrt_tensor_t* tensor, void** data);
/* *shape points at ndim extents owned by the tensor. */
XRT_API xrt_status_t xrt_tensor_shape(const xrt_tensor_t* tensor, int32_t* ndim,
                                      const int64_t** shape);

/* Copies the contents of src into dst (same shape and dtype; any strides;
 * across devices where a path exists). */
XRT_API xrt_status_t xrt_tensor_copy(xrt_tensor_t* dst, const xrt_tensor_t* src,
                                     xrt_stream_t* stream);
/* New contiguous tensor with src's contents on `device`. */
XRT_API xrt_status_t xrt_tensor_to(const xrt_tensor_t* src, xrt_device_t* device,
                                   xrt_stream_t* stream, xrt_tensor_t** out);
/* src itself (retained) when already contiguous, else a contiguous copy. */
XRT_API xrt_status_t xrt_tensor_contiguous(const xrt_tensor_t* src, xrt_tensor_t** out);

/* DLPack export: a new managed tensor holding a reference to `tensor`; the
 * consumer calls its deleter once. */
XRT_API xrt_status_t xrt_tensor_to_dlpack(xrt_tensor_t* tensor, DLManagedTensorVersioned** out);
XRT_API xrt_status_t xrt_tensor_to_dlpack_legacy(xrt_tensor_t* tensor, DLManagedTensor** out);
/* DLPack import without copying. On success the new tensor owns `managed`
 * and calls its deleter when released; on failure ownership stays with the
 * caller. */
XRT_API xrt_status_t xrt_tensor_from_dlpack(DLManagedTensorVersioned* managed, xrt_tensor_t** out);
XRT_API xrt_status_t xrt_tensor_from_dlpack_legacy(DLManagedTensor* managed, xrt_tensor_t** out);

/* ------------------------------------------------------------------------ */
/* Ops                                                                      */
/* ------------------------------------------------------------------------ */

/* Inputs must share one device and one dtype. The result is a new contiguous
 * tensor on that device (attention's outputs: see xrt_attention). The dispatcher picks the highest-priority kernel
 * registered for (op, device kind, dtype) whose supports() check accepts the
 * call; none → XRT_ERROR_UNSUPPORTED naming op, device and dtype. */

/* numpy matmul semantics for ndim >= 2 operands; batch dims broadcast. */
XRT_API xrt_status_t xrt_matmul(const xrt_tensor_t* a, const xrt_tensor_t* b,
                                xrt_stream_t* stream, xrt_tensor_t** out);
/* Elementwise a + b with numpy broadcasting. */
XRT_API xrt_status_t xrt_add(const xrt_tensor_t* a, const xrt_tensor_t* b,
                             xrt_stream_t* stream, xrt_tensor_t** out);
/* x * Phi(x), the erf form. */
XRT_API xrt_status_t xrt_gelu(const xrt_tensor_t* x, xrt_stream_t* stream, xrt_tensor_t** out);
/* axis may be negative (counted from the end). */
XRT_API xrt_status_t xrt_softmax(const xrt_tensor_t* x, int32_t axis, xrt_stream_t* stream,
                                 xrt_tensor_t** out);
/* Normalises over the last axis; weight and bias (either may be NULL) have
 * that axis's length. */
XRT_API xrt_status_t xrt_layer_norm(const xrt_tensor_t* x, const xrt_tensor_t* weight,
                                    const xrt_tensor_t* bias, double eps, xrt_stream_t* stream,
                                    xrt_tensor_t** out);
XRT_API xrt_status_t xrt_rms_norm(const xrt_tensor_t* x, const xrt_tensor_t* weight, double eps,
                                  xrt_stream_t* stream, xrt_tensor_t** out);
/* q (B, H, Lq, D), k (B, Hkv, Lk, D), v (B, Hkv, Lk, Dv) → (B, H, Lq, Dv),
 * Hkv dividing H (grouped-query attention: q head h reads kv head
 * h / (H / Hkv)). causal masks key j for query i when j > i (top-left
 * aligned, as torch's scaled_dot_product_attention). scale <= 0 means
 * 1/sqrt(D). The op "attention" (xrt_op_run) also takes optional inputs
 * attn_mask (bool, True = attend, or added to the scores; broadcastable to
 * (B, H, Lq, Lk)) and key_lengths (int32 (B,)), and attributes window_left
 * (keys more than that many before the diagonal are masked; -1: none) and
 * causal_align (0 top-left, 1 bottom-right: query i sits on key
 * i + Lk - Lq). A query that sees no key gets zeros. Packed sequences:
 * "attention_varlen"; decoding from a (paged) KV cache: "attention_decode"
 * and "kv_cache_append" (lib/core/op_schemas.cpp lists their operands).
 * Layout: q, k and v may be strided views, e.g. (B, L, H, D) memory seen
 * as (B, H, L, D); kernels read them in place. The output (and the
 * gradients of attention_backward: dq, dk, dv) keep the axis order of q
 * (k, v): when q's head stride is smaller than its sequence stride (H and
 * Lq both > 1), the output is (B, Lq, H, Dv) memory with (B, H, Lq, Dv)
 * shape and strides, so its transpose(1, 2) is contiguous; otherwise it is
 * contiguous. attention_lse's lse is always contiguous. */
XRT_API xrt_status_t xrt_attention(const xrt_tensor_t* q, const xrt_tensor_t* k,
                                   const xrt_tensor_t* v, int32_t causal, double scale,
                                   xrt_stream_t* stream, xrt_tensor_t** out);

/* Generic entry point for any registered op. Attributes are passed by name. */
typedef enum XRT_ENUM_INT32 {
  XRT_ATTR_INT = 0,
  XRT_ATTR_FLOAT = 1,
} xrt_attr_type_t;

typedef struct {
  const char* name;
  xrt_attr_type_t type;
  int64_t i;
  double f;
} xrt_attr_t;

/* Runs `op` and returns its single output in *out. `op` is a built-in op
 * or one a loaded plugin brings ("myplugin.scale", see xpuruntime_plugin.h,
 * "Ops a plugin brings"). Unknown op names give XRT_ERROR_NOT_FOUND listing
 * the known ones. */
XRT_API xrt_status_t xrt_op_run(const char* op, const xrt_tensor_t* const* inputs,
                                size_t num_inputs, const xrt_attr_t* attrs, size_t num_attrs,
                                xrt_stream_t* stream, xrt_tensor_t** out);
/* Same for ops with several outputs ("layer_norm_backward": dx, dweight,
 * dbias; "rms_norm_backward": dx, dweight; "attention_lse" with inputs q,
 * k, v and attributes causal, scale: the output and the float32 (batch,
 * heads, seq) natural log-sum-exp of each query's scaled scores;
 * "attention_backward" with inputs grad, q, k, v, optionally together
 * attention_lse's output and lse, then attention's attn_mask and
 * key_lengths: dq, dk, dv); num_outputs must match. */
XRT_API xrt_status_t xrt_op_run_outputs(const char* op, const xrt_tensor_t* const* inputs,
                                        size_t num_inputs, const xrt_attr_t* attrs,
                                        size_t num_attrs, xrt_stream_t* stream,
                                        xrt_tensor_t** outputs, size_t num_outputs);
/* Same as xrt_op_run_outputs with the implementation chosen by the caller
 * (for benchmarks and for pinning results): impl is a kernel name as the
 * profiler's "impl" field and XRT_ERROR_UNSUPPORTED messages show it
 * ("cuda.flash_attention", "cuda.cudnn_attention"), or a comma-separated
 * list of names tried in order (the first that is registered and accepts
 * the call runs), or NULL for the dispatcher's choice. When none of the
 * names is registered for the op, the inputs' device kind and dtype:
 * XRT_ERROR_NOT_FOUND listing those that are; when those registered cannot
 * run the call: XRT_ERROR_UNSUPPORTED with each one's reason. */
XRT_API xrt_status_t xrt_op_run_impl(const char* op, const char* impl,
                                     const xrt_tensor_t* const* inputs, size_t num_inputs,
                                     const xrt_attr_t* attrs, size_t num_attrs,
                                     xrt_stream_t* stream, xrt_tensor_t** outputs,
                                     size_t num_outputs);

/* ------------------------------------------------------------------------ */
/* Model sessions                                                           */
/* ------------------------------------------------------------------------ */

typedef struct xrt_session xrt_session_t;

typedef struct {
  const char* key;
  const char* value;
} xrt_option_t;

/* API 6: what a model value is. ONNX models may take and give more than
 * tensors of numbers: string tensors, sequences, maps and optionals. */
typedef enum XRT_ENUM_INT32 {
  XRT_VALUE_TENSOR = 0,   /* a tensor of a dtype above */
  XRT_VALUE_STRINGS = 1,  /* a tensor of UTF-8 strings */
  XRT_VALUE_SEQUENCE = 2, /* a list of values of one type */
  XRT_VALUE_MAP = 3,      /* keys and values, two 1-D values of one length */
  XRT_VALUE_OPTIONAL = 4, /* a value or none */
} xrt_value_kind_t;

/* One model input or output. shape[i] is -1 for a dimension fixed only at
 * run time; dim_names[i] is then its symbolic name ("batch") or "".
 * Pointers live as long as the session. API 6: kind, and type, ONNX
 * Runtime's name of the value's type ("tensor(float)", "tensor(string)",
 * "seq(tensor(float))", "map(int64,tensor(float))",
 * "optional(tensor(float))"). dtype, ndim and shape describe TENSOR and
 * STRINGS values (dtype is meaningless for STRINGS); other kinds have
 * ndim 0. */
typedef struct {
  size_t struct_size;
  const char* name;
  xrt_dtype_t dtype;
  int32_t ndim;
  const int64_t* shape;
  const char* const* dim_names;
  xrt_value_kind_t kind;
  const char* type;
} xrt_value_info_t;

/* API 6: a model value of any kind, as a tree.
 *   TENSOR:   tensor.
 *   STRINGS:  ndim and shape; strings[i] and lengths[i] (bytes, UTF-8, no
 *             terminator needed) for each element in row-major order.
 *   SEQUENCE: items[0..num_items), every item of one type.
 *   MAP:      num_items 2: items[0] the keys (a 1-D TENSOR of int64 or a
 *             1-D STRINGS), items[1] the values (a 1-D TENSOR or STRINGS
 *             of the same length).
 *   OPTIONAL: num_items 0 (none) or 1 (the value).
 * Fields a kind does not use are ignored. Trees the caller builds are only
 * read during the call; trees the runtime returns are owned by the caller
 * and dropped, whole, with xrt_value_release. */
typedef struct xrt_value {
  size_t struct_size;
  xrt_value_kind_t kind;
  xrt_tensor_t* tensor;
  int32_t ndim;
  const int64_t* shape;
  const char* const* strings;
  const size_t* lengths;
  const struct xrt_value* const* items;
  size_t num_items;
} xrt_value_t;

/* Drops a tree the runtime returned, with every tensor and string in it
 * (NULL is accepted). Never pass a tree the caller built. */
XRT_API void xrt_value_release(xrt_value_t* value);

/* Loads a model from a file (model_data NULL) or from bytes (model_path
 * NULL). backend NULL or "auto" on a device a backend brought (OpenVINO's
 * "npu:0") uses that backend when it runs models. Otherwise it creates the
 * model on every available backend (and variant: ONNX Runtime's TensorRT
 * provider on CUDA, OpenVINO's NPU or GPU) that can serve `device`, runs
 * each on zero inputs of the model's shapes for a bounded time (about 40 ms
 * after a warm-up run) and keeps the one the option "policy" prefers:
 * "latency" (default, lowest median run time), "throughput" (most runs a
 * second from one thread per core), "prefer_npu" (an NPU when one can run
 * the model, else latency) or "first" (the first backend listed that runs
 * models, unmeasured). Only one candidate: it is created unmeasured. The
 * choice is cached under $XRT_CACHE_DIR/auto (default
 * ~/.cache/xpuruntime/auto), keyed by the model, options, policy, backend
 * versions and device, so a later session of the same model creates only
 * the winner; the session's "selection" property reports the times and
 * each candidate spans the profiler's trace. A policy that is not one of
 * these, or "policy" with a named backend: XRT_ERROR_INVALID_ARGUMENT. Options
 * are backend-specific key/value strings (ONNX Runtime: intra_op_num_threads,
 * inter_op_num_threads, graph_optimization_level, enable_profiling,
 * providers, provider_option.<Provider>.<key>, log_severity_level,
 * log_verbosity_level, logid, execution_mode, enable_mem_pattern,
 * enable_cpu_mem_arena, optimized_model_filepath, session_config.<key>,
 * custom_ops_library, the last repeatable). With enable_profiling=1 the
 * backend's own per-node spans join the profiler's trace when the session is
 * released while the profiler records. A session may be run from many
 * threads at once. */
XRT_API xrt_status_t xrt_session_create(const char* model_path, const void* model_data,
                                        size_t model_size, const char* backend,
                                        xrt_device_t* device, const xrt_option_t* options,
                                        size_t num_options, xrt_session_t** out);
XRT_API xrt_status_t xrt_session_retain(xrt_session_t* session);
XRT_API void xrt_session_release(xrt_session_t* session);
/* Name of the backend that runs the session; static storage. */
XRT_API xrt_status_t xrt_session_backend(const xrt_session_t* session, const char** name);
XRT_API xrt_status_t xrt_session_device(const xrt_session_t* session, xrt_device_t** out);
/* A fact the backend reports about the session, by key; the text lives as
 * long as the session. "providers": ONNX Runtime's execution providers
 * registered for it, comma-separated, in priority order
 * ("CUDAExecutionProvider,CPUExecutionProvider"). "selection" (sessions of
 * backend "auto"): "policy=P\tchosen=C\tcached=0|1\tcost_ms=T" then one line
 * per candidate, "candidate=C\tbackend=B" with "\tmedian_us=..\truns=..
 * \truns_per_s=.." or "\terror=..". XRT_ERROR_NOT_FOUND for a
 * key the backend does not answer. */
XRT_API xrt_status_t xrt_session_property(const xrt_session_t* session, const char* key,
                                          const char** value);
/* API 5: ends the backend's own profiling of a session created with
 * enable_profiling=1 and writes its per-node spans to `path` as a Chrome
 * trace (microseconds from the first span), rather than into the profiler
 * when the session is released. Later runs are not profiled; a session made
 * without enable_profiling writes a trace with no spans.
 * XRT_ERROR_INVALID_ARGUMENT when the profile was already ended or the
 * backend cannot profile. */
XRT_API xrt_status_t xrt_session_end_profiling(xrt_session_t* session, const char* path);
XRT_API xrt_status_t xrt_session_input_count(const xrt_session_t* session, size_t* count);
XRT_API xrt_status_t xrt_session_output_count(const xrt_session_t* session, size_t* count);
XRT_API xrt_status_t xrt_session_input_info(const xrt_session_t* session, size_t index,
                                            xrt_value_info_t* info);
XRT_API xrt_status_t xrt_session_output_info(const xrt_session_t* session, size_t index,
                                             xrt_value_info_t* info);
/* Runs the model. Every model input must be given exactly once, by name,
 * with the model's dtype and rank and matching fixed dimensions; inputs on
 * another device are refused. output_names NULL asks for every output (then
 * num_outputs must equal the output count). outputs[i] receives a new tensor
 * on the session's device, owned by the caller. On a GPU the run is queued
 * on the device's default stream, in order with the work already there,
 * and returns without waiting for it: inputs and outputs behave like the
 * operands of an op (xrt_stream_synchronize, or an event, before reading
 * outputs from another stream or the host). */
XRT_API xrt_status_t xrt_session_run(xrt_session_t* session, const char* const* input_names,
                                     const xrt_tensor_t* const* inputs, size_t num_inputs,
                                     const char* const* output_names, size_t num_outputs,
                                     xrt_tensor_t** outputs);

/* API 5: settings of one or more runs. Terminate stops every run using the
 * options as soon as its backend can (XRT_ERROR_BACKEND, "the run was
 * stopped"), and makes later runs fail at once until it is cleared with
 * terminate 0; it may be set from any thread while runs are in progress.
 * A backend that cannot stop mid-run reports the stop when the run ends. */
typedef struct xrt_run_options xrt_run_options_t;
XRT_API xrt_status_t xrt_run_options_create(xrt_run_options_t** out);
XRT_API void xrt_run_options_release(xrt_run_options_t* options);
XRT_API xrt_status_t xrt_run_options_set_terminate(xrt_run_options_t* options,
                                                   int32_t terminate);
/* xrt_session_run with run options (NULL: as xrt_session_run). */
XRT_API xrt_status_t xrt_session_run_with_options(
    xrt_session_t* session, xrt_run_options_t* run_options, const char* const* input_names,
    const xrt_tensor_t* const* inputs, size_t num_inputs, const char* const* output_names,
    size_t num_outputs, xrt_tensor_t** outputs);

/* API 7: xrt_session_run_with_options writing outputs into tensors the
 * caller gives (run_options may be NULL). outputs[i] NULL on entry receives
 * a new tensor, as with xrt_session_run. A non-NULL outputs[i] is a tensor
 * the caller owns and keeps owning (outputs[i] is left as it is): the run
 * writes the output into it. It must be on the session's device, of the
 * output's dtype, contiguous, writable, of the shape the run gives (the
 * model's fixed dimensions are checked before the run, the rest by the
 * backend or after the run) and share no memory with an input or another
 * output; otherwise XRT_ERROR_INVALID_ARGUMENT naming the output, what was
 * given and what was expected. ONNX Runtime computes into it (and keeps
 * it bound while the same tensor is given run after run); OpenVINO, whose
 * outputs are its own memory, copies its output into it instead of into a
 * new tensor; plugins before ABI 1.9 produce the output as before and the
 * runtime copies it in. On failure the NULL entries stay NULL and the
 * given tensors' contents are unspecified. On a GPU the writes are queued
 * like xrt_session_run's. */
XRT_API xrt_status_t xrt_session_run_into(
    xrt_session_t* session, xrt_run_options_t* run_options, const char* const* input_names,
    const xrt_tensor_t* const* inputs, size_t num_inputs, const char* const* output_names,
    size_t num_outputs, xrt_tensor_t** outputs);

/* API 6: xrt_session_run_with_options for models whose inputs or outputs
 * may be values other than tensors (run_options may be NULL). Each input's
 * tree must have the model's type (an empty sequence or an absent optional
 * fits any of its kind); a tensor in it follows xrt_session_run's rules,
 * and the top-level value's shape is checked against the model's.
 * outputs[i] receives a new tree (tensors on the session's device), which
 * the caller drops with xrt_value_release; nothing is left allocated when
 * the call fails. A backend that runs only tensors fails with
 * XRT_ERROR_UNSUPPORTED naming the value and its type; xrt_session_run
 * refuses models with values other than tensors the same way. */
XRT_API xrt_status_t xrt_session_run_values(
    xrt_session_t* session, xrt_run_options_t* run_options, const char* const* input_names,
    const xrt_value_t* const* inputs, size_t num_inputs, const char* const* output_names,
    size_t num_outputs, xrt_value_t** outputs);

/* ------------------------------------------------------------------------ */
/* Backends and plugins                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
  size_t struct_size;
  const char* name;    /* "cpu", "cuda", "onnxruntime", ... */
  const char* version; /* "" when unknown */
  const char* path;    /* file it came from; "" for built-in backends */
  const char* reason;  /* why it is unavailable; "" when available */
  int32_t available;
  int32_t builtin;
  int32_t runs_models; /* 1 when it can create sessions */
  const char* details; /* e.g. execution providers; "" when none */
} xrt_backend_info_t;

/* Backends are the built-in CPU backend plus every plugin file the loader
 * found (in XRT_PLUGIN_PATH, a ':'-separated list of directories or files,
 * then the package's plugin folder) or was given; plugins that failed to load
 * are listed too, with the reason. Strings live until the process exits. */
XRT_API xrt_status_t xrt_backend_count(int32_t* count);
XRT_API xrt_status_t xrt_backend_info(int32_t index, xrt_backend_info_t* info);
/* Loads one plugin file. A failure is returned and also listed by
 * xrt_backend_info; the rest of the runtime is unaffected. */
XRT_API xrt_status_t xrt_plugin_load(const char* path);

/* ------------------------------------------------------------------------ */
/* Profiler                                                                 */
/* ------------------------------------------------------------------------ */

/* Starts recording spans (ops, copies, sessions) from every thread; clears
 * what an earlier run recorded. Fails if already recording. */
XRT_API xrt_status_t xrt_profiler_start(void);
XRT_API xrt_status_t xrt_profiler_stop(void);
/* Writes the recorded spans as Chrome-trace JSON (chrome://tracing, Perfetto). */
XRT_API xrt_status_t xrt_profiler_export(const char* path);
/* Copies a text table (per span name: count, total, mean, max) into buf,
 * truncated to capacity-1 chars and NUL-terminated; *length receives the
 * full length without the NUL, so a call with capacity 0 sizes the buffer. */
XRT_API xrt_status_t xrt_profiler_summary(char* buf, size_t capacity, size_t* length);
/* Number of spans recorded. */
XRT_API xrt_status_t xrt_profiler_event_count(size_t* count);

#ifdef __cplusplus
}
#endif

#endif /* XPURUNTIME_H_ */
