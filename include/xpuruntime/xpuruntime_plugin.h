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
 * table, so there is one kernel interface for every backend.
 */
#ifndef XPURUNTIME_PLUGIN_H_
#define XPURUNTIME_PLUGIN_H_

#include "xpuruntime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XRT_PLUGIN_ABI_MAJOR 1
#define XRT_PLUGIN_ABI_MINOR 0
#define XRT_PLUGIN_ENTRY_SYMBOL "xrt_plugin_get_api"

/* One operand as a kernel sees it. Strides are in elements and may be 0
 * (a broadcast axis). Outputs are always contiguous. */
typedef struct {
  void* data;
  xrt_dtype_t dtype;
  int32_t ndim;
  const int64_t* shape;
  const int64_t* strides;
  xrt_device_kind_t device_kind;
  int32_t device_index;
} xrt_kernel_tensor_t;

/* Everything one kernel call gets. Operands are validated and shaped by the
 * runtime before the call: inputs share one dtype and device, outputs are
 * allocated with the shape the op defines. For "add" the inputs arrive
 * broadcast to the output's shape (stride-0 axes). For every other built-in
 * op the inputs are contiguous. */
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

typedef struct {
  size_t struct_size;
  const char* op;          /* "matmul", "add", ... */
  const char* name;        /* shown in the profiler: "cpu.matmul_blas" */
  xrt_device_kind_t device_kind;
  uint32_t dtype_mask;     /* XRT_DTYPE_BIT(XRT_FLOAT32) | ... */
  int32_t priority;        /* higher wins; built-in kernels use 0..100 */
  xrt_kernel_supports_fn supports; /* NULL: every call of a listed dtype */
  xrt_kernel_run_fn run;
} xrt_kernel_def_t;

typedef struct {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* name;        /* backend name listed by xrt_backend_info */
  const char* version;
  const xrt_kernel_def_t* kernels;
  size_t num_kernels;
} xrt_plugin_api_t;

typedef const xrt_plugin_api_t* (*xrt_plugin_get_api_fn)(uint32_t host_abi_major);

#ifdef __cplusplus
}
#endif

#endif /* XPURUNTIME_PLUGIN_H_ */
