// "attention_backward": dq, dk, dv of attention for the output gradient dO,
// and the backward core every CPU attention op shares (backward_heads).
// Per head the weights P are recomputed for blocks of queries against all
// their visible keys, then
//   dv = P^T dO,  dP = dO v^T,  dS = P * (dP - rowsum(P * dP)),
//   dq = dS k * scale,  dk = dS^T q * scale,
// where rowsum(P * dP) equals rowsum(dO * O), so O is never formed. Given
// attention_lse's output and lse, P is exp(S - lse) and the row sums come
// from dO * O instead. All products go through the blocked GEMM;
// accumulation is in float (double for float64). Memory per task is
// O(block * Lk + Lk * (D + Dv)).
//
// dk and dv sum over every query of every head sharing k and v, so each task
// owns a slice of one head's queries and sums into buffers of its own; when
// a head is split over several tasks (few heads, many threads) or heads
// share k and v (grouped-query attention) the partial sums are added
// afterwards. Queries that see no key have zero gradients.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "attention_head.h"
#include "attention_shape.h"
#include "gemm.h"
#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"

namespace xrt::cpu {
namespace {

template <class T>
class QuerySlice {
  using C = compute_t<T>;

 public:
  QuerySlice(int64_t max_lk, int64_t d, int64_t dv, int64_t block)
      : d_(d),
        dv_(dv),
        block_(block),
        k_(size(max_lk * d)),
        kt_(size(d * max_lk)),
        vt_(size(dv * max_lk)),
        q_(size(block * d)),
        go_(size(block * dv)),
        p_(size(block * max_lk)),
        ds_(size(block * max_lk)),
        t_(size(max_lk * block)),
        prod_(size(std::max(max_lk * std::max(d, dv), block * d))),
        dk_(size(max_lk * d)),
        dv_acc_(size(max_lk * dv)) {}

  // Writes dq of queries [begin, end) of head h and sums their share of dk
  // and dv (h.lk rows) into dk() and dv().
  void run(const HeadOperands<T>& h, int64_t begin, int64_t end, C scale) {
    const int64_t lk = h.lk, d = d_, dv = dv_;
    std::fill(dk_.begin(), dk_.begin() + lk * d, C(0));
    std::fill(dv_acc_.begin(), dv_acc_.begin() + lk * dv, C(0));
    if (begin >= end) return;
    // The slice sees keys below the end of its last query's range.
    const int64_t key_end = h.keys.end(end - 1);
    load_keys(h, key_end);
    for (int64_t i0 = begin; i0 < end; i0 += block_) {
      const int64_t rows = std::min(block_, end - i0);
      const int64_t cols = h.keys.end(i0 + rows - 1);
      T* dq = h.out + i0 * h.out_stride;
      if (cols == 0) {
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t c = 0; c < d; ++c) store(dq + i * h.out_stride + c, C(0));
        continue;
      }
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t c = 0; c < d; ++c)
          q_[size(i * d + c)] = load(h.q + (i0 + i) * h.q_stride + c) * scale;
        for (int64_t c = 0; c < dv; ++c)
          go_[size(i * dv + c)] = load(h.grad + (i0 + i) * h.grad_stride + c);
      }
      // P, and dP then dS in place.
      gemm_blocked(rows, cols, d, q_.data(), d, kt_.data(), lk, p_.data(), cols, false);
      gemm_blocked(rows, cols, dv, go_.data(), dv, vt_.data(), lk, ds_.data(), cols, false);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t qi = i0 + i;
        C* p = p_.data() + i * cols;
        C* ds = ds_.data() + i * cols;
        weights_row(h, qi, p, cols);
        const C delta = h.given_out ? output_dot(go_.data() + i * dv,
                                                 h.given_out + qi * h.grad_stride, dv)
                                    : dot(p, ds, cols);
        for (int64_t j = 0; j < cols; ++j) ds[j] = p[j] * (ds[j] - delta);
      }
      accumulate_transposed(p_.data(), rows, cols, go_.data(), dv, dv_acc_.data());
      // q_ carries the scale, which dk = dS^T q * scale needs too.
      accumulate_transposed(ds_.data(), rows, cols, q_.data(), d, dk_.data());
      gemm_blocked(rows, d, cols, ds_.data(), cols, k_.data(), d, prod_.data(), d, false);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t c = 0; c < d; ++c)
          store(dq + i * h.out_stride + c, prod_[size(i * d + c)] * scale);
    }
  }

  const C* dk() const { return dk_.data(); }
  const C* dv() const { return dv_acc_.data(); }

 private:
  static size_t size(int64_t n) { return static_cast<size_t>(n); }

  // K^T and V^T (row stride lk) for the products with the query block, and
  // K's rows in the compute type for dq.
  void load_keys(const HeadOperands<T>& h, int64_t cols) {
    const int64_t lk = h.lk, d = d_, dv = dv_;
    for (int64_t j = 0; j < cols; ++j) {
      const T* k = h.k + j * h.k_stride;
      const T* v = h.v + j * h.v_stride;
      for (int64_t c = 0; c < d; ++c) kt_[size(c * lk + j)] = k_[size(j * d + c)] = load(k + c);
      for (int64_t c = 0; c < dv; ++c) vt_[size(c * lk + j)] = load(v + c);
    }
  }

  // Row qi's scores to weights: from the given lse, or a softmax over the
  // keys it sees; unseen keys and rows that see nothing get 0.
  void weights_row(const HeadOperands<T>& h, int64_t qi, C* s, int64_t cols) const {
    constexpr C kNegInf = -std::numeric_limits<C>::infinity();
    const int64_t lo = std::min(h.keys.begin(qi), cols);
    const int64_t hi = std::clamp(h.keys.end(qi), lo, cols);
    std::fill(s, s + lo, kNegInf);
    std::fill(s + hi, s + cols, kNegInf);
    if (h.mask.data) {
      for (int64_t j = lo; j < hi; ++j) s[j] += h.mask.template add<C>(qi, j);
    }
    C m = kNegInf;
    if (h.given_lse) {
      m = static_cast<C>(h.given_lse[qi]);
    } else {
      for (int64_t j = lo; j < hi; ++j) m = std::max(m, s[j]);
    }
    if (!(m > kNegInf)) {
      std::fill(s, s + cols, C(0));
      return;
    }
    C sum = 0;
    for (int64_t j = 0; j < cols; ++j) {
      s[j] = std::exp(s[j] - m);
      sum += s[j];
    }
    if (h.given_lse) return;
    const C inv = C(1) / sum;
    for (int64_t j = 0; j < cols; ++j) s[j] *= inv;
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

  // acc (cols x n) += a^T b for a (rows x cols), b (rows x n).
  void accumulate_transposed(const C* a, int64_t rows, int64_t cols, const C* b, int64_t n,
                             C* acc) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) t_[size(j * rows + i)] = a[i * cols + j];
    }
    gemm_blocked(cols, n, rows, t_.data(), rows, b, n, prod_.data(), n, false);
    for (int64_t i = 0; i < cols * n; ++i) acc[i] += prod_[size(i)];
  }

  int64_t d_, dv_, block_;
  std::vector<C> k_, kt_, vt_, q_, go_, p_, ds_, t_, prod_, dk_, dv_acc_;
};

template <class T>
void store_rows(T* out, int64_t stride, const compute_t<T>* src, int64_t rows, int64_t n) {
  for (int64_t j = 0; j < rows; ++j)
    for (int64_t c = 0; c < n; ++c) store(out + j * stride + c, src[j * n + c]);
}

template <class T>
void attention_backward(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& tq = ctx->inputs[1];
  const xrt_kernel_tensor_t& tk = ctx->inputs[2];
  const xrt_kernel_tensor_t& tv = ctx->inputs[3];
  const int64_t b = tq.shape[0], h = tq.shape[1], lq = tq.shape[2], d = tq.shape[3];
  const int64_t hk = tk.shape[1], lk = tk.shape[2], dv = tv.shape[3];
  const int64_t group = h / hk;
  T* dq = static_cast<T*>(ctx->outputs[0].data);
  T* dk = static_cast<T*>(ctx->outputs[1].data);
  T* dvo = static_cast<T*>(ctx->outputs[2].data);
  // attention_lse's output and lse, when the caller gives them.
  const bool given = ctx->inputs[5].data != nullptr;
  const T* go = static_cast<const T*>(ctx->inputs[0].data);
  const T* o = given ? static_cast<const T*>(ctx->inputs[4].data) : nullptr;
  const float* lse = given ? static_cast<const float*>(ctx->inputs[5].data) : nullptr;
  const int32_t* key_lengths = static_cast<const int32_t*>(ctx->inputs[7].data);
  const DenseMasks masks = dense_masks(ctx, 6);
  const MaskAttrs attrs = mask_attrs(ctx);
  std::vector<HeadOperands<T>> heads(static_cast<size_t>(b * h));
  for (int64_t i = 0; i < b * h; ++i) {
    const int64_t bi = i / h, hi = i % h, kv = bi * hk + hi / group;
    HeadOperands<T>& head = heads[static_cast<size_t>(i)];
    head = {static_cast<const T*>(tq.data) + i * lq * d,
            static_cast<const T*>(tk.data) + kv * lk * d,
            static_cast<const T*>(tv.data) + kv * lk * dv,
            d, d, dv, lq, lk,
            key_range(attrs, lq, key_lengths ? key_lengths[bi] : lk),
            masks.head(bi, hi),
            dq + i * lq * d, d, nullptr,
            go + i * lq * dv, o ? o + i * lq * dv : nullptr, lse ? lse + i * lq : nullptr, dv};
  }
  // Heads b*H + g*group .. + group share kv head b*Hkv + g.
  std::vector<KeyGradTarget<T>> targets(static_cast<size_t>(b * hk));
  for (int64_t t = 0; t < b * hk; ++t) {
    targets[static_cast<size_t>(t)] = {dk + t * lk * d, dvo + t * lk * dv, d, dv, t * group, group};
  }
  backward_heads(heads, targets, d, dv, attr_float(ctx, "scale", 1.0 / std::sqrt(double(d))));
}

}  // namespace

template <class T>
void backward_heads(const std::vector<HeadOperands<T>>& heads,
                    const std::vector<KeyGradTarget<T>>& targets, int64_t d, int64_t dv,
                    double scale) {
  using C = compute_t<T>;
  const LongestHead longest = longest_head(heads);
  const int64_t max_lq = longest.lq, max_lk = longest.lk;
  const int64_t n = static_cast<int64_t>(heads.size());
  // Heads are split into query slices only when there are too few of them
  // to keep every thread busy; smaller blocks then give more slices.
  const int64_t want_tasks = int64_t{4} * max_threads();
  constexpr int64_t kMaxQueryBlock = 64;
  const int64_t block =
      query_block({std::max<int64_t>(n, 1), max_lq, max_lk, d, dv}, kMaxQueryBlock);
  const int64_t q_blocks = std::max<int64_t>((max_lq + block - 1) / block, 1);
  const int64_t want_splits =
      std::clamp((want_tasks + n - 1) / std::max<int64_t>(n, 1), int64_t{1}, q_blocks);
  const int64_t slice_blocks = (q_blocks + want_splits - 1) / want_splits;
  const int64_t splits = (q_blocks + slice_blocks - 1) / slice_blocks;
  const int64_t slice = slice_blocks * block;
  // Partial dk then dv per task, at offsets from each head's key count.
  bool direct = splits == 1;
  for (const KeyGradTarget<T>& t : targets) direct = direct && t.count == 1;
  std::vector<int64_t> offset(static_cast<size_t>(n) + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    offset[size_t(i) + 1] = offset[size_t(i)] + splits * heads[size_t(i)].lk * (d + dv);
  }
  std::vector<C> partial(direct ? 0 : static_cast<size_t>(offset.back()));
  // Heads are consecutive within each target, so the target of head i is
  // found once per task.
  std::vector<int64_t> target_of(static_cast<size_t>(n), 0);
  for (size_t t = 0; t < targets.size(); ++t) {
    for (int64_t i = 0; i < targets[t].count; ++i)
      target_of[size_t(targets[t].first + i)] = static_cast<int64_t>(t);
  }

  // Tasks of at least ~kTaskWork multiply-adds, so tiny heads stay inline.
  constexpr int64_t kTaskWork = 1 << 16;
  const int64_t grain = kTaskWork / (3 * slice * max_lk * (d + dv) + 1) + 1;
  parallel_for(0, n * splits, grain, [&](int64_t t0, int64_t t1) {
    QuerySlice<T> qs(max_lk, d, dv, block);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t hi = t / splits, s = t % splits;
      const HeadOperands<T>& h = heads[size_t(hi)];
      const int64_t begin = std::min(h.lq, s * slice);
      qs.run(h, begin, std::min(h.lq, begin + slice), static_cast<C>(scale));
      const int64_t kd = h.lk * d, kv = h.lk * dv;
      if (direct) {
        const KeyGradTarget<T>& target = targets[size_t(target_of[size_t(hi)])];
        store_rows(target.dk, target.dk_stride, qs.dk(), h.lk, d);
        store_rows(target.dv, target.dv_stride, qs.dv(), h.lk, dv);
      } else {
        C* out = partial.data() + offset[size_t(hi)] + s * (kd + kv);
        std::copy(qs.dk(), qs.dk() + kd, out);
        std::copy(qs.dv(), qs.dv() + kv, out + kd);
      }
    }
  });
  if (direct) return;

  // dk and dv of each target are the sums of its heads' slices' partials.
  const int64_t nt = static_cast<int64_t>(targets.size());
  parallel_for(0, nt, 1, [&](int64_t r0, int64_t r1) {
    std::vector<C> sum(static_cast<size_t>(max_lk * (d + dv)));
    for (int64_t r = r0; r < r1; ++r) {
      const KeyGradTarget<T>& target = targets[size_t(r)];
      if (target.count == 0) continue;
      const int64_t lk = heads[size_t(target.first)].lk, kv = lk * (d + dv);
      std::fill(sum.begin(), sum.begin() + kv, C(0));
      for (int64_t i = target.first; i < target.first + target.count; ++i) {
        const C* src = partial.data() + offset[size_t(i)];
        for (int64_t s = 0; s < splits; ++s)
          for (int64_t e = 0; e < kv; ++e) sum[size_t(e)] += src[s * kv + e];
      }
      store_rows(target.dk, target.dk_stride, sum.data(), lk, d);
      store_rows(target.dv, target.dv_stride, sum.data() + lk * d, lk, dv);
    }
  });
}

#define XRT_INSTANTIATE(T)                                                           \
  template void backward_heads<T>(const std::vector<HeadOperands<T>>&,              \
                                  const std::vector<KeyGradTarget<T>>&, int64_t, int64_t, \
                                  double);
XRT_INSTANTIATE(float)
XRT_INSTANTIATE(double)
XRT_INSTANTIATE(float16_t)
XRT_INSTANTIATE(bfloat16_t)
#undef XRT_INSTANTIATE

xrt_status_t run_attention_backward(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    const xrt_status_t bad = check_key_lengths(ctx, 7, ctx->inputs[2].shape[2]);
    if (bad != XRT_OK) return bad;
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      attention_backward<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
