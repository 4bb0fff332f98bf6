// "layer_norm_backward" and "rms_norm_backward": inputs [dy, x, weight?],
// outputs [dx, dweight, dbias (layer_norm only)], the normalisation over the
// last axis. Row statistics are recomputed from x.
//
// Per row, with xhat the normalised x and g = dy * weight:
//   layer_norm: dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
//   rms_norm:   dx = rstd * (g - xhat * mean(g * xhat))
// dweight and dbias are column sums over rows of dy * xhat and dy: each row
// slot (a warp or a block) accumulates its rows into one fp32 row of a
// scratch buffer, and a second kernel adds those rows up per column.
// The add_ ops' backward runs the same kernels with x the sum and their
// optional fourth input, the gradient reaching the sum directly (gs), added
// to dx.
#include <algorithm>

#include "backends/cuda/scratch.h"
#include "kernel_util.h"
#include "kernels.h"
#include "launch_check.h"
#include "rows.h"
#include "vec.h"

namespace xrt::cuda {
namespace {

// Each thread keeps dy, x, weight and two column accumulators for its
// elements, so it holds at most 16 elements to stay clear of spills.
constexpr int kMaxElemsPerThread = 16;
constexpr int kTargetThreads = 256;
constexpr int kMaxThreads = 512;
constexpr int kGenericThreads = 256;
// Upper bound on the partial-sum scratch; fewer row slots beyond it.
constexpr int64_t kMaxScratchBytes = int64_t{64} << 20;

template <class T>
using BackwardKernel = void (*)(const T*, const T*, const T*, const T*, T*, float*, float*,
                                int64_t, int64_t, float);

template <class T, int P, bool kRms>
__global__ void __launch_bounds__(kMaxThreads)
    norm_backward_regs(const T* __restrict__ dy, const T* __restrict__ x,
                       const T* __restrict__ w, const T* __restrict__ gs, T* __restrict__ dx, float* __restrict__ part_w,
                       float* __restrict__ part_b, int64_t rows, int64_t n64, float eps) {
  constexpr int V = kVec<T>;
  __shared__ RowBuf<float> bufs[2];
  __shared__ RowBuf<float2> pair_buf;
  const int n = static_cast<int>(n64);
  const int np = n / V;
  const int tid = threadIdx.x;
  const int stride = static_cast<int>(blockDim.x);
  const float inv_n = 1.0f / static_cast<float>(n);

  Pack<T> wv[P];
#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int p = tid + i * stride;
    if (w && p < np) wv[i] = load_vec<T, V>(w + p * V);
  }
  float acc_w[P][V], acc_b[P][V];
#pragma unroll
  for (int i = 0; i < P; ++i) {
#pragma unroll
    for (int j = 0; j < V; ++j) acc_w[i][j] = acc_b[i][j] = 0.0f;
  }

  const int64_t slot = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.y;
  for (int64_t row = slot; row < rows; row += step) {
    Pack<T> xv[P], dyv[P];
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int p = tid + i * stride;
      if (p < np) {
        xv[i] = load_vec<T, V>(x + row * n + p * V);
        dyv[i] = load_vec<T, V>(dy + row * n + p * V);
      }
    }
    float mean = 0.0f;
    if (!kRms) {
      float s = 0.0f;
#pragma unroll
      for (int i = 0; i < P; ++i) {
        if (tid + i * stride >= np) continue;
#pragma unroll
        for (int j = 0; j < V; ++j) s += to_acc(xv[i].v[j]);
      }
      mean = row_sum(s, bufs[0]) * inv_n;
    }
    float ss = 0.0f;
#pragma unroll
    for (int i = 0; i < P; ++i) {
      if (tid + i * stride >= np) continue;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float d = to_acc(xv[i].v[j]) - mean;
        ss += d * d;
      }
    }
    const float rstd = rsqrtf(row_sum(ss, bufs[kRms ? 0 : 1]) * inv_n + eps);

    float2 sums = make_float2(0.0f, 0.0f);  // sum g, sum g * xhat
#pragma unroll
    for (int i = 0; i < P; ++i) {
      if (tid + i * stride >= np) continue;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float xhat = (to_acc(xv[i].v[j]) - mean) * rstd;
        const float g = w ? to_acc(dyv[i].v[j]) * to_acc(wv[i].v[j]) : to_acc(dyv[i].v[j]);
        sums.x += g;
        sums.y += g * xhat;
      }
    }
    float mean_g = 0.0f, mean_gx;
    if (kRms) {
      mean_gx = row_sum(sums.y, bufs[1]) * inv_n;
    } else {
      sums = row_sum(sums, pair_buf);
      mean_g = sums.x * inv_n;
      mean_gx = sums.y * inv_n;
    }

#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int p = tid + i * stride;
      if (p >= np) continue;
      Pack<T> out, gsv;
      if (gs) gsv = load_vec<T, V>(gs + row * n + p * V);
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float xhat = (to_acc(xv[i].v[j]) - mean) * rstd;
        const float d = to_acc(dyv[i].v[j]);
        const float g = w ? d * to_acc(wv[i].v[j]) : d;
        const float extra = gs ? to_acc(gsv.v[j]) : 0.0f;
        out.v[j] = from_acc<T>(rstd * (g - mean_g - xhat * mean_gx) + extra);
        acc_w[i][j] += d * xhat;
        acc_b[i][j] += d;
      }
      store_vec<T, V>(dx + row * n + p * V, out);
    }
  }

#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int p = tid + i * stride;
    if (p >= np) continue;
    Vec<float, V> vw, vb;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      vw.v[j] = acc_w[i][j];
      vb.v[j] = acc_b[i][j];
    }
    if (part_w) store_vec<float, V>(part_w + slot * n + p * V, vw);
    if (part_b) store_vec<float, V>(part_b + slot * n + p * V, vb);
  }
}

// Any row length and alignment: passes over the row in global memory, and
// the column sums accumulate in the slot's scratch row (each thread owns its
// columns, so no other thread touches them).
template <class T, bool kRms>
__global__ void __launch_bounds__(kGenericThreads)
    norm_backward_generic(const T* __restrict__ dy, const T* __restrict__ x,
                          const T* __restrict__ w, const T* __restrict__ gs, T* __restrict__ dx,
                          float* __restrict__ part_w,
                          float* __restrict__ part_b, int64_t rows, int64_t n, float eps) {
  __shared__ RowBuf<float> bufs[2];
  __shared__ RowBuf<float2> pair_buf;
  const float inv_n = 1.0f / static_cast<float>(n);
  const int64_t slot = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.y;
  float* pw = part_w ? part_w + slot * n : nullptr;
  float* pb = part_b ? part_b + slot * n : nullptr;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    if (pw) pw[j] = 0.0f;
    if (pb) pb[j] = 0.0f;
  }
  for (int64_t row = slot; row < rows; row += step) {
    const T* xr = x + row * n;
    const T* dyr = dy + row * n;
    float mean = 0.0f;
    if (!kRms) {
      float s = 0.0f;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += to_acc(xr[j]);
      mean = row_sum(s, bufs[0]) * inv_n;
    }
    float ss = 0.0f;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const float d = to_acc(xr[j]) - mean;
      ss += d * d;
    }
    const float rstd = rsqrtf(row_sum(ss, bufs[kRms ? 0 : 1]) * inv_n + eps);
    float2 sums = make_float2(0.0f, 0.0f);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const float xhat = (to_acc(xr[j]) - mean) * rstd;
      const float g = w ? to_acc(dyr[j]) * to_acc(w[j]) : to_acc(dyr[j]);
      sums.x += g;
      sums.y += g * xhat;
    }
    float mean_g = 0.0f, mean_gx;
    if (kRms) {
      mean_gx = row_sum(sums.y, bufs[1]) * inv_n;
    } else {
      sums = row_sum(sums, pair_buf);
      mean_g = sums.x * inv_n;
      mean_gx = sums.y * inv_n;
    }
    T* dxr = dx + row * n;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const float xhat = (to_acc(xr[j]) - mean) * rstd;
      const float d = to_acc(dyr[j]);
      const float g = w ? d * to_acc(w[j]) : d;
      const float extra = gs ? to_acc(gs[row * n + j]) : 0.0f;
      dxr[j] = from_acc<T>(rstd * (g - mean_g - xhat * mean_gx) + extra);
      if (pw) pw[j] += d * xhat;
      if (pb) pb[j] += d;
    }
  }
}

constexpr int kColTile = 32;
constexpr int kColRows = 16;

// out[c] = sum over the slots rows of part[., c]; a block takes 32 columns
// and splits the rows over 16 threads per column. Both column sums (dweight
// and dbias) run in one launch: blockIdx.y picks the partials that follow
// one another in part and their output, out0 or out1.
template <class T>
__global__ void __launch_bounds__(kColTile* kColRows)
    column_sums(const float* __restrict__ part, int64_t slots, int64_t n, T* __restrict__ out0,
                T* __restrict__ out1) {
  T* __restrict__ out = blockIdx.y == 0 ? out0 : out1;
  part += static_cast<int64_t>(blockIdx.y) * slots * n;
  __shared__ float tile[kColRows][kColTile + 1];
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kColTile + threadIdx.x;
  float s = 0.0f;
  if (col < n) {
    for (int64_t r = threadIdx.y; r < slots; r += kColRows) s += part[r * n + col];
  }
  tile[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < n) {
    float t = 0.0f;
#pragma unroll
    for (int i = 0; i < kColRows; ++i) t += tile[i][threadIdx.x];
    out[col] = from_acc<T>(t);
  }
}

template <class T, bool kRms>
BackwardKernel<T> regs_kernel(int packs) {
  constexpr int kMaxPacks = kMaxElemsPerThread / kVec<T>;
  if constexpr (kMaxPacks >= 4) {
    if (packs == 4) return norm_backward_regs<T, 4, kRms>;
  }
  return packs == 1 ? norm_backward_regs<T, 1, kRms> : norm_backward_regs<T, 2, kRms>;
}

template <class T, bool kRms>
xrt_status_t norm_backward(const xrt_kernel_context_t* ctx) {
  if (ctx->num_inputs < 2 || ctx->num_outputs < 1) {
    return fail(ctx, XRT_ERROR_INVALID_ARGUMENT, "cuda %s: expects inputs [dy, x, weight?]",
                op_name(ctx));
  }
  const xrt_kernel_tensor_t& tx = ctx->inputs[1];
  if (tx.ndim < 1) {
    return fail(ctx, XRT_ERROR_INVALID_ARGUMENT, "cuda %s: x needs at least one dimension",
                op_name(ctx));
  }
  const int64_t n = tx.shape[tx.ndim - 1];
  const int64_t total = numel(tx);
  const T* dy = static_cast<const T*>(ctx->inputs[0].data);
  const T* x = static_cast<const T*>(tx.data);
  const T* w = static_cast<const T*>(optional_input(ctx, 2));
  const T* gs = static_cast<const T*>(optional_input(ctx, 3));
  T* dx = static_cast<T*>(ctx->outputs[0].data);
  T* dw = static_cast<T*>(optional_output(ctx, 1));
  T* db = kRms ? nullptr : static_cast<T*>(optional_output(ctx, 2));
  const cudaStream_t stream = stream_of(ctx);
  if (n == 0) return XRT_OK;
  if (total == 0) {
    // No rows: the column sums are empty sums.
    if (dw) cudaMemsetAsync(dw, 0, static_cast<size_t>(n) * sizeof(T), stream);
    if (db) cudaMemsetAsync(db, 0, static_cast<size_t>(n) * sizeof(T), stream);
    return check_launch(ctx);
  }
  const int64_t rows = total / n;
  const float eps = static_cast<float>(attr_float(ctx, "eps", kRms ? 1e-6 : 1e-5));

  constexpr int V = kVec<T>;
  RowLaunch L{};
  BackwardKernel<T> kernel;
  dim3 block;
  if (n % V == 0 && aligned16(dy) && aligned16(x) && aligned16(dx) && (!w || aligned16(w)) &&
      (!gs || aligned16(gs)) &&
      pick_row_launch(n / V, kMaxElemsPerThread / V, kTargetThreads, kMaxThreads, &L)) {
    kernel = regs_kernel<T, kRms>(L.packs);
    block = L.block;
  } else {
    kernel = norm_backward_generic<T, kRms>;
    block = generic_row_block(n);
  }

  // Enough blocks to fill the GPU once; each loops over its share of rows.
  const int per_sm = blocks_per_sm(kernel, static_cast<int>(block.x * block.y));
  if (per_sm < 0) return check_launch(ctx);
  const int64_t num_partials = (dw ? 1 : 0) + (db ? 1 : 0);
  int64_t grid = std::min<int64_t>(row_grid(rows, block),
                                   static_cast<int64_t>(sm_count()) * std::max(per_sm, 1));
  if (num_partials > 0) {
    const int64_t max_slots = kMaxScratchBytes / (num_partials * n * int64_t{sizeof(float)});
    grid = std::max<int64_t>(1, std::min<int64_t>(grid, max_slots / block.y));
  }
  const int64_t slots = grid * block.y;

  float* scratch = nullptr;
  if (num_partials > 0) {
    const size_t bytes = static_cast<size_t>(num_partials * slots * n) * sizeof(float);
    scratch = static_cast<float*>(scratch_alloc(bytes, stream));
    if (!scratch) {
      return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cuda %s: no memory for %zu bytes of scratch",
                  op_name(ctx), bytes);
    }
  }
  // dweight's partials first, then dbias's (column_sums reads them so).
  float* part_w = dw ? scratch : nullptr;
  float* part_b = db ? scratch + (dw ? slots * n : 0) : nullptr;
  kernel<<<static_cast<unsigned>(grid), block, 0, stream>>>(dy, x, w, gs, dx, part_w, part_b,
                                                             rows, n, eps);
  xrt_status_t status = check_launch(ctx);
  if (status == XRT_OK && num_partials > 0) {
    const dim3 col_block(kColTile, kColRows);
    const dim3 col_grid(static_cast<unsigned>((n + kColTile - 1) / kColTile),
                        static_cast<unsigned>(num_partials));
    column_sums<T><<<col_grid, col_block, 0, stream>>>(scratch, slots, n, dw ? dw : db, db);
    status = check_launch(ctx);
  }
  if (scratch) scratch_free(scratch, stream);
  return status;
}

}  // namespace

xrt_status_t run_layer_norm_backward(const xrt_kernel_context_t* ctx) {
  return dispatch_float<false>(ctx, ctx->outputs[0].dtype, [&](auto tag) {
    return norm_backward<typename decltype(tag)::type, false>(ctx);
  });
}

xrt_status_t run_rms_norm_backward(const xrt_kernel_context_t* ctx) {
  return dispatch_float<false>(ctx, ctx->outputs[0].dtype, [&](auto tag) {
    return norm_backward<typename decltype(tag)::type, true>(ctx);
  });
}

}  // namespace xrt::cuda
