#include "cpu_backend.h"

#include "kernels.h"

namespace {

using namespace xrt::cpu;

constexpr uint32_t kFloatTypes = XRT_DTYPE_BIT(XRT_FLOAT16) | XRT_DTYPE_BIT(XRT_BFLOAT16) |
                                 XRT_DTYPE_BIT(XRT_FLOAT32) | XRT_DTYPE_BIT(XRT_FLOAT64);

// Lowest built-in priority, so any other backend registering the same op
// for the CPU wins.
constexpr int32_t kPriority = 0;

#if XRT_HAVE_BLAS
constexpr const char* kMatmulName = "cpu.matmul_blas";
#else
constexpr const char* kMatmulName = "cpu.matmul";
#endif

constexpr xrt_kernel_def_t def(const char* op, const char* name, xrt_kernel_run_fn run) {
  return {sizeof(xrt_kernel_def_t), op, name, XRT_DEVICE_CPU, kFloatTypes, kPriority, nullptr,
          run, 0u, "cpu"};
}

const xrt_kernel_def_t kKernels[] = {
    def("matmul", kMatmulName, run_matmul),
    def("add", "cpu.add", run_add),
    def("gelu", "cpu.gelu", run_gelu),
    def("softmax", "cpu.softmax", run_softmax),
    def("layer_norm", "cpu.layer_norm", run_layer_norm),
    def("rms_norm", "cpu.rms_norm", run_rms_norm),
    def("layer_norm_backward", "cpu.layer_norm_backward", run_layer_norm_backward),
    def("rms_norm_backward", "cpu.rms_norm_backward", run_rms_norm_backward),
    def("add_layer_norm", "cpu.add_layer_norm", run_add_layer_norm),
    def("add_rms_norm", "cpu.add_rms_norm", run_add_rms_norm),
    def("add_layer_norm_backward", "cpu.add_layer_norm_backward", run_layer_norm_backward),
    def("add_rms_norm_backward", "cpu.add_rms_norm_backward", run_rms_norm_backward),
    def("bias_gelu", "cpu.bias_gelu", run_bias_gelu),
    def("bias_gelu_backward", "cpu.bias_gelu_backward", run_bias_gelu_backward),
    def("attention", "cpu.attention", run_attention),
    def("attention_lse", "cpu.attention_lse", run_attention),
    def("attention_backward", "cpu.attention_backward", run_attention_backward),
    def("attention_varlen", "cpu.attention_varlen", run_attention_varlen),
    def("attention_varlen_lse", "cpu.attention_varlen_lse", run_attention_varlen),
    def("attention_varlen_backward", "cpu.attention_varlen_backward",
        run_attention_varlen_backward),
    def("attention_decode", "cpu.attention_decode", run_attention_decode),
    def("kv_cache_append", "cpu.kv_cache_append", run_kv_cache_append),
};

const xrt_plugin_api_t kApi = {
    sizeof(xrt_plugin_api_t),
    XRT_PLUGIN_ABI_MAJOR,
    XRT_PLUGIN_ABI_MINOR,
    "cpu",
    XRT_VERSION_STRING,
    kKernels,
    sizeof(kKernels) / sizeof(kKernels[0]),
    nullptr,  // runs no models
    nullptr,  // the host device is built in
    nullptr,  // needs none of the runtime's services
    nullptr,  // its ops are the built-in ones (op_schemas.cpp)
    0,
    nullptr,  // the host device table is the runtime's own (host_device.cpp)
    0,
};

}  // namespace

const xrt_plugin_api_t* xrt_cpu_backend_api() { return &kApi; }
