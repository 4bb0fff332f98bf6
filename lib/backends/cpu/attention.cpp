// "attention": softmax(q k^T * scale + mask) v per (batch, head), and the
// forward core every CPU attention op shares (forward_heads). Queries are
// processed in blocks and keys in tiles with a running (online) softmax, so
// memory stays O(block) whatever Lk is; both products of a tile go through
// the blocked GEMM. Scores and accumulators use float (double for float64).
//
// "attention_lse" also writes each query's log-sum-exp, m + log(l) of the
// running max and sum.
//
// Edge cases: Lq == 0 or Dv == 0 gives an empty output (nothing to do, but
// the lse for Dv == 0); a query that sees no key (Lk == 0, key_lengths 0,
// every key masked) gets zeros, the value of an empty weighted sum, and lse
// -inf.
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

constexpr int64_t kKeyTile = 128;

template <class T>
class QueryBlock {
  using C = compute_t<T>;

 public:
  QueryBlock(int64_t d, int64_t dv, int64_t block)
      : d_(d),
        dv_(dv),
        q_(static_cast<size_t>(block * d)),
        kt_(static_cast<size_t>(d * kKeyTile)),
        v_(static_cast<size_t>(kKeyTile * dv)),
        s_(static_cast<size_t>(block * kKeyTile)),
        pv_(static_cast<size_t>(block * dv)),
        acc_(static_cast<size_t>(block * dv)),
        m_(static_cast<size_t>(block)),
        l_(static_cast<size_t>(block)),
        correction_(static_cast<size_t>(block)) {}

  // Queries [i0, i0 + rows) of head h.
  void run(const HeadOperands<T>& h, int64_t i0, int64_t rows, C scale) {
    const int64_t d = d_, dv = dv_;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t c = 0; c < d; ++c) q_[i * d + c] = load(h.q + (i0 + i) * h.q_stride + c) * scale;
    }
    std::fill(m_.begin(), m_.begin() + rows, -std::numeric_limits<C>::infinity());
    std::fill(l_.begin(), l_.begin() + rows, C(0));
    std::fill(acc_.begin(), acc_.begin() + rows * dv, C(0));
    // Key tiles outside every row's range are skipped.
    const int64_t key_begin = h.keys.begin(i0), key_end = h.keys.end(i0 + rows - 1);
    for (int64_t j0 = key_begin; j0 < key_end; j0 += kKeyTile) {
      const int64_t cols = std::min(kKeyTile, key_end - j0);
      load_tile(h, j0, cols);
      gemm_blocked(rows, cols, d, q_.data(), d, kt_.data(), cols, s_.data(), cols, false);
      for (int64_t i = 0; i < rows; ++i) softmax_row(h, i, i0 + i, j0, cols);
      gemm_blocked(rows, dv, cols, s_.data(), cols, v_.data(), dv, pv_.data(), dv, false);
      for (int64_t i = 0; i < rows; ++i) {
        C* a = acc_.data() + i * dv;
        const C* p = pv_.data() + i * dv;
        const C corr = correction_[i];
        for (int64_t c = 0; c < dv; ++c) a[c] = a[c] * corr + p[c];
      }
    }
    for (int64_t i = 0; i < rows; ++i) {
      // A row that saw no key keeps l == 0: zeros, lse -inf.
      const C inv = l_[i] > 0 ? C(1) / l_[i] : C(0);
      const C* a = acc_.data() + i * dv;
      T* o = h.out + (i0 + i) * h.out_stride;
      for (int64_t c = 0; c < dv; ++c) store(o + c, a[c] * inv);
      if (h.lse) {
        h.lse[i0 + i] = l_[i] > 0 ? static_cast<float>(m_[i] + std::log(l_[i]))
                                  : -std::numeric_limits<float>::infinity();
      }
    }
  }

 private:
  // Transposes the K tile to (d, cols) for the score product and loads the
  // V tile, both in the compute type.
  void load_tile(const HeadOperands<T>& h, int64_t j0, int64_t cols) {
    for (int64_t j = 0; j < cols; ++j) {
      const T* k = h.k + (j0 + j) * h.k_stride;
      const T* v = h.v + (j0 + j) * h.v_stride;
      for (int64_t c = 0; c < d_; ++c) kt_[c * cols + j] = load(k + c);
      for (int64_t c = 0; c < dv_; ++c) v_[j * dv_ + c] = load(v + c);
    }
  }

  // Turns the scores of row i (query qi) into probabilities relative to the
  // row's running max (unseen keys to 0) and updates its running sum; the
  // factor that rescales the row's earlier accumulation goes to
  // correction_[i].
  void softmax_row(const HeadOperands<T>& h, int64_t i, int64_t qi, int64_t j0, int64_t cols) {
    constexpr C kNegInf = -std::numeric_limits<C>::infinity();
    C* s = s_.data() + i * cols;
    const int64_t lo = std::clamp(h.keys.begin(qi) - j0, int64_t{0}, cols);
    const int64_t hi = std::clamp(h.keys.end(qi) - j0, lo, cols);
    std::fill(s, s + lo, kNegInf);
    std::fill(s + hi, s + cols, kNegInf);
    if (h.mask.data) {
      for (int64_t j = lo; j < hi; ++j) s[j] += h.mask.template add<C>(qi, j0 + j);
    }
    C tile_max = kNegInf;
    for (int64_t j = lo; j < hi; ++j) tile_max = std::max(tile_max, s[j]);
    if (tile_max == kNegInf) {  // nothing seen in this tile
      std::fill(s, s + cols, C(0));
      correction_[i] = C(1);
      return;
    }
    const C m_new = std::max(m_[i], tile_max);
    C sum = 0;
    for (int64_t j = 0; j < cols; ++j) {
      s[j] = std::exp(s[j] - m_new);
      sum += s[j];
    }
    correction_[i] = std::exp(m_[i] - m_new);
    m_[i] = m_new;
    l_[i] = l_[i] * correction_[i] + sum;
  }

  int64_t d_, dv_;
  std::vector<C> q_, kt_, v_, s_, pv_, acc_, m_, l_, correction_;
};

template <class T>
void attention(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& tq = ctx->inputs[0];
  const xrt_kernel_tensor_t& tk = ctx->inputs[1];
  const xrt_kernel_tensor_t& tv = ctx->inputs[2];
  const int64_t b = tq.shape[0], h = tq.shape[1], lq = tq.shape[2], d = tq.shape[3];
  const int64_t hk = tk.shape[1], lk = tk.shape[2], dv = tv.shape[3];
  T* out = static_cast<T*>(ctx->outputs[0].data);
  // attention_lse: the log-sum-exp of each query's scores too.
  float* lse = ctx->num_outputs > 1 ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
  const int32_t* key_lengths = static_cast<const int32_t*>(ctx->inputs[4].data);
  const DenseMasks masks = dense_masks(ctx, 3);
  const MaskAttrs attrs = mask_attrs(ctx);
  std::vector<HeadOperands<T>> heads(static_cast<size_t>(b * h));
  for (int64_t i = 0; i < b * h; ++i) {
    const int64_t bi = i / h, hi = i % h, kv = bi * hk + hi / (h / hk);
    HeadOperands<T>& head = heads[static_cast<size_t>(i)];
    head = {static_cast<const T*>(tq.data) + i * lq * d,
            static_cast<const T*>(tk.data) + kv * lk * d,
            static_cast<const T*>(tv.data) + kv * lk * dv,
            d, d, dv, lq, lk,
            key_range(attrs, lq, key_lengths ? key_lengths[bi] : lk),
            masks.head(bi, hi),
            out + i * lq * dv, dv,
            lse ? lse + i * lq : nullptr};
  }
  forward_heads(heads, d, dv, attr_float(ctx, "scale", 1.0 / std::sqrt(double(d))));
}

}  // namespace

template <class T>
void forward_heads(const std::vector<HeadOperands<T>>& heads, int64_t d, int64_t dv,
                   double scale) {
  using C = compute_t<T>;
  const LongestHead longest = longest_head(heads);
  const int64_t max_lq = longest.lq, max_lk = longest.lk;
  const int64_t n = static_cast<int64_t>(heads.size());
  if (n == 0 || max_lq == 0) return;
  const int64_t block = query_block({n, max_lq, max_lk, d, dv});
  const int64_t q_blocks = (max_lq + block - 1) / block;
  // Tasks of at least ~kTaskWork multiply-adds, so tiny heads stay inline.
  constexpr int64_t kTaskWork = 1 << 16;
  const int64_t grain = kTaskWork / (block * max_lk * (d + dv) + 1) + 1;
  parallel_for(0, n * q_blocks, grain, [&](int64_t t0, int64_t t1) {
    QueryBlock<T> qb(d, dv, block);
    for (int64_t t = t0; t < t1; ++t) {
      const HeadOperands<T>& h = heads[static_cast<size_t>(t / q_blocks)];
      const int64_t i0 = (t % q_blocks) * block;
      if (i0 < h.lq) qb.run(h, i0, std::min(block, h.lq - i0), static_cast<C>(scale));
    }
  });
}

#define XRT_INSTANTIATE(T)                                                                  \
  template void forward_heads<T>(const std::vector<HeadOperands<T>>&, int64_t, int64_t, double);
XRT_INSTANTIATE(float)
XRT_INSTANTIATE(double)
XRT_INSTANTIATE(float16_t)
XRT_INSTANTIATE(bfloat16_t)
#undef XRT_INSTANTIATE

xrt_status_t run_attention(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    const xrt_status_t bad = check_key_lengths(ctx, 4, ctx->inputs[1].shape[2]);
    if (bad != XRT_OK) return bad;
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      attention<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
