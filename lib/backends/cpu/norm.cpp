// "layer_norm" and "rms_norm" over the last axis, and "add_layer_norm" /
// "add_rms_norm", which first write s = x + residual (rounded to the dtype,
// as two separate ops would) and normalise s. Row statistics are
// accumulated in double (two passes for the variance) whatever the dtype.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace xrt::cpu {
namespace {

constexpr int64_t kGrainElems = 1 << 14;
constexpr double kDefaultEps = 1e-5;

// Sum of f(x[j]) over a row; four independent partial sums keep the adds
// from serialising on one register.
template <class T, class F>
double mapped_row_sum(const T* x, int64_t n, F f) {
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

// The operands of a norm call; `fused`: the add_ ops' (x, residual, ...).
template <class T>
struct NormOperands {
  const T* x;
  const T* residual;  // NULL unless fused
  const T* w;
  const T* b;
  T* out;
  T* sum;  // NULL unless fused

  NormOperands(const xrt_kernel_context_t* ctx, bool fused) {
    const size_t first = fused ? 2 : 1;
    x = static_cast<const T*>(ctx->inputs[0].data);
    residual = fused ? static_cast<const T*>(ctx->inputs[1].data) : nullptr;
    w = ctx->num_inputs > first ? static_cast<const T*>(ctx->inputs[first].data) : nullptr;
    b = ctx->num_inputs > first + 1 ? static_cast<const T*>(ctx->inputs[first + 1].data) : nullptr;
    out = static_cast<T*>(ctx->outputs[0].data);
    sum = fused ? static_cast<T*>(ctx->outputs[1].data) : nullptr;
  }

  // Row r of the values to normalise: x's, or the sum written first.
  const T* row(int64_t r, int64_t n) const {
    if (!residual) return x + r * n;
    for (int64_t j = 0; j < n; ++j) store(sum + r * n + j, load(x + r * n + j) + load(residual + r * n + j));
    return sum + r * n;
  }
};

// Rows of T in the compute type: in place when T is it, else converted
// into a buffer of the caller's.
template <class T>
class ComputeRows {
  using C = compute_t<T>;

 public:
  explicit ComputeRows(int64_t n) : buf_(std::is_same_v<T, C> ? 0 : static_cast<size_t>(n)) {}

  const C* operator()(const T* p, int64_t n) {
    if constexpr (std::is_same_v<T, C>) {
      return p;
    } else {
      if (!p) return nullptr;
      for (int64_t j = 0; j < n; ++j) buf_[size_t(j)] = load(p + j);
      return buf_.data();
    }
  }

 private:
  std::vector<C> buf_;
};

template <class T>
void layer_norm(const xrt_kernel_context_t* ctx, bool fused) {
  using C = compute_t<T>;
  const RowShape s = row_shape(ctx->inputs[0]);
  if (s.rows == 0) return;
  const NormOperands<T> op(ctx, fused);
  const double eps = attr_float(ctx, "eps", kDefaultEps);
  const int64_t n = s.n;
  ComputeRows<T> w_rows(n), b_rows(n);
  const C* w = w_rows(op.w, n);
  const C* b = b_rows(op.b, n);
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(n, 1));
  parallel_for(0, s.rows, grain, [&](int64_t r0, int64_t r1) {
    ComputeRows<T> rows(n);
    std::vector<C> out(std::is_same_v<T, C> ? 0 : static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      const C* x = rows(op.row(r, n), n);
      const double inv_n = 1.0 / static_cast<double>(n);
      const double mean0 = row_sum(x, n) * inv_n;
      // Corrected two-pass: the residual sum repairs the rounding error of
      // the first mean, which matters when |mean| is large next to the
      // spread (normalize_row centres in double for the same reason).
      double resid = 0, sq = 0;
      centred_sums(x, n, mean0, &resid, &sq);
      const double mean = mean0 + resid * inv_n;
      const double var = std::max(0.0, (sq - resid * resid * inv_n) * inv_n);
      const double rstd = 1.0 / std::sqrt(var + eps);
      if constexpr (std::is_same_v<T, C>) {
        normalize_row(x, n, mean, rstd, w, b, op.out + r * n);
      } else {
        normalize_row(x, n, mean, rstd, w, b, out.data());
        for (int64_t j = 0; j < n; ++j) store(op.out + r * n + j, out[size_t(j)]);
      }
    }
  });
}

template <class T>
void rms_norm(const xrt_kernel_context_t* ctx, bool fused) {
  using C = compute_t<T>;
  const RowShape s = row_shape(ctx->inputs[0]);
  if (s.rows == 0) return;
  const NormOperands<T> op(ctx, fused);
  const T* w = op.w;
  const double eps = attr_float(ctx, "eps", kDefaultEps);
  const int64_t n = s.n;
  for_rows(s, [&](int64_t r) {
    const T* xr = op.row(r, n);
    T* orow = op.out + r * n;
    const double ms =
        mapped_row_sum(xr, n, [](double v) { return v * v; }) / static_cast<double>(n);
    const C rstd = static_cast<C>(1.0 / std::sqrt(ms + eps));
    for (int64_t j = 0; j < n; ++j) {
      C v = load(xr + j) * rstd;
      if (w) v *= load(w + j);
      store(orow + j, v);
    }
  });
}

xrt_status_t run_norm(const xrt_kernel_context_t* ctx, bool fused, bool centred) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (centred) {
        layer_norm<T>(ctx, fused);
      } else {
        rms_norm<T>(ctx, fused);
      }
      return XRT_OK;
    });
  });
}

}  // namespace

xrt_status_t run_layer_norm(const xrt_kernel_context_t* ctx) noexcept {
  return run_norm(ctx, false, true);
}

xrt_status_t run_rms_norm(const xrt_kernel_context_t* ctx) noexcept {
  return run_norm(ctx, false, false);
}

xrt_status_t run_add_layer_norm(const xrt_kernel_context_t* ctx) noexcept {
  return run_norm(ctx, true, true);
}

xrt_status_t run_add_rms_norm(const xrt_kernel_context_t* ctx) noexcept {
  return run_norm(ctx, true, false);
}

}  // namespace xrt::cpu
