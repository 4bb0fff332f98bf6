// "bias_gelu": gelu(x + bias) with bias along the last axis, the erf form;
// "bias_gelu_backward": dx = grad * gelu'(x + bias) and dbias, the column
// sums of dx. The sum x + bias is rounded to the dtype first, as two
// separate ops would round it; gelu and its derivative run row by row on
// vector_math's (in float, double for float64), and dbias sums dx before
// it is rounded, in double.
#include <algorithm>
#include <vector>

#include "kernel_util.h"
#include "kernels.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace xrt::cpu {
namespace {

constexpr int64_t kGrainElems = 1 << 13;

struct Rows {
  int64_t rows, n;
};

Rows rows_of(const xrt_kernel_tensor_t& x) {
  const int64_t n = x.shape[x.ndim - 1];
  return {n > 0 ? numel(x) / n : 0, n};
}

// Row r of x + bias, rounded to T, into v in the compute type.
template <class T>
void biased_row(const T* x, const T* bias, int64_t r, int64_t n, compute_t<T>* v) {
  for (int64_t j = 0; j < n; ++j) {
    T sum;
    store(&sum, load(x + r * n + j) + load(bias + j));
    v[j] = load(&sum);
  }
}

template <class T>
void bias_gelu(const xrt_kernel_context_t* ctx) {
  using C = compute_t<T>;
  const Rows s = rows_of(ctx->inputs[0]);
  const T* x = static_cast<const T*>(ctx->inputs[0].data);
  const T* bias = static_cast<const T*>(ctx->inputs[1].data);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(s.n, 1));
  parallel_for(0, s.rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<C> v(static_cast<size_t>(s.n));
    for (int64_t r = r0; r < r1; ++r) {
      biased_row(x, bias, r, s.n, v.data());
      gelu(v.data(), v.data(), s.n);
      for (int64_t j = 0; j < s.n; ++j) store(out + r * s.n + j, v[size_t(j)]);
    }
  });
}

template <class T>
void bias_gelu_backward(const xrt_kernel_context_t* ctx) {
  using C = compute_t<T>;
  const Rows s = rows_of(ctx->inputs[1]);
  const T* grad = static_cast<const T*>(ctx->inputs[0].data);
  const T* x = static_cast<const T*>(ctx->inputs[1].data);
  const T* bias = static_cast<const T*>(ctx->inputs[2].data);
  T* dx = static_cast<T*>(ctx->outputs[0].data);
  T* dbias = static_cast<T*>(ctx->outputs[1].data);
  // dx row by row; dbias sums dx before rounding, column block by column
  // block, so no two threads share an output.
  std::vector<C> exact(static_cast<size_t>(s.rows * s.n));
  const int64_t row_grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(s.n, 1));
  parallel_for(0, s.rows, row_grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      C* d = exact.data() + r * s.n;
      biased_row(x, bias, r, s.n, d);
      gelu_derivative(d, d, s.n);
      for (int64_t j = 0; j < s.n; ++j) {
        d[j] *= load(grad + r * s.n + j);
        store(dx + r * s.n + j, d[j]);
      }
    }
  });
  const int64_t col_grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(s.rows, 1));
  parallel_for(0, s.n, col_grain, [&](int64_t c0, int64_t c1) {
    std::vector<double> sums(static_cast<size_t>(c1 - c0), 0.0);
    for (int64_t r = 0; r < s.rows; ++r) {
      for (int64_t j = c0; j < c1; ++j) sums[static_cast<size_t>(j - c0)] += exact[static_cast<size_t>(r * s.n + j)];
    }
    for (int64_t j = c0; j < c1; ++j) store(dbias + j, static_cast<C>(sums[static_cast<size_t>(j - c0)]));
  });
}

}  // namespace

xrt_status_t run_bias_gelu(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      bias_gelu<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

xrt_status_t run_bias_gelu_backward(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      bias_gelu_backward<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
