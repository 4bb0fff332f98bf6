// "layer_norm_backward" and "rms_norm_backward": gradients of the norms over
// the last axis. Row statistics are recomputed from x in double; dx is
// computed row by row, then the parameter gradients column block by column
// block (each block sums over every row, so no thread shares an output).
// The add_ ops' backward ("add_layer_norm_backward", "add_rms_norm_backward")
// runs the same code with x the sum and an optional fourth input, the
// gradient reaching the sum directly, added to dx.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernel_util.h"
#include "kernels.h"
#include "thread_pool.h"

namespace xrt::cpu {
namespace {

constexpr int64_t kGrainElems = 1 << 14;

struct RowStats {
  double mean;  // 0 for rms_norm
  double rstd;
};

template <class T>
RowStats row_stats(const T* x, int64_t n, double eps, bool centred) {
  double mean = 0;
  if (centred) {
    for (int64_t j = 0; j < n; ++j) mean += static_cast<double>(load(x + j));
    mean /= static_cast<double>(n);
  }
  double sq = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double d = static_cast<double>(load(x + j)) - mean;
    sq += d * d;
  }
  return {mean, 1.0 / std::sqrt(sq / static_cast<double>(n) + eps)};
}

// centred: layer_norm (dx also removes the mean of g); otherwise rms_norm.
template <class T>
void norm_backward(const xrt_kernel_context_t* ctx, bool centred) {
  const xrt_kernel_tensor_t& xt = ctx->inputs[1];
  const int64_t n = xt.ndim > 0 ? xt.shape[xt.ndim - 1] : 1;
  const int64_t rows = n > 0 ? numel(xt) / n : 0;
  const T* dy = static_cast<const T*>(ctx->inputs[0].data);
  const T* x = static_cast<const T*>(xt.data);
  const T* w = static_cast<const T*>(ctx->inputs[2].data);  // NULL: ones
  const T* grad_sum = ctx->num_inputs > 3 ? static_cast<const T*>(ctx->inputs[3].data) : nullptr;
  T* dx = static_cast<T*>(ctx->outputs[0].data);
  T* dw = static_cast<T*>(ctx->outputs[1].data);
  T* db = centred ? static_cast<T*>(ctx->outputs[2].data) : nullptr;
  const double eps = attr_float(ctx, "eps", 1e-5);
  std::vector<RowStats> stats(static_cast<size_t>(rows));

  const int64_t row_grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(n, 1));
  parallel_for(0, rows, row_grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * n;
      const T* gr = dy + r * n;
      const RowStats s = row_stats(xr, n, eps, centred);
      stats[static_cast<size_t>(r)] = s;
      double sum_g = 0, sum_gx = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double g = static_cast<double>(load(gr + j)) * (w ? static_cast<double>(load(w + j)) : 1.0);
        sum_g += g;
        sum_gx += g * (static_cast<double>(load(xr + j)) - s.mean) * s.rstd;
      }
      const double mean_g = centred ? sum_g / static_cast<double>(n) : 0.0;
      const double mean_gx = sum_gx / static_cast<double>(n);
      for (int64_t j = 0; j < n; ++j) {
        const double g = static_cast<double>(load(gr + j)) * (w ? static_cast<double>(load(w + j)) : 1.0);
        const double xhat = (static_cast<double>(load(xr + j)) - s.mean) * s.rstd;
        const double extra = grad_sum ? static_cast<double>(load(grad_sum + r * n + j)) : 0.0;
        store(dx + r * n + j,
              static_cast<compute_t<T>>(s.rstd * (g - mean_g - xhat * mean_gx) + extra));
      }
    }
  });

  const int64_t col_grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(rows, 1));
  parallel_for(0, n, col_grain, [&](int64_t c0, int64_t c1) {
    std::vector<double> sum_w(static_cast<size_t>(c1 - c0), 0.0);
    std::vector<double> sum_b(static_cast<size_t>(c1 - c0), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const RowStats s = stats[static_cast<size_t>(r)];
      for (int64_t j = c0; j < c1; ++j) {
        const double g = static_cast<double>(load(dy + r * n + j));
        sum_w[static_cast<size_t>(j - c0)] += g * (static_cast<double>(load(x + r * n + j)) - s.mean) * s.rstd;
        sum_b[static_cast<size_t>(j - c0)] += g;
      }
    }
    for (int64_t j = c0; j < c1; ++j) {
      store(dw + j, static_cast<compute_t<T>>(sum_w[static_cast<size_t>(j - c0)]));
      if (db) store(db + j, static_cast<compute_t<T>>(sum_b[static_cast<size_t>(j - c0)]));
    }
  });
}

}  // namespace

xrt_status_t run_layer_norm_backward(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      norm_backward<typename decltype(tag)::type>(ctx, true);
      return XRT_OK;
    });
  });
}

xrt_status_t run_rms_norm_backward(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      norm_backward<typename decltype(tag)::type>(ctx, false);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
