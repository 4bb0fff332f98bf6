// "gelu", exact form: x * 0.5 * (1 + erf(x / sqrt(2))). Contiguous operands.
#include "kernel_util.h"
#include "kernels.h"
#include "launch_check.h"
#include "vec.h"

namespace xrt::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float gelu_acc(float v) {
  return 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f));
}

__device__ __forceinline__ double gelu_acc(double v) {
  return 0.5 * v * (1.0 + erf(v * 0.70710678118654752440));
}

// V elements per access; V == 1 when the pointers are not 16-byte aligned.
template <class T, int V>
__global__ void __launch_bounds__(kThreads)
    gelu_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t packs = n / V;
  for (int64_t i = first; i < packs; i += step) {
    const Vec<T, V> vx = load_vec<T, V>(x + i * V);
    Vec<T, V> r;
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = from_acc<T>(gelu_acc(to_acc(vx.v[j])));
    store_vec<T, V>(out + i * V, r);
  }
  for (int64_t i = packs * V + first; i < n; i += step) {
    out[i] = from_acc<T>(gelu_acc(to_acc(x[i])));
  }
}

template <class T>
xrt_status_t gelu(const xrt_kernel_context_t* ctx) {
  const int64_t n = numel(ctx->outputs[0]);
  if (n == 0) return XRT_OK;
  const T* x = static_cast<const T*>(ctx->inputs[0].data);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  const cudaStream_t stream = stream_of(ctx);
  constexpr int V = kVec<T>;
  if (aligned16(x) && aligned16(out) && n >= V) {
    gelu_kernel<T, V><<<grid_for(n / V, kThreads), kThreads, 0, stream>>>(x, out, n);
  } else {
    gelu_kernel<T, 1><<<grid_for(n, kThreads), kThreads, 0, stream>>>(x, out, n);
  }
  return check_launch(ctx);
}

}  // namespace

xrt_status_t run_gelu(const xrt_kernel_context_t* ctx) {
  return dispatch_float<true>(ctx, ctx->outputs[0].dtype,
                        [&](auto tag) { return gelu<typename decltype(tag)::type>(ctx); });
}

}  // namespace xrt::cuda
