// Elementwise kernels: "add" (inputs pre-broadcast, arbitrary strides) and
// "gelu" (contiguous).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace xrt::cpu {
namespace {

// Elements per task: below this, waking other threads costs more than it saves.
constexpr int64_t kAddGrain = 1 << 16;
constexpr int64_t kGeluGrain = 1 << 13;

bool is_contiguous(const xrt_kernel_tensor_t& t) {
  int64_t expected = 1;
  for (int32_t d = t.ndim - 1; d >= 0; --d) {
    if (t.shape[d] == 1) continue;
    if (t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

template <class T>
void add_run(const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n) {
  // The unit-stride and broadcast-scalar cases get loops of their own so
  // they vectorise.
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) store(out + i, load(a + i) + load(b + i));
  } else if (sa == 1 && sb == 0) {
    const compute_t<T> y = load(b);
    for (int64_t i = 0; i < n; ++i) store(out + i, load(a + i) + y);
  } else if (sa == 0 && sb == 1) {
    const compute_t<T> x = load(a);
    for (int64_t i = 0; i < n; ++i) store(out + i, x + load(b + i));
  } else {
    for (int64_t i = 0; i < n; ++i) store(out + i, load(a + i * sa) + load(b + i * sb));
  }
}

// Strided add over the output's shape after merging dims that are
// contiguous with their inner neighbour in both inputs.
template <class T>
void add_strided(const xrt_kernel_tensor_t& ta, const xrt_kernel_tensor_t& tb,
                 const xrt_kernel_tensor_t& to, int64_t n) {
  int64_t size[XRT_MAX_DIMS], sa[XRT_MAX_DIMS], sb[XRT_MAX_DIMS];
  int r = 0;
  for (int32_t d = 0; d < to.ndim; ++d) {
    if (to.shape[d] == 1) continue;
    if (r > 0 && sa[r - 1] == ta.strides[d] * to.shape[d] &&
        sb[r - 1] == tb.strides[d] * to.shape[d]) {
      size[r - 1] *= to.shape[d];
      sa[r - 1] = ta.strides[d];
      sb[r - 1] = tb.strides[d];
      continue;
    }
    size[r] = to.shape[d];
    sa[r] = ta.strides[d];
    sb[r] = tb.strides[d];
    ++r;
  }
  const int64_t inner = size[r - 1];
  const int64_t ia = sa[r - 1], ib = sb[r - 1];
  const int64_t rows = n / inner;
  const T* a = static_cast<const T*>(ta.data);
  const T* b = static_cast<const T*>(tb.data);
  T* out = static_cast<T*>(to.data);
  const int64_t grain = inner >= kAddGrain ? 1 : kAddGrain / inner;
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    // Odometer over the outer dims, started at row r0.
    int64_t idx[XRT_MAX_DIMS] = {};
    int64_t oa = 0, ob = 0, rest = r0;
    for (int d = r - 2; d >= 0; --d) {
      idx[d] = rest % size[d];
      rest /= size[d];
      oa += idx[d] * sa[d];
      ob += idx[d] * sb[d];
    }
    for (int64_t row = r0; row < r1; ++row) {
      add_run(a + oa, ia, b + ob, ib, out + row * inner, inner);
      for (int d = r - 2; d >= 0; --d) {
        oa += sa[d];
        ob += sb[d];
        if (++idx[d] < size[d]) break;
        oa -= sa[d] * size[d];
        ob -= sb[d] * size[d];
        idx[d] = 0;
      }
    }
  });
}

template <class T>
void add(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& ta = ctx->inputs[0];
  const xrt_kernel_tensor_t& tb = ctx->inputs[1];
  const xrt_kernel_tensor_t& to = ctx->outputs[0];
  const int64_t n = numel(to);
  const T* a = static_cast<const T*>(ta.data);
  const T* b = static_cast<const T*>(tb.data);
  T* out = static_cast<T*>(to.data);
  if (n == 1) {
    store(out, load(a) + load(b));
  } else if (n == 0) {
    return;
  } else if (is_contiguous(ta) && is_contiguous(tb)) {
    parallel_for(0, n, kAddGrain, [&](int64_t i0, int64_t i1) {
      add_run(a + i0, 1, b + i0, 1, out + i0, i1 - i0);
    });
  } else {
    add_strided<T>(ta, tb, to, n);
  }
}

template <class T>
void gelu(const xrt_kernel_context_t* ctx) {
  using C = compute_t<T>;
  const int64_t n = numel(ctx->outputs[0]);
  const T* x = static_cast<const T*>(ctx->inputs[0].data);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  parallel_for(0, n, kGeluGrain, [&](int64_t i0, int64_t i1) {
    if constexpr (std::is_same_v<T, C>) {
      cpu::gelu(x + i0, out + i0, i1 - i0);
    } else {
      // Half types go through float in chunks.
      constexpr int64_t kChunk = 1024;
      C buf[kChunk];
      for (int64_t c0 = i0; c0 < i1; c0 += kChunk) {
        const int64_t len = std::min(kChunk, i1 - c0);
        for (int64_t i = 0; i < len; ++i) buf[i] = load(x + c0 + i);
        cpu::gelu(buf, buf, len);
        for (int64_t i = 0; i < len; ++i) store(out + c0 + i, buf[i]);
      }
    }
  });
}

}  // namespace

xrt_status_t run_add(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      add<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

xrt_status_t run_gelu(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      gelu<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
