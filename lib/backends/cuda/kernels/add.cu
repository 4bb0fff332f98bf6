// "add": out = a + b. Inputs arrive broadcast to the output's shape (stride 0
// on broadcast axes); the output is contiguous.
#include "indexing.h"
#include "kernel_util.h"
#include "kernels.h"
#include "launch_check.h"
#include "vec.h"

namespace xrt::cuda {
namespace {

constexpr int kThreads = 256;

// V elements per access; V == 1 when the pointers are not 16-byte aligned.
template <class T, int V>
__global__ void __launch_bounds__(kThreads)
    add_contiguous(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                   int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t packs = n / V;
  for (int64_t i = first; i < packs; i += step) {
    const Vec<T, V> va = load_vec<T, V>(a + i * V);
    const Vec<T, V> vb = load_vec<T, V>(b + i * V);
    Vec<T, V> r;
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = from_acc<T>(to_acc(va.v[j]) + to_acc(vb.v[j]));
    store_vec<T, V>(out + i * V, r);
  }
  for (int64_t i = packs * V + first; i < n; i += step) {
    out[i] = from_acc<T>(to_acc(a[i]) + to_acc(b[i]));
  }
}

template <class T, class I>
__global__ void __launch_bounds__(kThreads)
    add_strided(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, I n,
                StridedShape<2> s) {
  const I step = static_cast<I>(gridDim.x) * blockDim.x;
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    I off[2];
    strided_offsets(s, i, off);
    out[i] = from_acc<T>(to_acc(a[off[0]]) + to_acc(b[off[1]]));
  }
}

template <class T>
xrt_status_t add(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& ta = ctx->inputs[0];
  const xrt_kernel_tensor_t& tb = ctx->inputs[1];
  const xrt_kernel_tensor_t& to = ctx->outputs[0];
  const int64_t n = numel(to);
  if (n == 0) return XRT_OK;
  if (ta.ndim > kMaxDims || tb.ndim > kMaxDims) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda add: at most %d dimensions, got %d", kMaxDims,
                ta.ndim > tb.ndim ? ta.ndim : tb.ndim);
  }
  const T* a = static_cast<const T*>(ta.data);
  const T* b = static_cast<const T*>(tb.data);
  T* out = static_cast<T*>(to.data);
  const cudaStream_t stream = stream_of(ctx);
  const xrt_kernel_tensor_t* const ops[2] = {&ta, &tb};
  const StridedShape<2> s = collapse_dims(ops);
  if (is_contiguous(s, 0) && is_contiguous(s, 1)) {
    constexpr int V = kVec<T>;
    if (aligned16(a) && aligned16(b) && aligned16(out) && n >= V) {
      add_contiguous<T, V><<<grid_for(n / V, kThreads), kThreads, 0, stream>>>(a, b, out, n);
    } else {
      add_contiguous<T, 1><<<grid_for(n, kThreads), kThreads, 0, stream>>>(a, b, out, n);
    }
  } else if (fits_int32(s, n)) {
    add_strided<T, int32_t><<<grid_for(n, kThreads), kThreads, 0, stream>>>(
        a, b, out, static_cast<int32_t>(n), s);
  } else {
    add_strided<T, int64_t><<<grid_for(n, kThreads), kThreads, 0, stream>>>(a, b, out, n, s);
  }
  return check_launch(ctx);
}

}  // namespace

xrt_status_t run_add(const xrt_kernel_context_t* ctx) {
  return dispatch_float<true>(ctx, ctx->outputs[0].dtype,
                        [&](auto tag) { return add<typename decltype(tag)::type>(ctx); });
}

}  // namespace xrt::cuda
