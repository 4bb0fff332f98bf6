/*
 * xpuruntime — backend plugin ABI.
 *
 * A plugin is a shared library exporting exactly one symbol:
 *
 *   const xrt_plugin_api_t* xrt_plugin_get_api(uint32_t host_abi_major);
 *
 * It returns NULL when it cannot serve a host of that ABI major. The table
 * and everything it points to must stay valid until the process exits
 * (plugins are never unloaded).
 *
 * Versioning: the major changes when an existing field changes meaning; the
 * minor when fields are appended. The host reads only the fields that fit in
 * the plugin's struct_size, so a plugin built against an older minor keeps
 * working. The built-in CPU backend registers its kernels through this same
 * table, so there is one kernel interface for every backend, and the host
 * device is served by a device table like any plugin's.
 *
 * Migration to ABI 1.6 (device kinds by name): a plugin names the kind of
 * its devices and kernels with `kind_name` ("npu"); the runtime assigns
 * such a kind its integer code when the plugin loads, and that code is what
 * xrt_kernel_tensor_t.device_kind and xrt_host_api_t carry for it. A table
 * that leaves kind_name NULL (every table built before 1.6) is read by its
 * integer kind, which must then be XRT_DEVICE_CPU or XRT_DEVICE_CUDA. A
 * plugin may bring several kinds (device_tables), devices whose memory is
 * host memory (XRT_DEVICE_HOST_MEMORY), and sessions on named kinds
 * (xrt_session_api_t.create_on). Plugins built against 1.5 and older load
 * unchanged.
 */
#ifndef XPURUNTIME_PLUGIN_H_
#define XPURUNTIME_PLUGIN_H_

#include "xpuruntime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XRT_PLUGIN_ABI_MAJOR 1
#define XRT_PLUGIN_ABI_MINOR 9
#define XRT_PLUGIN_ENTRY_SYMBOL "xrt_plugin_get_api"

/* One operand as a kernel sees it. Strides are in elements and may be 0
 * (a broadcast axis). Outputs are contiguous unless the kernel is
 * XRT_KERNEL_STRIDED. */
typedef struct {
  void* data;
  xrt_dtype_t dtype;
  int32_t ndim;
  const int64_t* shape;
  const int64_t* strides;
  xrt_device_kind_t device_kind; /* the code the runtime gave the kind */
  int32_t device_index;
} xrt_kernel_tensor_t;

/* Everything one kernel call gets. Operands are validated and shaped by the
 * runtime before the call: inputs share one dtype and device, outputs are
 * allocated with the shape the op defines. For "add" the inputs arrive
 * broadcast to the output's shape (stride-0 axes). For every other op,
 * plugin ops included, the inputs are contiguous, except for
 * XRT_KERNEL_STRIDED kernels of the attention ops (below). */
typedef struct xrt_kernel_context {
  size_t struct_size;
  const char* op;
  const xrt_kernel_tensor_t* inputs;
  size_t num_inputs;
  const xrt_kernel_tensor_t* outputs;
  size_t num_outputs;
  const xrt_attr_t* attrs;
  size_t num_attrs;
  void* stream;          /* backend-native stream; NULL on the CPU */
  char* error;           /* a failing kernel writes its message here */
  size_t error_capacity;
} xrt_kernel_context_t;

/* Returns 1 when the kernel can run this call, 0 to let the dispatcher try
 * the next candidate. */
typedef int32_t (*xrt_kernel_supports_fn)(const xrt_kernel_context_t* ctx);
typedef xrt_status_t (*xrt_kernel_run_fn)(const xrt_kernel_context_t* ctx);

#define XRT_DTYPE_BIT(dtype) (1u << (unsigned)(dtype))

/* Kernel flag (ABI 1.4). For the attention ops, a kernel with it takes its
 * operands with their own strides: every input has a unit-stride last axis,
 * a 16-byte aligned start and strides that are multiples of 16 bytes (other
 * inputs arrive as contiguous copies), and each output is laid out in the
 * axis order of the input it follows (output and dq: q; dk: k; dv: v;
 * lse stays contiguous), which its strides say. A kernel without it gets
 * contiguous inputs and writes contiguous outputs; the runtime copies them
 * into that layout. */
#define XRT_KERNEL_STRIDED 1u

typedef struct {
  size_t struct_size;
  const char* op;          /* "matmul", "add", ... */
  const char* name;        /* shown in the profiler: "cpu.matmul_blas" */
  xrt_device_kind_t device_kind;
  uint32_t dtype_mask;     /* XRT_DTYPE_BIT(XRT_FLOAT32) | ... */
  int32_t priority;        /* higher wins; built-in kernels use 0..100 */
  xrt_kernel_supports_fn supports; /* NULL: every call of a listed dtype */
  xrt_kernel_run_fn run;
  uint32_t flags;          /* ABI 1.4: XRT_KERNEL_STRIDED or 0 */
  /* ABI 1.6: the device kind by name ("npu"); NULL: device_kind says it
   * (XRT_DEVICE_CPU or XRT_DEVICE_CUDA). When set, device_kind is ignored. */
  const char* kind_name;
} xrt_kernel_def_t;

/* ---- Model sessions (ABI 1.1) ------------------------------------------ */

typedef struct xrt_plugin_session xrt_plugin_session_t; /* the plugin's own */

/* ABI 1.8: a model value of any kind as a plugin sees it (xrt_value_t's
 * layout, with tensors as kernel views). TENSOR: `tensor`, contiguous.
 * STRINGS: tensor.ndim and tensor.shape, then strings/lengths per element.
 * SEQUENCE, MAP (keys, values) and OPTIONAL (0 or 1): items. */
typedef struct xrt_plugin_value {
  size_t struct_size;
  xrt_value_kind_t kind;
  xrt_kernel_tensor_t tensor;
  const char* const* strings;
  const size_t* lengths;
  const struct xrt_plugin_value* const* items;
  size_t num_items;
} xrt_plugin_value_t;

/* Lets a plugin hand outputs to the runtime: allocates a contiguous tensor
 * for output `index` (the position in the run call's output list) from the
 * runtime's pool and returns where to write it. Valid only during run(). */
typedef struct {
  size_t struct_size;
  void* context;
  xrt_status_t (*alloc_output)(void* context, size_t index, xrt_dtype_t dtype, int32_t ndim,
                               const int64_t* shape, void** data);
  /* ABI 1.3: hands over memory the backend already holds (contiguous, on
   * the session's device) as output `index`, without a copy. The runtime
   * calls release(release_context) once the tensor is gone, also when this
   * call fails. */
  xrt_status_t (*adopt_output)(void* context, size_t index, xrt_dtype_t dtype, int32_t ndim,
                               const int64_t* shape, void* data,
                               void (*release)(void* release_context), void* release_context);
  /* ABI 1.8: output `index` as a value tree, for run_values. The runtime
   * checks and copies it (tensors in it are in host memory) before it
   * returns; a malformed tree fails with XRT_ERROR_BACKEND. */
  xrt_status_t (*put_value)(void* context, size_t index, const xrt_plugin_value_t* value);
  /* ABI 1.9: 1 when the caller gave a tensor for output `index`
   * (xrt_session_run_into), described in *tensor (contiguous, writable, on
   * the session's device, of the output's dtype; its shape is the one the
   * run must give); 0 when the output is the backend's to produce. A
   * backend may write the output there and then hands nothing over for
   * it; if it hands the output over as usual instead, the runtime copies
   * it in. Valid only during run(). */
  int32_t (*given_output)(void* context, size_t index, xrt_kernel_tensor_t* tensor);
} xrt_session_outputs_t;

/* Receives spans a backend timed itself (its per-node profile). start is
 * wall-clock nanoseconds since the Unix epoch; args are key/value strings. */
typedef struct {
  size_t struct_size;
  void* context;
  void (*record)(void* context, const char* name, const char* category, int64_t start_unix_ns,
                 int64_t duration_ns, const char* const* arg_keys,
                 const char* const* arg_values, size_t num_args);
} xrt_span_sink_t;

/* ABI 1.7: how a run is asked to stop early (xrt_run_options_set_terminate
 * from another thread). A backend that can stop calls watch(context,
 * on_stop, stop_context) before it starts the work and unwatch(context)
 * before it returns. Between the two, on_stop(stop_context) is called at
 * most once, from any thread, when the caller asks the run to stop
 * (immediately, inside watch, when it already has); after unwatch returns
 * it is never called. The run then fails as soon as it can. */
typedef struct {
  size_t struct_size;
  void* context;
  void (*watch)(void* context, void (*on_stop)(void* stop_context), void* stop_context);
  void (*unwatch)(void* context);
} xrt_run_stop_t;

typedef struct {
  size_t struct_size;
  /* Options are the key/value strings given to xrt_session_create; a key the
   * backend does not know must fail with XRT_ERROR_INVALID_ARGUMENT. The
   * model is either a path (data NULL) or bytes (path NULL). */
  xrt_status_t (*create)(const char* path, const void* data, size_t size,
                         xrt_device_kind_t device_kind, int32_t device_index,
                         const xrt_option_t* options, size_t num_options,
                         xrt_plugin_session_t** out, char* error, size_t error_capacity);
  void (*destroy)(xrt_plugin_session_t* session);
  size_t (*input_count)(const xrt_plugin_session_t* session);
  size_t (*output_count)(const xrt_plugin_session_t* session);
  /* Descriptions live as long as the session. */
  xrt_status_t (*input_info)(const xrt_plugin_session_t* session, size_t index,
                             xrt_value_info_t* info);
  xrt_status_t (*output_info)(const xrt_plugin_session_t* session, size_t index,
                              xrt_value_info_t* info);
  /* inputs[i] is model input i (all of them, validated by the runtime and
   * contiguous); output_indices lists the model outputs wanted, in order.
   * Must be safe to call from many threads at once on one session. */
  xrt_status_t (*run)(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                      size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                      const xrt_session_outputs_t* outputs, char* error, size_t error_capacity);
  /* Short text for xrt_backend_info's version line, e.g. the execution
   * providers the runtime below offers; may be NULL. */
  const char* (*details)(void);
  /* Called at most once: just before destroy while the runtime's profiler
   * records, or earlier from xrt_session_end_profiling (then concurrently
   * with runs, which the backend no longer profiles): hands over the spans
   * the backend profiled (option enable_profiling). May be NULL. */
  void (*collect_spans)(xrt_plugin_session_t* session, const xrt_span_sink_t* sink);
  /* ABI 1.3: a fact about the session by key, e.g. "providers" (the
   * execution providers the backend registered, comma-separated, in
   * priority order); NULL for a key the backend does not answer. The text
   * lives as long as the session. May be NULL. */
  const char* (*property)(const xrt_plugin_session_t* session, const char* key);
  /* ABI 1.6: create() for a device named by kind ("cpu", "cuda", "npu")
   * and index; the runtime calls it instead of create() when present. A
   * backend without it runs models on cpu and cuda devices only. A kind
   * the backend cannot run on must fail with XRT_ERROR_UNSUPPORTED. */
  xrt_status_t (*create_on)(const char* path, const void* data, size_t size,
                            const char* device_kind_name, int32_t device_index,
                            const xrt_option_t* options, size_t num_options,
                            xrt_plugin_session_t** out, char* error, size_t error_capacity);
  /* ABI 1.7: run, stoppable through `stop` (see xrt_run_stop_t). May be
   * NULL: the runtime then runs `run` and reports a stop once it returns. */
  xrt_status_t (*run_stoppable)(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                                size_t num_inputs, const size_t* output_indices,
                                size_t num_outputs, const xrt_session_outputs_t* outputs,
                                const xrt_run_stop_t* stop, char* error, size_t error_capacity);
  /* ABI 1.8: run with inputs and outputs of any kind (input_info's kind
   * and type say which). inputs[i] is model input i, checked by the
   * runtime against the model's type; each output goes through
   * outputs->put_value. `stop` as for run_stoppable, may be NULL. May be
   * NULL: the runtime then runs only models whose values are all tensors. */
  xrt_status_t (*run_values)(xrt_plugin_session_t* session,
                             const xrt_plugin_value_t* const* inputs, size_t num_inputs,
                             const size_t* output_indices, size_t num_outputs,
                             const xrt_session_outputs_t* outputs, const xrt_run_stop_t* stop,
                             char* error, size_t error_capacity);
} xrt_session_api_t;

/* ---- Devices, memory, streams and copies (ABI 1.2) ----------------------
 *
 * A plugin that brings devices of its own (CUDA GPUs) fills this table, one
 * table per device kind. The runtime lists one device per index below
 * device_count(), named "<kind>:<index>", and routes every allocation,
 * stream, event and copy of those devices through it. Devices are numbered
 * by the plugin from 0. Streams and events are the plugin's
 * native handles (cudaStream_t, cudaEvent_t); a NULL stream is the device's
 * default stream. Every function may be called from many threads at once.
 * A failing function returns its status and leaves a message for
 * last_error() on the calling thread. */

typedef struct {
  size_t struct_size;
  char name[256];             /* "NVIDIA H100 80GB HBM3" */
  uint64_t total_memory;      /* bytes */
  int32_t compute_units;      /* multiprocessors */
  int32_t compute_capability; /* major*10+minor */
} xrt_plugin_device_props_t;

typedef struct {
  size_t struct_size;
  xrt_device_kind_t kind;
  /* Message of the last failing call on this thread. */
  const char* (*last_error)(void);
  /* Why no device can be used ("no CUDA driver: ..."), or NULL when
   * device_count() may be trusted. */
  const char* (*unavailable_reason)(void);
  int32_t (*device_count)(void);
  xrt_status_t (*device_props)(int32_t device, xrt_plugin_device_props_t* props);

  /* Stream-ordered pooled memory: a block may be used on `stream` as soon as
   * alloc returns; free hands it back in that stream's order (work already
   * queued on the stream it was allocated on may still use it). */
  xrt_status_t (*alloc)(int32_t device, size_t nbytes, void* stream, void** out);
  xrt_status_t (*free)(int32_t device, void* ptr);
  xrt_status_t (*memory_stats)(int32_t device, xrt_memory_stats_t* stats);
  xrt_status_t (*empty_cache)(int32_t device);
  xrt_status_t (*reset_peak)(int32_t device);

  xrt_status_t (*stream_create)(int32_t device, void** out);
  void (*stream_destroy)(int32_t device, void* stream);
  xrt_status_t (*stream_synchronize)(int32_t device, void* stream);
  /* Later work on `stream` waits for the point `event` was recorded at. */
  xrt_status_t (*stream_wait_event)(int32_t device, void* stream, void* event);
  xrt_status_t (*event_create)(int32_t device, void** out);
  void (*event_destroy)(int32_t device, void* event);
  xrt_status_t (*event_record)(int32_t device, void* event, void* stream);
  xrt_status_t (*event_synchronize)(int32_t device, void* event);
  xrt_status_t (*event_query)(int32_t device, void* event, int32_t* done);
  xrt_status_t (*event_elapsed_ms)(int32_t device, void* start, void* end, float* ms);

  /* Copies nbytes queued on `stream` of `device`. dst_device/src_device
   * name this plugin's device holding each side, or -1 for host memory. A
   * copy that touches pageable host memory returns once the host side may
   * be reused. */
  xrt_status_t (*copy)(int32_t device, void* stream, void* dst, int32_t dst_device,
                       const void* src, int32_t src_device, size_t nbytes);
  /* Element-wise copy between two views of one device (same shape and
   * dtype, any strides). */
  xrt_status_t (*copy_strided)(int32_t device, void* stream, const xrt_kernel_tensor_t* dst,
                               const xrt_kernel_tensor_t* src);
  xrt_status_t (*fill_zero)(int32_t device, void* stream, void* ptr, size_t nbytes);

  /* Page-locked host memory from the plugin's pool, for fast copies. */
  xrt_status_t (*host_alloc)(size_t nbytes, void** out);
  xrt_status_t (*host_free)(void* ptr);

  /* ABI 1.6: the kind by name: lower-case letters, digits and '_', starting
   * with a letter, at most 31 characters ("npu", "gpu"). NULL: `kind` says
   * it (XRT_DEVICE_CUDA; plugins cannot add "cpu" devices). No two loaded
   * tables may bring the same kind. */
  const char* kind_name;
  /* ABI 1.6: XRT_DEVICE_HOST_MEMORY or 0. */
  uint32_t flags;
} xrt_device_api_t;

/* Device flag (ABI 1.6): the devices work on ordinary host memory (an NPU
 * or integrated GPU behind a runtime that takes host buffers). The runtime
 * then serves their memory, streams, events and copies as it does the
 * CPU's (one host pool; work is complete when its call returns), and of
 * the table reads only kind/kind_name, flags, last_error,
 * unavailable_reason, device_count and device_props; the rest may be NULL.
 * Their tensors are host tensors to xrt_tensor_info, numpy and DLPack. */
#define XRT_DEVICE_HOST_MEMORY 1u

/* ---- Services of the runtime (ABI 1.3) ----------------------------------
 *
 * Given to a plugin once, right after it is loaded, so a backend that runs
 * someone else's library (ONNX Runtime) can make that library allocate
 * from the runtime's pools. Every function may be called from many threads
 * at once; the table lives until the process exits. */
typedef struct {
  size_t struct_size;
  /* Memory of device `index` of `kind` from the runtime's pool (what
   * xrt_memory_alloc gives), ordered on that device's default stream. */
  xrt_status_t (*memory_alloc)(xrt_device_kind_t kind, int32_t index, size_t nbytes,
                               void** out);
  xrt_status_t (*memory_free)(xrt_device_kind_t kind, int32_t index, void* ptr);
} xrt_host_api_t;

/* ---- Ops a plugin brings (ABI 1.5) --------------------------------------
 *
 * A plugin may define ops the core does not have. Each schema says what
 * the op takes and gives; the runtime then checks calls against it, shapes
 * and allocates the outputs, and dispatches to the plugin's kernels (kernel
 * entries whose op is the schema's name) exactly as for built-in ops:
 * xrt_op_run, xrt_op_run_outputs, xrt_op_run_impl and xpuruntime.ops.run,
 * with stream, device and dtype checks and a profiler span. Inputs share
 * the first input's device and dtype and reach the kernel contiguous.
 *
 * Rules, checked when the plugin loads (a plugin breaking one is listed by
 * xrt_backend_info as unavailable with the reason, and none of its ops or
 * kernels is registered):
 *   - name is namespaced, "<plugin>.<op>" ("myplugin.scale"): letters,
 *     digits, '_' and '.', with a '.' inside. No two schemas of the table,
 *     nor an op another loaded plugin defines, share a name.
 *   - 1 to XRT_OP_MAX_INPUTS inputs, each named (distinct names); input 0
 *     is required, and optional inputs (bits of optional_inputs) come last.
 *   - 1 to XRT_OP_MAX_OUTPUTS outputs; at most XRT_OP_MAX_ATTRS attributes,
 *     each named (distinct names), typed XRT_ATTR_INT or XRT_ATTR_FLOAT,
 *     with its default in i or f.
 *   - every entry has the first entry's struct_size, at least the ABI 1.5
 *     size; the host steps through the array by it.
 * Strings and arrays must stay valid until the process exits. */
#define XRT_OP_MAX_INPUTS 6
#define XRT_OP_MAX_OUTPUTS 3
#define XRT_OP_MAX_ATTRS 4

/* One output as the shape rule defines it. */
typedef struct {
  xrt_dtype_t dtype;
  int32_t ndim;
  int64_t shape[XRT_MAX_DIMS];
} xrt_op_output_desc_t;

/* What a shape rule gets: the inputs as the kernel will see them (data
 * must not be read; an absent optional input has shape NULL), every
 * attribute of the schema with the caller's value or its default, and the
 * outputs to fill, preset to the first input's dtype and shape. */
typedef struct xrt_op_infer_context {
  size_t struct_size;
  const char* op;
  const xrt_kernel_tensor_t* inputs;
  size_t num_inputs;
  const xrt_attr_t* attrs;
  size_t num_attrs;
  xrt_op_output_desc_t* outputs;
  size_t num_outputs;
  char* error;           /* a rule rejecting the call says why here */
  size_t error_capacity;
} xrt_op_infer_context_t;

/* Returns XRT_OK, or XRT_ERROR_INVALID_ARGUMENT (or another status) with a
 * message naming the bad shape, dtype or attribute, which the caller gets. */
typedef xrt_status_t (*xrt_op_infer_fn)(const xrt_op_infer_context_t* ctx);

typedef struct {
  size_t struct_size;
  const char* name;                /* "myplugin.scale" */
  const char* const* input_names;  /* num_inputs names */
  size_t num_inputs;
  uint32_t optional_inputs;        /* bit i set: input i may be NULL */
  size_t num_outputs;
  const xrt_attr_t* attrs;         /* name, type and default (i or f) */
  size_t num_attrs;
  /* The shape rule. NULL: element-wise, every present input has the first
   * input's shape and every output its shape and dtype. */
  xrt_op_infer_fn infer;
} xrt_op_schema_t;

typedef struct {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* name;        /* backend name listed by xrt_backend_info */
  const char* version;
  const xrt_kernel_def_t* kernels;
  size_t num_kernels;
  /* ABI 1.1: NULL, or the model sessions this backend runs. */
  const xrt_session_api_t* sessions;
  /* ABI 1.2: NULL, or the devices this backend brings. */
  const xrt_device_api_t* devices;
  /* ABI 1.3: NULL, or called once with the runtime's services after the
   * table is checked and before anything else is used. */
  void (*attach_host)(const xrt_host_api_t* host);
  /* ABI 1.5: NULL, or the ops this plugin brings (see "Ops a plugin
   * brings" above); its kernels for them come through `kernels`. */
  const xrt_op_schema_t* ops;
  size_t num_ops;
  /* ABI 1.6: further device tables, one per kind, for a plugin that
   * brings several kinds (OpenVINO: "npu" and "gpu"); read after
   * `devices`. A plugin lists only the kinds it found devices of. */
  const xrt_device_api_t* const* device_tables;
  size_t num_device_tables;
} xrt_plugin_api_t;

typedef const xrt_plugin_api_t* (*xrt_plugin_get_api_fn)(uint32_t host_abi_major);

#ifdef __cplusplus
}
#endif

#endif /* XPURUNTIME_PLUGIN_H_ */
