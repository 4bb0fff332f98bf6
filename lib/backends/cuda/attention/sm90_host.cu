// Host side of the Hopper attention kernels (sm90_host.h).
#include "attention/sm90_host.h"

#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"

namespace xrt::cuda::attn::sm90 {
namespace {

using EncodeTiled = PFN_cuTensorMapEncodeTiled_v12000;

// cuTensorMapEncodeTiled through cudart (the plugin does not link libcuda).
EncodeTiled encode_tiled() {
  static const EncodeTiled fn = []() -> EncodeTiled {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found{};
#if CUDART_VERSION >= 12050
    const cudaError_t err =
        cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault,
                                         &found);
#else
    const cudaError_t err =
        cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &p, cudaEnableDefault, &found);
#endif
    if (err != cudaSuccess || found != cudaDriverEntryPointSuccess) {
      cudaGetLastError();
      return nullptr;
    }
    return reinterpret_cast<EncodeTiled>(p);
  }();
  return fn;
}

}  // namespace

xrt_status_t make_map(const xrt_kernel_context_t* ctx, CUtensorMap* map, const void* data,
                      int64_t bh, int64_t len, int d, xrt_dtype_t dtype, uint32_t box_rows) {
  const EncodeTiled encode = encode_tiled();
  if (!encode) {
    return fail(ctx, XRT_ERROR_BACKEND, "cuda %s: cuTensorMapEncodeTiled is not available",
                op_name(ctx));
  }
  const cuuint64_t dims[3] = {static_cast<cuuint64_t>(d), static_cast<cuuint64_t>(len),
                              static_cast<cuuint64_t>(bh)};
  const cuuint64_t strides[2] = {static_cast<cuuint64_t>(d) * 2,
                                 static_cast<cuuint64_t>(len) * d * 2};
  const cuuint32_t box[3] = {64, box_rows, 1};
  const cuuint32_t elem_strides[3] = {1, 1, 1};
  const CUresult r = encode(
      map, dtype == XRT_FLOAT16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16,
      3, const_cast<void*>(data), dims, strides, box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
      CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    return fail(ctx, XRT_ERROR_BACKEND, "cuda %s: cuTensorMapEncodeTiled failed (%d)",
                op_name(ctx), static_cast<int>(r));
  }
  return XRT_OK;
}

xrt_status_t check_aligned(const xrt_kernel_context_t* ctx,
                           std::initializer_list<const void*> operands) {
  for (const void* ptr : operands) {
    if (reinterpret_cast<uintptr_t>(ptr) % 16 != 0) {
      return fail(ctx, XRT_ERROR_UNSUPPORTED,
                  "cuda %s: the sm_90a kernel needs 16-byte aligned inputs", op_name(ctx));
    }
  }
  return XRT_OK;
}

xrt_status_t check_device(const xrt_kernel_context_t* ctx) {
#if defined(XRT_HAVE_SM90A)
  int dev = 0, major = 0, minor = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
    return check_launch(ctx);
  }
  if (major != 9 || minor != 0) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: the sm_90a attention kernels need compute capability 9.0 (device %d "
                "has %d.%d)",
                op_name(ctx), dev, major, minor);
  }
  if (!encode_tiled()) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: the driver has no cuTensorMapEncodeTiled", op_name(ctx));
  }
  return XRT_OK;
#else
  return fail(ctx, XRT_ERROR_UNSUPPORTED,
              "cuda %s: the plugin was built without sm_90a code (gpu_architectures lacks 90)",
              op_name(ctx));
#endif
}

}  // namespace xrt::cuda::attn::sm90
