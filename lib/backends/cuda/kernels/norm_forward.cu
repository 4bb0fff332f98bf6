// "layer_norm" and "rms_norm" over the last axis, with optional weight (and
// bias for layer_norm). Statistics in fp32; the variance is the mean squared
// deviation from the mean, taken from values already in registers.
// "add_layer_norm" and "add_rms_norm" (kAdd) first form s = x + residual,
// rounded to the dtype as two separate ops would, write it out as the
// second output and normalise it.
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

// One read of x and one write of y: the thread's P packs of the row are all
// loaded before the first reduction and reused for the output.
template <class T, int P, bool kRms, bool kAdd>
__global__ void __launch_bounds__(kMaxThreads)
    norm_forward_regs(const T* __restrict__ x, const T* __restrict__ res, const T* __restrict__ w,
                      const T* __restrict__ b, T* __restrict__ y, T* __restrict__ sum,
                      int64_t rows, int n, float eps) {
  constexpr int V = kVec<T>;
  __shared__ RowBuf<float> bufs[2];
  const int np = n / V;
  const int tid = threadIdx.x;
  const float inv_n = 1.0f / static_cast<float>(n);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.y;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; row < rows;
       row += step) {
    const T* xr = x + row * n;
    Pack<T> xv[P];
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int p = tid + i * static_cast<int>(blockDim.x);
      if (p < np) xv[i] = load_vec<T, V>(xr + p * V);
      if (kAdd && p < np) {
        const Pack<T> rv = load_vec<T, V>(res + row * n + p * V);
#pragma unroll
        for (int j = 0; j < V; ++j) xv[i].v[j] = from_acc<T>(to_acc(xv[i].v[j]) + to_acc(rv.v[j]));
        store_vec<T, V>(sum + row * n + p * V, xv[i]);
      }
    }
    float mean = 0.0f;
    if (!kRms) {
      float s = 0.0f;
#pragma unroll
      for (int i = 0; i < P; ++i) {
        if (tid + i * static_cast<int>(blockDim.x) >= np) continue;
#pragma unroll
        for (int j = 0; j < V; ++j) s += to_acc(xv[i].v[j]);
      }
      mean = row_sum(s, bufs[0]) * inv_n;
    }
    float ss = 0.0f;
#pragma unroll
    for (int i = 0; i < P; ++i) {
      if (tid + i * static_cast<int>(blockDim.x) >= np) continue;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float d = to_acc(xv[i].v[j]) - mean;
        ss += d * d;
      }
    }
    const float rstd = rsqrtf(row_sum(ss, bufs[1]) * inv_n + eps);
    T* yr = y + row * n;
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int p = tid + i * static_cast<int>(blockDim.x);
      if (p >= np) continue;
      Pack<T> wv, bv, out;
      if (w) wv = load_vec<T, V>(w + p * V);
      if (b) bv = load_vec<T, V>(b + p * V);
#pragma unroll
      for (int j = 0; j < V; ++j) {
        float v = (to_acc(xv[i].v[j]) - mean) * rstd;
        if (w) v *= to_acc(wv.v[j]);
        if (b) v += to_acc(bv.v[j]);
        out.v[j] = from_acc<T>(v);
      }
      store_vec<T, V>(yr + p * V, out);
    }
  }
}

// Any row length and alignment: streams the row from global memory three
// times (mean, variance, output).
template <class T, bool kRms, bool kAdd>
__global__ void __launch_bounds__(kGenericThreads)
    norm_forward_generic(const T* __restrict__ x, const T* __restrict__ res,
                         const T* __restrict__ w, const T* __restrict__ b, T* __restrict__ y,
                         T* sum, int64_t rows, int64_t n, float eps) {
  __shared__ RowBuf<float> bufs[2];
  const float inv_n = 1.0f / static_cast<float>(n);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.y;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; row < rows;
       row += step) {
    const T* xr = x + row * n;
    if (kAdd) {
      // Each thread reads back only the sums it wrote itself.
      T* sr = sum + row * n;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        sr[j] = from_acc<T>(to_acc(xr[j]) + to_acc(res[row * n + j]));
      }
      xr = sr;
    }
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
    const float rstd = rsqrtf(row_sum(ss, bufs[1]) * inv_n + eps);
    T* yr = y + row * n;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      float v = (to_acc(xr[j]) - mean) * rstd;
      if (w) v *= to_acc(w[j]);
      if (b) v += to_acc(b[j]);
      yr[j] = from_acc<T>(v);
    }
  }
}

template <class T, bool kRms, bool kAdd>
xrt_status_t norm_forward(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& tx = ctx->inputs[0];
  if (tx.ndim < 1) {
    return fail(ctx, XRT_ERROR_INVALID_ARGUMENT, "cuda %s: x needs at least one dimension",
                op_name(ctx));
  }
  const int64_t total = numel(tx);
  if (total == 0) return XRT_OK;
  const int64_t n = tx.shape[tx.ndim - 1];
  const int64_t rows = total / n;
  const T* x = static_cast<const T*>(tx.data);
  const T* res = kAdd ? static_cast<const T*>(ctx->inputs[1].data) : nullptr;
  const size_t first_param = kAdd ? 2 : 1;
  const T* w = static_cast<const T*>(optional_input(ctx, first_param));
  const T* b = kRms ? nullptr : static_cast<const T*>(optional_input(ctx, first_param + 1));
  T* y = static_cast<T*>(ctx->outputs[0].data);
  T* sum = kAdd ? static_cast<T*>(ctx->outputs[1].data) : nullptr;
  const float eps = static_cast<float>(attr_float(ctx, "eps", kRms ? 1e-6 : 1e-5));
  const cudaStream_t stream = stream_of(ctx);

  constexpr int V = kVec<T>;
  RowLaunch L{};
  const bool in_registers = n % V == 0 && aligned16(x) && aligned16(y) &&
                            (!w || aligned16(w)) && (!b || aligned16(b)) &&
                            (!kAdd || (aligned16(res) && aligned16(sum))) &&
                            pick_row_launch(n / V, kMaxPacks, kTargetThreads, kMaxThreads, &L);
  if (in_registers) {
    const unsigned grid = row_grid(rows, L.block);
    const int ni = static_cast<int>(n);
    switch (L.packs) {
      case 1:
        norm_forward_regs<T, 1, kRms, kAdd>
            <<<grid, L.block, 0, stream>>>(x, res, w, b, y, sum, rows, ni, eps);
        break;
      case 2:
        norm_forward_regs<T, 2, kRms, kAdd>
            <<<grid, L.block, 0, stream>>>(x, res, w, b, y, sum, rows, ni, eps);
        break;
      default:
        norm_forward_regs<T, 4, kRms, kAdd>
            <<<grid, L.block, 0, stream>>>(x, res, w, b, y, sum, rows, ni, eps);
        break;
    }
  } else {
    const dim3 block = generic_row_block(n);
    norm_forward_generic<T, kRms, kAdd>
        <<<row_grid(rows, block), block, 0, stream>>>(x, res, w, b, y, sum, rows, n, eps);
  }
  return check_launch(ctx);
}

}  // namespace

xrt_status_t run_layer_norm(const xrt_kernel_context_t* ctx) {
  return dispatch_float<false>(ctx, ctx->outputs[0].dtype, [&](auto tag) {
    return norm_forward<typename decltype(tag)::type, false, false>(ctx);
  });
}

xrt_status_t run_rms_norm(const xrt_kernel_context_t* ctx) {
  return dispatch_float<false>(ctx, ctx->outputs[0].dtype, [&](auto tag) {
    return norm_forward<typename decltype(tag)::type, true, false>(ctx);
  });
}

xrt_status_t run_add_layer_norm(const xrt_kernel_context_t* ctx) {
  return dispatch_float<false>(ctx, ctx->outputs[0].dtype, [&](auto tag) {
    return norm_forward<typename decltype(tag)::type, false, true>(ctx);
  });
}

xrt_status_t run_add_rms_norm(const xrt_kernel_context_t* ctx) {
  return dispatch_float<false>(ctx, ctx->outputs[0].dtype, [&](auto tag) {
    return norm_forward<typename decltype(tag)::type, true, true>(ctx);
  });
}

}  // namespace xrt::cuda
