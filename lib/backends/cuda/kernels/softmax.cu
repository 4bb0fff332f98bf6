// "softmax" along attr "axis", seen as (outer, n, inner). inner == 1 works on
// rows (in registers when they fit); inner > 1 gives each thread one column.
// Max subtraction and fp32 math throughout.
#include "kernel_util.h"
#include "kernels.h"
#include "launch_check.h"
#include "rows.h"
#include "vec.h"

namespace xrt::cuda {
namespace {

constexpr int kMaxPacks = 4;
constexpr int kTargetThreads = 128;
constexpr int kMaxThreads = 1024;
constexpr int kGenericThreads = 256;

// One read and one write; the exponentials are recomputed for the output
// rather than kept, which would double the registers a row needs.
template <class T, int P>
__global__ void __launch_bounds__(kMaxThreads)
    softmax_rows_regs(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int n) {
  constexpr int V = kVec<T>;
  __shared__ RowBuf<float> bufs[2];
  const int np = n / V;
  const int tid = threadIdx.x;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.y;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; row < rows;
       row += step) {
    const T* xr = x + row * n;
    Pack<T> xv[P];
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int p = tid + i * static_cast<int>(blockDim.x);
      if (p < np) xv[i] = load_vec<T, V>(xr + p * V);
    }
    float m = -INFINITY;
#pragma unroll
    for (int i = 0; i < P; ++i) {
      if (tid + i * static_cast<int>(blockDim.x) >= np) continue;
#pragma unroll
      for (int j = 0; j < V; ++j) m = fmaxf(m, to_acc(xv[i].v[j]));
    }
    m = row_max(m, bufs[0]);
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < P; ++i) {
      if (tid + i * static_cast<int>(blockDim.x) >= np) continue;
#pragma unroll
      for (int j = 0; j < V; ++j) s += expf(to_acc(xv[i].v[j]) - m);
    }
    const float inv = 1.0f / row_sum(s, bufs[1]);
    T* yr = y + row * n;
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int p = tid + i * static_cast<int>(blockDim.x);
      if (p >= np) continue;
      Pack<T> out;
#pragma unroll
      for (int j = 0; j < V; ++j) out.v[j] = from_acc<T>(expf(to_acc(xv[i].v[j]) - m) * inv);
      store_vec<T, V>(yr + p * V, out);
    }
  }
}

// Any row length and alignment: three passes over the row in global memory.
template <class T>
__global__ void __launch_bounds__(kGenericThreads)
    softmax_rows_generic(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t n) {
  __shared__ RowBuf<float> bufs[2];
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.y;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; row < rows;
       row += step) {
    const T* xr = x + row * n;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, to_acc(xr[j]));
    m = row_max(m, bufs[0]);
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += expf(to_acc(xr[j]) - m);
    const float inv = 1.0f / row_sum(s, bufs[1]);
    T* yr = y + row * n;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      yr[j] = from_acc<T>(expf(to_acc(xr[j]) - m) * inv);
    }
  }
}

// inner > 1: neighbouring threads take neighbouring columns, so every step
// along the axis is a coalesced access. Max and sum come from one online pass.
template <class T>
__global__ void __launch_bounds__(kGenericThreads)
    softmax_columns(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t n,
                    int64_t inner) {
  const int64_t columns = outer * inner;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < columns;
       c += step) {
    const int64_t o = c / inner;
    const int64_t base = o * n * inner + (c - o * inner);
    float m = -INFINITY;
    float s = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      const float v = to_acc(x[base + j * inner]);
      if (v > m) {
        s = s * expf(m - v) + 1.0f;
        m = v;
      } else if (v != -INFINITY) {
        s += expf(v - m);
      }
    }
    const float inv = 1.0f / s;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = base + j * inner;
      y[k] = from_acc<T>(expf(to_acc(x[k]) - m) * inv);
    }
  }
}

template <class T>
xrt_status_t softmax(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& tx = ctx->inputs[0];
  const int64_t total = numel(tx);
  if (total == 0) return XRT_OK;
  const int64_t axis = attr_int(ctx, "axis", tx.ndim - 1);
  if (axis < 0 || axis >= tx.ndim) {
    return fail(ctx, XRT_ERROR_INVALID_ARGUMENT, "cuda softmax: axis %lld out of range",
                static_cast<long long>(axis));
  }
  int64_t outer = 1, inner = 1;
  for (int32_t d = 0; d < axis; ++d) outer *= tx.shape[d];
  for (int32_t d = static_cast<int32_t>(axis) + 1; d < tx.ndim; ++d) inner *= tx.shape[d];
  const int64_t n = tx.shape[axis];
  const T* x = static_cast<const T*>(tx.data);
  T* y = static_cast<T*>(ctx->outputs[0].data);
  const cudaStream_t stream = stream_of(ctx);

  constexpr int V = kVec<T>;
  RowLaunch L{};
  if (inner > 1) {
    softmax_columns<T><<<grid_for(outer * inner, kGenericThreads), kGenericThreads, 0, stream>>>(
        x, y, outer, n, inner);
  } else if (n % V == 0 && aligned16(x) && aligned16(y) &&
             pick_row_launch(n / V, kMaxPacks, kTargetThreads, kMaxThreads, &L)) {
    const unsigned grid = row_grid(outer, L.block);
    const int ni = static_cast<int>(n);
    switch (L.packs) {
      case 1: softmax_rows_regs<T, 1><<<grid, L.block, 0, stream>>>(x, y, outer, ni); break;
      case 2: softmax_rows_regs<T, 2><<<grid, L.block, 0, stream>>>(x, y, outer, ni); break;
      default: softmax_rows_regs<T, 4><<<grid, L.block, 0, stream>>>(x, y, outer, ni); break;
    }
  } else {
    const dim3 block = generic_row_block(n);
    softmax_rows_generic<T><<<row_grid(outer, block), block, 0, stream>>>(x, y, outer, n);
  }
  return check_launch(ctx);
}

}  // namespace

xrt_status_t run_softmax(const xrt_kernel_context_t* ctx) {
  return dispatch_float<false>(ctx, ctx->outputs[0].dtype,
                               [&](auto tag) { return softmax<typename decltype(tag)::type>(ctx); });
}

}  // namespace xrt::cuda
