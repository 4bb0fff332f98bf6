// Host side of the Hopper (sm_90a) attention kernels: the device check and
// TMA tensor maps, shared by hopper_forward.cu and hopper_backward.cu.
#ifndef XRT_CUDA_ATTENTION_SM90_HOST_H_
#define XRT_CUDA_ATTENTION_SM90_HOST_H_

#include <cuda.h>  // CUtensorMap only: the driver is reached through cudart

#include <cstdint>
#include <initializer_list>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda::attn::sm90 {

// XRT_OK when the current device can run sm_90a kernels (compute
// capability 9.0, a plugin built with sm_90a code, a driver with tensor
// maps); otherwise UNSUPPORTED with the reason in ctx->error.
xrt_status_t check_device(const xrt_kernel_context_t* ctx);

// XRT_OK when every operand is 16-byte aligned, as TMA needs; otherwise
// UNSUPPORTED (the other kernels take the call).
xrt_status_t check_aligned(const xrt_kernel_context_t* ctx,
                           std::initializer_list<const void*> operands);

// A contiguous (bh, len, d) 16-bit tensor as a 3-D map of boxes of 64
// columns x box_rows rows, 128-byte swizzled; rows past len read as zero.
xrt_status_t make_map(const xrt_kernel_context_t* ctx, CUtensorMap* map, const void* data,
                      int64_t bh, int64_t len, int d, xrt_dtype_t dtype, uint32_t box_rows);

}  // namespace xrt::cuda::attn::sm90

#endif  // XRT_CUDA_ATTENTION_SM90_HOST_H_
