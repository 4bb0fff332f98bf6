// "softmax" along attr "axis". The tensor is seen as (outer, n, inner):
// inner == 1 runs row by row; otherwise a block of neighbouring columns is
// processed together so the loops over them stay unit-stride.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace xrt::cpu {
namespace {

// Work (elements) per task before fanning out pays.
constexpr int64_t kGrainElems = 1 << 14;

template <class T>
void softmax_rows(const T* x, T* out, int64_t rows, int64_t n) {
  using C = compute_t<T>;
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(n, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    // Exponentials go straight to the output when it holds the compute type;
    // half types are converted to float first, so the result rounds once.
    std::vector<C> tmp(std::is_same_v<T, C> ? 0 : static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      T* orow = out + r * n;
      const C* xr;
      C* e;
      if constexpr (std::is_same_v<T, C>) {
        xr = x + r * n;
        e = orow;
      } else {
        for (int64_t j = 0; j < n; ++j) tmp[size_t(j)] = load(x + r * n + j);
        xr = e = tmp.data();
      }
      const C sum = exp_shifted_row(xr, e, n, row_max(xr, n));
      const C inv = C(1) / sum;
      for (int64_t j = 0; j < n; ++j) store(orow + j, e[j] * inv);
    }
  });
}

template <class T>
void softmax_columns(const T* x, T* out, int64_t outer, int64_t n, int64_t inner) {
  using C = compute_t<T>;
  // Columns per block: as many as keep the block's scratch within about 1 MB,
  // so its loops run whole vectors wide.
  constexpr int64_t kScratchElems = 1 << 18;
  const int64_t width =
      std::min(inner, std::clamp<int64_t>(kScratchElems / std::max<int64_t>(n, 1), 1, 256));
  const int64_t blocks_per_outer = (inner + width - 1) / width;
  const int64_t grain = std::max<int64_t>(1, kGrainElems / (n * width + 1));
  parallel_for(0, outer * blocks_per_outer, grain, [&](int64_t t0, int64_t t1) {
    std::vector<C> e(static_cast<size_t>(n * width));
    std::vector<C> mx(static_cast<size_t>(width)), sum(static_cast<size_t>(width));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / blocks_per_outer;
      const int64_t c0 = (t % blocks_per_outer) * width;
      const int64_t w = std::min(width, inner - c0);
      const T* xb = x + o * n * inner + c0;
      T* ob = out + o * n * inner + c0;
      std::fill(mx.begin(), mx.begin() + w, -std::numeric_limits<C>::infinity());
      std::fill(sum.begin(), sum.begin() + w, C(0));
      for (int64_t j = 0; j < n; ++j) {
        const T* xj = xb + j * inner;
        C* ej = e.data() + j * w;
        for (int64_t c = 0; c < w; ++c) {
          ej[c] = load(xj + c);
          mx[c] = std::max(mx[c], ej[c]);
        }
      }
      exp_shifted_columns(e.data(), n, w, mx.data(), sum.data());
      for (int64_t c = 0; c < w; ++c) sum[c] = C(1) / sum[c];
      for (int64_t j = 0; j < n; ++j) {
        const C* ej = e.data() + j * w;
        T* oj = ob + j * inner;
        for (int64_t c = 0; c < w; ++c) store(oj + c, ej[c] * sum[c]);
      }
    }
  });
}

template <class T>
xrt_status_t softmax(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& tx = ctx->inputs[0];
  if (numel(tx) == 0) return XRT_OK;
  const int64_t axis = attr_int(ctx, "axis", tx.ndim - 1);
  if (axis < 0 || axis >= tx.ndim) {
    return fail(ctx, XRT_ERROR_INVALID_ARGUMENT, "cpu softmax: axis %lld out of range",
                static_cast<long long>(axis));
  }
  int64_t outer = 1, inner = 1;
  for (int32_t d = 0; d < axis; ++d) outer *= tx.shape[d];
  for (int32_t d = static_cast<int32_t>(axis) + 1; d < tx.ndim; ++d) inner *= tx.shape[d];
  const int64_t n = tx.shape[axis];
  const T* x = static_cast<const T*>(tx.data);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  if (inner == 1) {
    softmax_rows(x, out, outer, n);
  } else {
    softmax_columns(x, out, outer, n, inner);
  }
  return XRT_OK;
}

}  // namespace

xrt_status_t run_softmax(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype,
                          [&](auto tag) { return softmax<typename decltype(tag)::type>(ctx); });
  });
}

}  // namespace xrt::cpu
