// "attention_backward": dq, dk, dv of attention for the output gradient dO,
// and the backward core every CPU attention op shares (backward_heads).
// Per head the weights P are recomputed for blocks of queries against all
// their visible keys, then
//   dv = P^T dO,  dP = dO v^T,  dS = P * (dP - rowsum(P * dP)),
//   dq = dS k * scale,  dk = dS^T q * scale,
// where rowsum(P * dP) equals rowsum(dO * O), so O is never formed. Given
// attention_lse's output and lse, P is exp(S - lse) and the row sums come
// from dO * O instead. All products run on the GEMM micro-kernels;
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
#include "gemm_pack.h"
#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace xrt::cpu {
namespace {

// One thread's state for a slice of one head's queries. Like the forward,
// it works with one column per query: S^T = K Q^T and dP^T = V dO^T, so
// the softmax and dS run down columns, vectorised across queries, and the
// rows of P^T and dS^T are the A rows of dV += P^T dO and dK += dS^T Q.
// K and V are read (or converted) once per slice, K also packed for
// dQ = dS K; the queries' operands are packed once per block.
template <class T>
class QuerySlice {
  using C = compute_t<T>;

 public:
  QuerySlice(int64_t max_lk, int64_t d, int64_t dv, int64_t block)
      : d_(d),
        dv_(dv),
        block_(block),
        mr_(gemm_strip_rows<C>()),
        nr_(gemm_strip_cols<C>()),
        np_max_(round_up(block, nr_)),
        kc_(std::is_same_v<T, C> ? 0 : size(max_lk * d)),
        vc_(std::is_same_v<T, C> ? 0 : size(max_lk * dv)),
        kb_(size(max_lk * round_up(d, nr_))),
        qt_(size(np_max_ * d)),
        gt_(size(np_max_ * dv)),
        qb_(size(np_max_ * round_up(d, nr_))),
        gb_(size(np_max_ * round_up(dv, nr_))),
        st_(size(max_lk * np_max_)),
        dpt_(size(max_lk * np_max_)),
        dsa_(size(round_up(block, mr_) * max_lk)),
        dq_(size(block * d)),
        columns_(size(3 * np_max_)),
        lo_(size(np_max_)),
        hi_(size(np_max_)),
        k_rows_(size(max_lk)),
        v_rows_(size(max_lk)),
        p_rows_(size(max_lk)),
        ds_rows_(size(max_lk)),
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
    load_keys(h, h.keys.end(end - 1));
    for (int64_t i0 = begin; i0 < end; i0 += block_) {
      const int64_t rows = std::min(block_, end - i0);
      const int64_t cols = h.keys.end(i0 + rows - 1);
      if (cols == 0) {
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t c = 0; c < d; ++c) store(h.out + (i0 + i) * h.out_stride + c, C(0));
        continue;
      }
      block(h, i0, rows, cols, scale);
    }
  }

  const C* dk() const { return dk_.data(); }
  const C* dv() const { return dv_acc_.data(); }

 private:
  static size_t size(int64_t n) { return static_cast<size_t>(n); }

  // Per-query values: 0 shift (max or lse), 1 sum, 2 delta = rowsum(P * dP).
  C* column(int64_t which) { return columns_.data() + which * np_max_; }

  // Rows of K and V in the compute type (in place when stored so), and K
  // packed as the B operand of dQ = dS K over all `cols` keys.
  void load_keys(const HeadOperands<T>& h, int64_t cols) {
    for (int64_t j = 0; j < cols; ++j) {
      const T* k = h.k + j * h.k_stride;
      const T* v = h.v + j * h.v_stride;
      if constexpr (std::is_same_v<T, C>) {
        k_rows_[size(j)] = k;
        v_rows_[size(j)] = v;
      } else {
        C* kr = kc_.data() + j * d_;
        C* vr = vc_.data() + j * dv_;
        for (int64_t c = 0; c < d_; ++c) kr[c] = load(k + c);
        for (int64_t c = 0; c < dv_; ++c) vr[c] = load(v + c);
        k_rows_[size(j)] = kr;
        v_rows_[size(j)] = vr;
      }
    }
    keys_ = cols;
    pack_b_strips(0, ceil_div(d_, nr_), cols, d_, nr_, kb_.data(),
                  [&](int64_t j, int64_t c) { return k_rows_[size(j)][c]; });
  }

  // Queries [i0, i0 + rows) against keys [0, cols).
  void block(const HeadOperands<T>& h, int64_t i0, int64_t rows, int64_t cols, C scale) {
    const int64_t d = d_, dv = dv_, np = round_up(rows, nr_), strips = np / nr_;
    // q scaled (dk = dS^T q * scale needs the scale too) and dO, as the B
    // operands of S^T and dP^T (over d) and of dK and dV (over queries).
    auto q_at = [&](int64_t i, int64_t c) {
      return i < rows ? load(h.q + (i0 + i) * h.q_stride + c) * scale : C(0);
    };
    auto g_at = [&](int64_t i, int64_t c) {
      return i < rows ? load(h.grad + (i0 + i) * h.grad_stride + c) : C(0);
    };
    pack_b_strips(0, strips, d, np, nr_, qt_.data(),
                  [&](int64_t c, int64_t i) { return q_at(i, c); });
    pack_b_strips(0, strips, dv, np, nr_, gt_.data(),
                  [&](int64_t c, int64_t i) { return g_at(i, c); });
    pack_b_strips(0, ceil_div(d, nr_), np, d, nr_, qb_.data(), q_at);
    pack_b_strips(0, ceil_div(dv, nr_), np, dv, nr_, gb_.data(), g_at);
    gemm_rows(cols, np, d, k_rows_.data(), qt_.data(), st_.data(), np, false);
    gemm_rows(cols, np, dv, v_rows_.data(), gt_.data(), dpt_.data(), np, false);
    weights(h, i0, rows, np, cols);
    // dS^T = P^T * (dP^T - delta), in place of dP^T.
    C* delta = column(2);
    if (h.given_out) {
      for (int64_t i = 0; i < np; ++i) {
        C sum = 0;
        if (i < rows) {
          for (int64_t c = 0; c < dv; ++c) {
            sum += g_at(i, c) * load(h.given_out + (i0 + i) * h.grad_stride + c);
          }
        }
        delta[i] = sum;
      }
    } else {
      std::fill(delta, delta + np, C(0));
      for (int64_t j = 0; j < cols; ++j) {
        const C* p = st_.data() + j * np;
        const C* dp = dpt_.data() + j * np;
        for (int64_t i = 0; i < np; ++i) delta[i] += p[i] * dp[i];
      }
    }
    for (int64_t j = 0; j < cols; ++j) {
      const C* p = st_.data() + j * np;
      C* ds = dpt_.data() + j * np;
      for (int64_t i = 0; i < np; ++i) ds[i] = p[i] * (ds[i] - delta[i]);
      p_rows_[size(j)] = p;
      ds_rows_[size(j)] = ds;
    }
    gemm_rows(cols, dv, np, p_rows_.data(), gb_.data(), dv_acc_.data(), dv, true);
    gemm_rows(cols, d, np, ds_rows_.data(), qb_.data(), dk_.data(), d, true);
    // dQ = dS K * scale: dS packed from dS^T's rows, K's strips are keys_ deep.
    pack_a_strips(rows, cols, mr_, dsa_.data(),
                  [&](int64_t i, int64_t j) { return dpt_[size(j * np + i)]; });
    for (int64_t s = 0; s < ceil_div(d, nr_); ++s) {
      const int64_t c0 = s * nr_;
      gemm_packed(rows, std::min(nr_, d - c0), cols, dsa_.data(), kb_.data() + c0 * keys_,
                  dq_.data() + c0, d, false);
    }
    for (int64_t i = 0; i < rows; ++i) {
      T* dq = h.out + (i0 + i) * h.out_stride;
      for (int64_t c = 0; c < d; ++c) store(dq + c, dq_[size(i * d + c)] * scale);
    }
  }

  // S^T to P^T: exp(S - lse) from the given lse, or a softmax down each
  // column over the keys its query sees; unseen keys, queries that see
  // nothing and padding columns get 0.
  void weights(const HeadOperands<T>& h, int64_t i0, int64_t rows, int64_t np, int64_t cols) {
    constexpr C kNegInf = -std::numeric_limits<C>::infinity();
    C* x = st_.data();
    for (int64_t i = 0; i < np; ++i) {
      lo_[size(i)] = i < rows ? std::min(h.keys.begin(i0 + i), cols) : cols;
      hi_[size(i)] = i < rows ? std::clamp(h.keys.end(i0 + i), lo_[size(i)], cols) : cols;
    }
    hide_unseen_keys(x, cols, np, 0, lo_.data(), hi_.data());
    if (h.mask.data) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = lo_[size(i)]; j < hi_[size(i)]; ++j)
          x[j * np + i] += h.mask.template add<C>(i0 + i, j);
      }
    }
    C *shift = column(0), *sum = column(1);
    if (h.given_lse) {
      for (int64_t i = 0; i < np; ++i) shift[i] = i < rows ? C(h.given_lse[i0 + i]) : kNegInf;
    } else {
      std::fill(shift, shift + np, kNegInf);
      max_columns(x, cols, np, shift);
    }
    // A query that sees nothing has every score -inf: shifting by 0 gives
    // 0, not NaN.
    for (int64_t i = 0; i < np; ++i) shift[i] = shift[i] > kNegInf ? shift[i] : C(0);
    std::fill(sum, sum + np, C(0));
    exp_shifted_columns(x, cols, np, shift, sum);
    if (h.given_lse) return;
    for (int64_t i = 0; i < np; ++i) sum[i] = sum[i] > 0 ? C(1) / sum[i] : C(0);
    for (int64_t j = 0; j < cols; ++j) {
      C* xj = x + j * np;
      for (int64_t i = 0; i < np; ++i) xj[i] *= sum[i];
    }
  }

  int64_t d_, dv_, block_, mr_, nr_, np_max_, keys_ = 0;
  std::vector<C> kc_, vc_, kb_, qt_, gt_, qb_, gb_, st_, dpt_, dsa_, dq_, columns_;
  std::vector<int64_t> lo_, hi_;
  std::vector<const C*> k_rows_, v_rows_, p_rows_, ds_rows_;
  std::vector<C> dk_, dv_acc_;
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
