// libxrt_cuda.so: NVIDIA GPUs as "cuda:N" devices, with our own kernels and
// matrix products through cuBLASLt. Without a driver or GPU the plugin
// still loads and says why it is unavailable.
#include <cuda_runtime.h>

#include <string>

#include "attention/attention.h"
#include "cuda_status.h"
#include "cudnn/cudnn_attention.h"
#include "device_api.h"
#include "kernels/kernels.h"
#include "matmul/matmul.h"
#include "xpuruntime/xpuruntime_plugin.h"
#include "xpuruntime/xpuruntime_version.h"

namespace xrt::cuda {
namespace {

// Kernels run on the device their output lives on.
template <xrt_kernel_run_fn Run>
xrt_status_t on_output_device(const xrt_kernel_context_t* ctx) {
  DeviceGuard guard(ctx->outputs[0].device_index);
  return Run(ctx);
}

constexpr uint32_t kFloats =
    XRT_DTYPE_BIT(XRT_FLOAT32) | XRT_DTYPE_BIT(XRT_FLOAT16) | XRT_DTYPE_BIT(XRT_BFLOAT16);
constexpr uint32_t kHalves = XRT_DTYPE_BIT(XRT_FLOAT16) | XRT_DTYPE_BIT(XRT_BFLOAT16);

#define XRT_CUDA_KERNEL_AT(op, name, dtypes, priority, supports, fn, flags)                \
  xrt_kernel_def_t {                                                                        \
    sizeof(xrt_kernel_def_t), op, name, XRT_DEVICE_CUDA, dtypes, priority, supports,         \
        on_output_device<fn>, flags, "cuda"                                                 \
  }
#define XRT_CUDA_KERNEL(op, name, dtypes, fn) \
  XRT_CUDA_KERNEL_AT(op, name, dtypes, 50, nullptr, fn, 0u)

const xrt_kernel_def_t kKernels[] = {
    XRT_CUDA_KERNEL("matmul", "cuda.matmul_cublaslt", kFloats, matmul),
    XRT_CUDA_KERNEL("add", "cuda.add", kFloats | XRT_DTYPE_BIT(XRT_FLOAT64), run_add),
    XRT_CUDA_KERNEL("gelu", "cuda.gelu", kFloats | XRT_DTYPE_BIT(XRT_FLOAT64), run_gelu),
    XRT_CUDA_KERNEL("softmax", "cuda.softmax", kFloats, run_softmax),
    XRT_CUDA_KERNEL("layer_norm", "cuda.layer_norm", kFloats, run_layer_norm),
    XRT_CUDA_KERNEL("rms_norm", "cuda.rms_norm", kFloats, run_rms_norm),
    XRT_CUDA_KERNEL("layer_norm_backward", "cuda.layer_norm_backward", kFloats,
                    run_layer_norm_backward),
    XRT_CUDA_KERNEL("rms_norm_backward", "cuda.rms_norm_backward", kFloats,
                    run_rms_norm_backward),
    XRT_CUDA_KERNEL("add_layer_norm", "cuda.add_layer_norm", kFloats, run_add_layer_norm),
    XRT_CUDA_KERNEL("add_rms_norm", "cuda.add_rms_norm", kFloats, run_add_rms_norm),
    XRT_CUDA_KERNEL("add_layer_norm_backward", "cuda.add_layer_norm_backward", kFloats,
                    run_layer_norm_backward),
    XRT_CUDA_KERNEL("add_rms_norm_backward", "cuda.add_rms_norm_backward", kFloats,
                    run_rms_norm_backward),
    XRT_CUDA_KERNEL("bias_gelu", "cuda.bias_gelu", kFloats | XRT_DTYPE_BIT(XRT_FLOAT64),
                    run_bias_gelu),
    XRT_CUDA_KERNEL("bias_gelu_backward", "cuda.bias_gelu_backward",
                    kFloats | XRT_DTYPE_BIT(XRT_FLOAT64), run_bias_gelu_backward),
    XRT_CUDA_KERNEL("attention", "cuda.flash_attention", kHalves, run_attention),
    XRT_CUDA_KERNEL("attention_lse", "cuda.flash_attention_lse", kHalves, run_attention),
    XRT_CUDA_KERNEL("attention_backward", "cuda.flash_attention_backward", kHalves,
                    run_attention_backward),
    XRT_CUDA_KERNEL("attention_decode", "cuda.attention_decode", kFloats, run_attention_decode),
    XRT_CUDA_KERNEL("kv_cache_append", "cuda.kv_cache_append", kFloats | XRT_DTYPE_BIT(XRT_FLOAT64),
                    run_kv_cache_append),
    XRT_CUDA_KERNEL("attention_varlen", "cuda.flash_attention_varlen", kHalves,
                    run_attention_varlen),
    XRT_CUDA_KERNEL("attention_varlen_lse", "cuda.flash_attention_varlen_lse", kHalves,
                    run_attention_varlen),
    XRT_CUDA_KERNEL("attention_varlen_backward", "cuda.flash_attention_varlen_backward", kHalves,
                    run_attention_varlen_backward),
    // The Hopper kernels ahead of the sm_80 ones; supports() declines other GPUs.
    XRT_CUDA_KERNEL_AT("attention", "cuda.flash_attention_sm90", kHalves, 55,
                       attention_sm90_supports, run_attention_sm90, 0u),
    XRT_CUDA_KERNEL_AT("attention_lse", "cuda.flash_attention_sm90_lse", kHalves, 55,
                       attention_sm90_supports, run_attention_sm90, 0u),
    XRT_CUDA_KERNEL_AT("attention_backward", "cuda.flash_attention_sm90_backward", kHalves, 55,
                       attention_sm90_backward_supports, run_attention_sm90_backward, 0u),
#ifdef XRT_HAVE_CUDNN
    // The attention choice: cuDNN (60) ahead of our Hopper (55) and sm80
    // (50) kernels wherever cuDNN has a plan, since it was faster in every
    // case measured (attention/NOTES.md); each supports() declines what it
    // cannot run, naming it, and the next one is tried. The packed ops
    // have no kernel of ours on the GPU.
    XRT_CUDA_KERNEL_AT("attention", "cuda.cudnn_attention", kHalves, 60, cudnn_attention_supports,
                       run_cudnn_attention, XRT_KERNEL_STRIDED),
    XRT_CUDA_KERNEL_AT("attention_lse", "cuda.cudnn_attention_lse", kHalves, 60,
                       cudnn_attention_supports, run_cudnn_attention, XRT_KERNEL_STRIDED),
    XRT_CUDA_KERNEL_AT("attention_backward", "cuda.cudnn_attention_backward", kHalves, 60,
                       cudnn_attention_backward_supports, run_cudnn_attention_backward,
                       XRT_KERNEL_STRIDED),
    XRT_CUDA_KERNEL_AT("attention_varlen", "cuda.cudnn_attention_varlen", kHalves, 60,
                       cudnn_attention_varlen_supports, run_cudnn_attention_varlen, 0u),
    XRT_CUDA_KERNEL_AT("attention_varlen_lse", "cuda.cudnn_attention_varlen_lse", kHalves, 60,
                       cudnn_attention_varlen_supports, run_cudnn_attention_varlen, 0u),
    XRT_CUDA_KERNEL_AT("attention_varlen_backward", "cuda.cudnn_attention_varlen_backward",
                       kHalves, 60, cudnn_attention_varlen_backward_supports,
                       run_cudnn_attention_varlen_backward, 0u),
#endif
};

#undef XRT_CUDA_KERNEL
#undef XRT_CUDA_KERNEL_AT

// "0.1.0 (CUDA runtime 13.0, driver 13.0)". cuBLASLt is opened at the first
// matrix product, so importing the runtime does not pay for it.
std::string version_line() {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  cudaGetLastError();
  auto dotted = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
  return std::string(XRT_VERSION_STRING) + " (CUDA runtime " + dotted(runtime) + ", driver " +
         (driver ? dotted(driver) : std::string("none")) + ")";
}

}  // namespace
}  // namespace xrt::cuda

extern "C" __attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  if (host_abi_major != XRT_PLUGIN_ABI_MAJOR) return nullptr;
  static const std::string version = xrt::cuda::version_line();
  static const xrt_plugin_api_t table = [] {
    xrt_plugin_api_t t{};
    t.struct_size = sizeof t;
    t.abi_major = XRT_PLUGIN_ABI_MAJOR;
    t.abi_minor = XRT_PLUGIN_ABI_MINOR;
    t.name = "cuda";
    t.version = version.c_str();
    t.kernels = xrt::cuda::kKernels;
    t.num_kernels = sizeof xrt::cuda::kKernels / sizeof xrt::cuda::kKernels[0];
    t.sessions = nullptr;
    t.devices = xrt::cuda::device_api();
    return t;
  }();
  return &table;
}
