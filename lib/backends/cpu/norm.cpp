// "layer_norm" and "rms_norm" over the last axis. Row statistics are
// accumulated in double (two passes for the variance) whatever the dtype.
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"

namespace xrt::cpu {
namespace {

constexpr int64_t kGrainElems = 1 << 14;
constexpr double kDefaultEps = 1e-5;

// Sum of f(x[j]) over a row; four independent partial sums keep the adds
// from serialising on one register.
template <class T, class F>
double row_sum(const T* x, int64_t n, F f) {
  double s[4] = {0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    for (int u = 0; u < 4; ++u) s[u] += f(static_cast<double>(load(x + j + u)));
  }
  for (; j < n; ++j) s[0] += f(static_cast<double>(load(x + j)));
  return (s[0] + s[1]) + (s[2] + s[3]);
}

struct RowShape {
  int64_t rows, n;
};

RowShape row_shape(const xrt_kernel_tensor_t& t) {
  const int64_t n = t.ndim > 0 ? t.shape[t.ndim - 1] : 1;
  return {n > 0 ? numel(t) / n : 0, n};
}

template <class F>
void for_rows(RowShape s, F fn) {
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(s.n, 1));
  parallel_for(0, s.rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) fn(r);
  });
}

template <class T>
void layer_norm(const xrt_kernel_context_t* ctx) {
  using C = compute_t<T>;
  const RowShape s = row_shape(ctx->inputs[0]);
  if (s.rows == 0) return;
  const T* x = static_cast<const T*>(ctx->inputs[0].data);
  const T* w = ctx->num_inputs > 1 ? static_cast<const T*>(ctx->inputs[1].data) : nullptr;
  const T* b = ctx->num_inputs > 2 ? static_cast<const T*>(ctx->inputs[2].data) : nullptr;
  T* out = static_cast<T*>(ctx->outputs[0].data);
  const double eps = attr_float(ctx, "eps", kDefaultEps);
  const int64_t n = s.n;
  for_rows(s, [&](int64_t r) {
    const T* xr = x + r * n;
    T* orow = out + r * n;
    const double inv_n = 1.0 / static_cast<double>(n);
    const double mean0 = row_sum(xr, n, [](double v) { return v; }) * inv_n;
    // Corrected two-pass: the residual sum repairs the rounding error of
    // the first mean, which matters when |mean| is large next to the spread.
    const double resid = row_sum(xr, n, [mean0](double v) { return v - mean0; });
    const double sq = row_sum(xr, n, [mean0](double v) { return (v - mean0) * (v - mean0); });
    const double mean = mean0 + resid * inv_n;
    const double var = std::max(0.0, (sq - resid * resid * inv_n) * inv_n);
    const double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < n; ++j) {
      // Centred in double, for the same reason.
      C v = static_cast<C>((static_cast<double>(load(xr + j)) - mean) * rstd);
      if (w) v *= load(w + j);
      if (b) v += load(b + j);
      store(orow + j, v);
    }
  });
}

template <class T>
void rms_norm(const xrt_kernel_context_t* ctx) {
  using C = compute_t<T>;
  const RowShape s = row_shape(ctx->inputs[0]);
  if (s.rows == 0) return;
  const T* x = static_cast<const T*>(ctx->inputs[0].data);
  const T* w = ctx->num_inputs > 1 ? static_cast<const T*>(ctx->inputs[1].data) : nullptr;
  T* out = static_cast<T*>(ctx->outputs[0].data);
  const double eps = attr_float(ctx, "eps", kDefaultEps);
  const int64_t n = s.n;
  for_rows(s, [&](int64_t r) {
    const T* xr = x + r * n;
    T* orow = out + r * n;
    const double ms = row_sum(xr, n, [](double v) { return v * v; }) / static_cast<double>(n);
    const C rstd = static_cast<C>(1.0 / std::sqrt(ms + eps));
    for (int64_t j = 0; j < n; ++j) {
      C v = load(xr + j) * rstd;
      if (w) v *= load(w + j);
      store(orow + j, v);
    }
  });
}

}  // namespace

xrt_status_t run_layer_norm(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      layer_norm<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

xrt_status_t run_rms_norm(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      rms_norm<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
