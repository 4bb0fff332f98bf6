// "matmul": a (..., M, K) @ b (..., K, N) with numpy batch broadcasting.
// Inputs are contiguous but keep their own batch dims; the output's batch
// dims are the broadcast of both.
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "kernel_util.h"
#include "openblas.h"
#include "thread_pool.h"

namespace xrt::cpu {
namespace {

// Per output batch dim, how many matrices an operand advances by (0 where
// the operand is broadcast along that dim).
std::vector<int64_t> batch_strides(const xrt_kernel_tensor_t& t, int32_t out_batch_dims) {
  std::vector<int64_t> strides(static_cast<size_t>(out_batch_dims), 0);
  int64_t step = 1;
  for (int32_t d = t.ndim - 3; d >= 0; --d) {
    const int32_t od = d + out_batch_dims - (t.ndim - 2);
    if (t.shape[d] != 1) strides[static_cast<size_t>(od)] = step;
    step *= t.shape[d];
  }
  return strides;
}

template <class T>
void batched(const xrt_kernel_context_t* ctx, const T* a, const T* b, T* c) {
  const xrt_kernel_tensor_t& ta = ctx->inputs[0];
  const xrt_kernel_tensor_t& tb = ctx->inputs[1];
  const xrt_kernel_tensor_t& tc = ctx->outputs[0];
  const int64_t m = ta.shape[ta.ndim - 2];
  const int64_t k = ta.shape[ta.ndim - 1];
  const int64_t n = tb.shape[tb.ndim - 1];
  const int32_t nb = tc.ndim - 2;
  int64_t batches = 1;
  for (int32_t d = 0; d < nb; ++d) batches *= tc.shape[d];

  // b shared by every batch and a not broadcast: one tall product.
  if (numel(tb) == k * n && numel(ta) == batches * m * k) {
    gemm(batches * m, n, k, a, k, b, n, c, n, true);
    return;
  }

  const std::vector<int64_t> sa = batch_strides(ta, nb);
  const std::vector<int64_t> sb = batch_strides(tb, nb);
  auto run = [&](int64_t i0, int64_t i1, bool parallel) {
    for (int64_t i = i0; i < i1; ++i) {
      int64_t ia = 0, ib = 0, rest = i;
      for (int32_t d = nb - 1; d >= 0; --d) {
        const int64_t idx = rest % tc.shape[d];
        rest /= tc.shape[d];
        ia += idx * sa[static_cast<size_t>(d)];
        ib += idx * sb[static_cast<size_t>(d)];
      }
      gemm(m, n, k, a + ia * m * k, k, b + ib * k * n, n, c + i * m * n, n, parallel);
    }
  };
  // Small matrices: spread the batch over threads, a few products per task
  // at least; large ones: each product uses every thread.
  constexpr double kSmallFlops = 1 << 22;
  constexpr double kTaskFlops = 1 << 18;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) *
                       static_cast<double>(k);
  if (flops < kSmallFlops) {
    const int64_t grain = static_cast<int64_t>(kTaskFlops / (flops + 1)) + 1;
    parallel_for(0, batches, grain, [&](int64_t i0, int64_t i1) { run(i0, i1, false); });
  } else {
    run(0, batches, true);
  }
}

template <class T>
void to_float(const T* src, float* dst, int64_t count) {
  parallel_for(0, count, 1 << 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) dst[i] = load(src + i);
  });
}

template <class T>
void matmul(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& tc = ctx->outputs[0];
  const int64_t count = numel(tc);
  if (count == 0) return;
  const T* a = static_cast<const T*>(ctx->inputs[0].data);
  const T* b = static_cast<const T*>(ctx->inputs[1].data);
  T* c = static_cast<T*>(tc.data);
  if constexpr (std::is_same_v<T, compute_t<T>>) {
    batched(ctx, a, b, c);
  } else {
    // Half types: products run in float and round once on the way out.
    const int64_t na = numel(ctx->inputs[0]);
    const int64_t nb = numel(ctx->inputs[1]);
    std::vector<float> a32(static_cast<size_t>(na)), b32(static_cast<size_t>(nb));
    std::vector<float> c32(static_cast<size_t>(count));
    to_float(a, a32.data(), na);
    to_float(b, b32.data(), nb);
    batched(ctx, a32.data(), b32.data(), c32.data());
    parallel_for(0, count, 1 << 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) store(c + i, c32[static_cast<size_t>(i)]);
    });
  }
}

}  // namespace

xrt_status_t run_matmul(const xrt_kernel_context_t* ctx) noexcept {
#if XRT_HAVE_BLAS
  const char* why = nullptr;
  if (!openblas(&why)) return fail(ctx, XRT_ERROR_BACKEND, "cpu %s: %s", op_name(ctx), why);
#endif
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      matmul<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
