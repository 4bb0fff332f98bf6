// "gelu", exact form: x * 0.5 * (1 + erf(x / sqrt(2))), and "bias_gelu" /
// "bias_gelu_backward": gelu(x + bias) with bias along the last axis, whose
// sum is rounded to the dtype first as two separate ops would round it.
// Contiguous operands.
#include "backends/cuda/scratch.h"
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

// d gelu / dv = Phi(v) + v * phi(v).
__device__ __forceinline__ float gelu_grad_acc(float v) {
  const float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752440f));
  const float pdf = 0.39894228040143267794f * __expf(-0.5f * v * v);
  return cdf + v * pdf;
}

__device__ __forceinline__ double gelu_grad_acc(double v) {
  const double cdf = 0.5 * (1.0 + erf(v * 0.70710678118654752440));
  const double pdf = 0.39894228040143267794 * exp(-0.5 * v * v);
  return cdf + v * pdf;
}

// x + bias rounded to T, back in the accumulation type.
template <class T>
__device__ __forceinline__ auto biased(T x, T bias) {
  return to_acc(from_acc<T>(to_acc(x) + to_acc(bias)));
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

namespace {

// V elements per access (V == 1 unless n % V == 0 and all pointers are
// 16-byte aligned), the bias element of each the column index mod n.
template <class T, int V>
__global__ void __launch_bounds__(kThreads)
    bias_gelu_kernel(const T* __restrict__ x, const T* __restrict__ bias, T* __restrict__ out,
                     int64_t total, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t packs = total / V;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < packs;
       i += step) {
    const Vec<T, V> vx = load_vec<T, V>(x + i * V);
    const Vec<T, V> vb = load_vec<T, V>(bias + (i * V) % n);
    Vec<T, V> r;
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = from_acc<T>(gelu_acc(biased(vx.v[j], vb.v[j])));
    store_vec<T, V>(out + i * V, r);
  }
}

constexpr int kTileCols = 32;
constexpr int kTileRows = 8;
constexpr int64_t kMinChunkRows = 64;
// The grid's y limit, and a bound on the partial sums' scratch.
constexpr int64_t kMaxChunks = 65535;
constexpr int64_t kMaxScratchBytes = int64_t{64} << 20;

// dx for a tile of kTileCols columns and chunk_rows rows, and the tile's
// column sums of dx (before rounding) in part[blockIdx.y, column].
template <class T>
__global__ void __launch_bounds__(kTileCols* kTileRows)
    bias_gelu_backward_kernel(const T* __restrict__ grad, const T* __restrict__ x,
                              const T* __restrict__ bias, T* __restrict__ dx,
                              float* __restrict__ part, int64_t rows, int64_t n,
                              int64_t chunk_rows) {
  __shared__ float tile[kTileRows][kTileCols + 1];
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kTileCols + threadIdx.x;
  const int64_t chunk_end = (static_cast<int64_t>(blockIdx.y) + 1) * chunk_rows;
  const int64_t row_end = chunk_end < rows ? chunk_end : rows;
  float s = 0.0f;
  if (col < n) {
    const T b = bias[col];
    for (int64_t r = static_cast<int64_t>(blockIdx.y) * chunk_rows + threadIdx.y; r < row_end;
         r += kTileRows) {
      const int64_t i = r * n + col;
      const auto d = to_acc(grad[i]) * gelu_grad_acc(biased(x[i], b));
      dx[i] = from_acc<T>(d);
      s += static_cast<float>(d);
    }
  }
  tile[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < n) {
    float t = 0.0f;
#pragma unroll
    for (int i = 0; i < kTileRows; ++i) t += tile[i][threadIdx.x];
    part[static_cast<int64_t>(blockIdx.y) * n + col] = t;
  }
}

// out[c] = sum over `chunks` rows of part[., c], in a fixed order.
template <class T>
__global__ void __launch_bounds__(kThreads)
    sum_chunks(const float* __restrict__ part, int64_t chunks, int64_t n, T* __restrict__ out) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= n) return;
  float s = 0.0f;
  for (int64_t c = 0; c < chunks; ++c) s += part[c * n + col];
  out[col] = from_acc<T>(s);
}

template <class T>
xrt_status_t bias_gelu(const xrt_kernel_context_t* ctx) {
  const int64_t total = numel(ctx->outputs[0]);
  if (total == 0) return XRT_OK;
  const xrt_kernel_tensor_t& tx = ctx->inputs[0];
  const int64_t n = tx.shape[tx.ndim - 1];
  const T* x = static_cast<const T*>(tx.data);
  const T* bias = static_cast<const T*>(ctx->inputs[1].data);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  const cudaStream_t stream = stream_of(ctx);
  constexpr int V = kVec<T>;
  if (n % V == 0 && aligned16(x) && aligned16(bias) && aligned16(out)) {
    bias_gelu_kernel<T, V><<<grid_for(total / V, kThreads), kThreads, 0, stream>>>(x, bias, out,
                                                                                  total, n);
  } else {
    bias_gelu_kernel<T, 1><<<grid_for(total, kThreads), kThreads, 0, stream>>>(x, bias, out,
                                                                              total, n);
  }
  return check_launch(ctx);
}

template <class T>
xrt_status_t bias_gelu_backward(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& tx = ctx->inputs[1];
  const int64_t n = tx.shape[tx.ndim - 1];
  const int64_t total = numel(tx);
  T* dbias = static_cast<T*>(ctx->outputs[1].data);
  const cudaStream_t stream = stream_of(ctx);
  if (n == 0) return XRT_OK;
  if (total == 0) {
    // No rows: dbias is an empty sum.
    cudaMemsetAsync(dbias, 0, static_cast<size_t>(n) * sizeof(T), stream);
    return check_launch(ctx);
  }
  const int64_t rows = total / n;
  const int64_t max_chunks =
      std::max<int64_t>(1, std::min(kMaxChunks, kMaxScratchBytes / (n * int64_t{sizeof(float)})));
  const int64_t chunk_rows =
      std::max(kMinChunkRows, (rows + max_chunks - 1) / max_chunks);
  const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  const size_t bytes = static_cast<size_t>(chunks * n) * sizeof(float);
  float* part = static_cast<float*>(scratch_alloc(bytes, stream));
  if (!part) {
    return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cuda %s: no memory for %zu bytes of scratch",
                op_name(ctx), bytes);
  }
  const dim3 grid(static_cast<unsigned>((n + kTileCols - 1) / kTileCols),
                  static_cast<unsigned>(chunks));
  bias_gelu_backward_kernel<T><<<grid, dim3(kTileCols, kTileRows), 0, stream>>>(
      static_cast<const T*>(ctx->inputs[0].data), static_cast<const T*>(tx.data),
      static_cast<const T*>(ctx->inputs[2].data), static_cast<T*>(ctx->outputs[0].data), part,
      rows, n, chunk_rows);
  xrt_status_t status = check_launch(ctx);
  if (status == XRT_OK) {
    sum_chunks<T><<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
        part, chunks, n, dbias);
    status = check_launch(ctx);
  }
  scratch_free(part, stream);
  return status;
}

}  // namespace

xrt_status_t run_bias_gelu(const xrt_kernel_context_t* ctx) {
  return dispatch_float<true>(ctx, ctx->outputs[0].dtype,
                              [&](auto tag) { return bias_gelu<typename decltype(tag)::type>(ctx); });
}

xrt_status_t run_bias_gelu_backward(const xrt_kernel_context_t* ctx) {
  return dispatch_float<true>(ctx, ctx->outputs[0].dtype, [&](auto tag) {
    return bias_gelu_backward<typename decltype(tag)::type>(ctx);
  });
}

}  // namespace xrt::cuda
