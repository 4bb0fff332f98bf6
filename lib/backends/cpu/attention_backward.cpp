// "attention_backward": dq, dk, dv of attention for the output gradient dO.
// Per (batch, head) the weights P are recomputed for blocks of queries
// against all their visible keys, then
//   dv = P^T dO,  dP = dO v^T,  dS = P * (dP - rowsum(P * dP)),
//   dq = dS k * scale,  dk = dS^T q * scale,
// where rowsum(P * dP) equals rowsum(dO * O), so O is never formed. Given
// attention_lse's output and lse, P is exp(S - lse) and the row sums come
// from dO * O instead. All products go through the blocked GEMM;
// accumulation is in float (double for float64). Memory per task is
// O(block * Lk + Lk * (D + Dv)).
//
// dk and dv sum over every query, so each task owns a slice of one head's
// queries and sums into buffers of its own; when a head is split over several
// tasks (few heads, many threads) the slices' sums are added afterwards.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "attention_shape.h"
#include "gemm.h"
#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"

namespace xrt::cpu {
namespace {


// Operands of one (batch, head).
template <class T>
struct Head {
  const T* go;  // dO, (lq, dv)
  const T* q;
  const T* k;
  const T* v;
  const T* o;        // the forward's output (lq, dv), or nullptr
  const float* lse;  // its log-sum-exp (lq), or nullptr
  T* dq;
};

// `data` as the compute type: itself when T is, else converted into buf.
template <class T>
const compute_t<T>* as_compute(const T* data, int64_t n, std::vector<compute_t<T>>& buf) {
  if constexpr (std::is_same_v<T, compute_t<T>>) {
    return data;
  } else {
    for (int64_t i = 0; i < n; ++i) buf[static_cast<size_t>(i)] = load(data + i);
    return buf.data();
  }
}

template <class T>
class QuerySlice {
  using C = compute_t<T>;

 public:
  QuerySlice(const AttentionDims& dims, int64_t block)
      : dims_(dims),
        block_(block),
        k_(std::is_same_v<T, C> ? 0 : size(dims.lk * dims.d)),
        kt_(size(dims.d * dims.lk)),
        vt_(size(dims.dv * dims.lk)),
        q_(size(block * dims.d)),
        go_(std::is_same_v<T, C> ? 0 : size(block * dims.dv)),
        p_(size(block * dims.lk)),
        ds_(size(block * dims.lk)),
        t_(size(dims.lk * block)),
        prod_(size(std::max(dims.lk * std::max(dims.d, dims.dv), block * dims.d))),
        dk_(size(dims.lk * dims.d)),
        dv_(size(dims.lk * dims.dv)) {}

  // Writes dq of queries [begin, end) of head h and sums their share of dk
  // and dv into dk() and dv().
  void run(const Head<T>& h, int64_t begin, int64_t end, C scale, bool causal) {
    const int64_t lk = dims_.lk, d = dims_.d, dv = dims_.dv;
    // Under the causal mask the slice sees keys 0..end-1 only.
    const int64_t key_end = causal ? std::min(lk, end) : lk;
    load_keys(h.k, h.v, key_end);
    std::fill(dk_.begin(), dk_.end(), C(0));
    std::fill(dv_.begin(), dv_.end(), C(0));
    for (int64_t i0 = begin; i0 < end; i0 += block_) {
      const int64_t rows = std::min(block_, end - i0);
      const int64_t cols = causal ? std::min(lk, i0 + rows) : lk;
      for (int64_t i = 0; i < rows * d; ++i) q_[size(i)] = load(h.q + i0 * d + i) * scale;
      const C* go = as_compute(h.go + i0 * dv, rows * dv, go_);
      // P, and dP then dS in place.
      gemm_blocked(rows, cols, d, q_.data(), d, kt_.data(), lk, p_.data(), cols, false);
      gemm_blocked(rows, cols, dv, go, dv, vt_.data(), lk, ds_.data(), cols, false);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t visible = causal ? std::min(i0 + i + 1, cols) : cols;
        C* p = p_.data() + i * cols;
        C* ds = ds_.data() + i * cols;
        if (h.lse) {
          weights_from_lse(p, visible, cols, static_cast<C>(h.lse[i0 + i]));
        } else {
          softmax_row(p, visible, cols);
        }
        const C delta = h.o ? output_dot(go + i * dv, h.o + (i0 + i) * dv, dv) : dot(p, ds, cols);
        score_grad_row(p, ds, cols, delta);
      }
      accumulate_transposed(p_.data(), rows, cols, go, dv, dv_.data());
      // q_ carries the scale, which dk = dS^T q * scale needs too.
      accumulate_transposed(ds_.data(), rows, cols, q_.data(), d, dk_.data());
      gemm_blocked(rows, d, cols, ds_.data(), cols, k_rows_, d, prod_.data(), d, false);
      T* dq = h.dq + i0 * d;
      for (int64_t i = 0; i < rows * d; ++i) store(dq + i, prod_[size(i)] * scale);
    }
  }

  const C* dk() const { return dk_.data(); }
  const C* dv() const { return dv_.data(); }

 private:
  static size_t size(int64_t n) { return static_cast<size_t>(n); }

  // K^T and V^T (row stride lk) for the products with the query block, and
  // K's rows in the compute type for dq.
  void load_keys(const T* k, const T* v, int64_t cols) {
    const int64_t lk = dims_.lk, d = dims_.d, dv = dims_.dv;
    for (int64_t j = 0; j < cols; ++j) {
      for (int64_t c = 0; c < d; ++c) kt_[size(c * lk + j)] = load(k + j * d + c);
      for (int64_t c = 0; c < dv; ++c) vt_[size(c * lk + j)] = load(v + j * dv + c);
    }
    k_rows_ = as_compute(k, cols * d, k_);
  }

  // Scores to probabilities; masked keys get 0. A row that sees no key
  // (impossible with top-left masking, key 0 is always visible) is all 0.
  static void softmax_row(C* s, int64_t visible, int64_t cols) {
    std::fill(s + visible, s + cols, C(0));
    if (visible == 0) return;
    const C m = *std::max_element(s, s + visible);
    C sum = 0;
    for (int64_t j = 0; j < visible; ++j) {
      s[j] = std::exp(s[j] - m);
      sum += s[j];
    }
    const C inv = C(1) / sum;
    for (int64_t j = 0; j < visible; ++j) s[j] *= inv;
  }

  // Weights from the forward's log-sum-exp; masked keys get 0.
  static void weights_from_lse(C* s, int64_t visible, int64_t cols, C lse) {
    for (int64_t j = 0; j < visible; ++j) s[j] = std::exp(s[j] - lse);
    std::fill(s + visible, s + cols, C(0));
  }

  static C dot(const C* a, const C* b, int64_t n) {
    C sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += a[j] * b[j];
    return sum;
  }

  static C output_dot(const C* go, const T* o, int64_t n) {
    C sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += go[j] * load(o + j);
    return sum;
  }

  // dP to dS = P * (dP - delta), delta = rowsum(P * dP) = rowsum(dO * O).
  static void score_grad_row(const C* p, C* ds, int64_t cols, C delta) {
    for (int64_t j = 0; j < cols; ++j) ds[j] = p[j] * (ds[j] - delta);
  }

  // acc (cols x n) += a^T b for a (rows x cols), b (rows x n).
  void accumulate_transposed(const C* a, int64_t rows, int64_t cols, const C* b, int64_t n,
                             C* acc) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) t_[size(j * rows + i)] = a[i * cols + j];
    }
    gemm_blocked(cols, n, rows, t_.data(), rows, b, n, prod_.data(), n, false);
    for (int64_t i = 0; i < cols * n; ++i) acc[i] += prod_[size(i)];
  }

  AttentionDims dims_;
  int64_t block_;
  std::vector<C> k_, kt_, vt_, q_, go_, p_, ds_, t_, prod_, dk_, dv_;
  const C* k_rows_ = nullptr;
};

template <class T>
void store_all(T* out, const compute_t<T>* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store(out + i, src[i]);
}

template <class T>
void attention_backward(const xrt_kernel_context_t* ctx) {
  using C = compute_t<T>;
  const xrt_kernel_tensor_t& tq = ctx->inputs[1];
  const xrt_kernel_tensor_t& tv = ctx->inputs[3];
  const AttentionDims dims = attention_dims(tq, ctx->inputs[2], tv);
  T* dq = static_cast<T*>(ctx->outputs[0].data);
  T* dk = static_cast<T*>(ctx->outputs[1].data);
  T* dv = static_cast<T*>(ctx->outputs[2].data);
  if (dims.bh == 0) return;
  // No queries or an empty dO: every gradient is an empty sum.
  if (dims.lq == 0 || dims.dv == 0) {
    for (int i = 0; i < 3; ++i) {
      T* out = static_cast<T*>(ctx->outputs[i].data);
      const int64_t n = numel(ctx->outputs[i]);
      for (int64_t j = 0; j < n; ++j) store(out + j, C(0));
    }
    return;
  }
  const T* go = static_cast<const T*>(ctx->inputs[0].data);
  const T* q = static_cast<const T*>(tq.data);
  const T* k = static_cast<const T*>(ctx->inputs[2].data);
  const T* v = static_cast<const T*>(tv.data);
  // attention_lse's output and lse, when the caller gives them.
  const bool given = ctx->num_inputs > 5 && ctx->inputs[5].data;
  const T* o = given ? static_cast<const T*>(ctx->inputs[4].data) : nullptr;
  const float* lse = given ? static_cast<const float*>(ctx->inputs[5].data) : nullptr;
  const bool causal = attr_int(ctx, "causal", 0) != 0;
  const C scale = static_cast<C>(attention_scale(ctx, dims));

  // Heads are split into query slices only when there are too few of them
  // to keep every thread busy; smaller blocks then give more slices.
  const int64_t want_tasks = int64_t{4} * max_threads();
  const int64_t block = query_block(dims);
  const int64_t q_blocks = (dims.lq + block - 1) / block;
  const int64_t want_splits =
      std::clamp((want_tasks + dims.bh - 1) / dims.bh, int64_t{1}, q_blocks);
  const int64_t slice_blocks = (q_blocks + want_splits - 1) / want_splits;
  const int64_t splits = (q_blocks + slice_blocks - 1) / slice_blocks;
  const int64_t slice = slice_blocks * block;
  const int64_t kv = dims.lk * (dims.d + dims.dv);
  // Per task: dk then dv of its slice, summed per head afterwards.
  std::vector<C> partial(splits > 1 ? static_cast<size_t>(dims.bh * splits * kv) : 0);

  // Tasks of at least ~kTaskWork multiply-adds, so tiny heads stay inline.
  constexpr int64_t kTaskWork = 1 << 16;
  const int64_t grain = kTaskWork / (3 * slice * dims.lk * (dims.d + dims.dv) + 1) + 1;
  parallel_for(0, dims.bh * splits, grain, [&](int64_t t0, int64_t t1) {
    QuerySlice<T> qs(dims, block);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t h = t / splits;
      const int64_t begin = (t % splits) * slice;
      const int64_t end = std::min(dims.lq, begin + slice);
      const Head<T> head{go + h * dims.lq * dims.dv,
                         q + h * dims.lq * dims.d,
                         k + h * dims.lk * dims.d,
                         v + h * dims.lk * dims.dv,
                         o ? o + h * dims.lq * dims.dv : nullptr,
                         lse ? lse + h * dims.lq : nullptr,
                         dq + h * dims.lq * dims.d};
      qs.run(head, begin, end, scale, causal);
      if (splits == 1) {
        store_all(dk + h * dims.lk * dims.d, qs.dk(), dims.lk * dims.d);
        store_all(dv + h * dims.lk * dims.dv, qs.dv(), dims.lk * dims.dv);
      } else {
        C* out = partial.data() + t * kv;
        std::copy(qs.dk(), qs.dk() + dims.lk * dims.d, out);
        std::copy(qs.dv(), qs.dv() + dims.lk * dims.dv, out + dims.lk * dims.d);
      }
    }
  });
  if (splits == 1) return;

  // dk and dv of head h are the sums of its slices' partials.
  parallel_for(0, dims.bh, kTaskWork / (splits * kv + 1) + 1, [&](int64_t h0, int64_t h1) {
    std::vector<C> sum(static_cast<size_t>(kv));
    for (int64_t h = h0; h < h1; ++h) {
      const C* src = partial.data() + h * splits * kv;
      std::copy(src, src + kv, sum.begin());
      for (int64_t s = 1; s < splits; ++s) {
        for (int64_t i = 0; i < kv; ++i) sum[static_cast<size_t>(i)] += src[s * kv + i];
      }
      store_all(dk + h * dims.lk * dims.d, sum.data(), dims.lk * dims.d);
      store_all(dv + h * dims.lk * dims.dv, sum.data() + dims.lk * dims.d, dims.lk * dims.dv);
    }
  });
}

}  // namespace

xrt_status_t run_attention_backward(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      attention_backward<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
