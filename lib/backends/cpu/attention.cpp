// "attention": softmax(q k^T * scale + mask) v per (batch, head), and the
// forward core every CPU attention op shares (forward_heads). Queries are
// processed in blocks and keys in tiles with a running (online) softmax, so
// memory stays O(block) whatever Lk is; both products of a tile run on the
// GEMM micro-kernels over operands packed once per block and tile. Scores
// and accumulators use float (double for float64).
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
#include "gemm_pack.h"
#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace xrt::cpu {
namespace {

constexpr int64_t kKeyTile = 128;

// One thread's state for a block of queries of one head. It works on the
// transposed problem, one column per query: S^T = K Q^T, then
// O^T += V^T P^T, so the softmax runs down columns, vectorised across
// queries, and P^T is already in the packed layout the second product
// reads. The scaled queries are packed once per block; a key tile's V once
// per tile, for every query of the block, and its K rows are read where
// they are.
template <class T>
class QueryBlock {
  using C = compute_t<T>;

 public:
  QueryBlock(int64_t d, int64_t dv, int64_t block)
      : d_(d),
        dv_(dv),
        mr_(gemm_strip_rows<C>()),
        nr_(gemm_strip_cols<C>()),
        np_max_(round_up(block, nr_)),
        qb_(static_cast<size_t>(np_max_ * d)),
        kc_(std::is_same_v<T, C> ? 0 : static_cast<size_t>(kKeyTile * d)),
        va_(static_cast<size_t>(round_up(dv, mr_) * kKeyTile)),
        st_(static_cast<size_t>(np_max_ * kKeyTile)),
        acc_(static_cast<size_t>(dv * np_max_)),
        columns_(static_cast<size_t>(6 * np_max_)),
        lo_(static_cast<size_t>(np_max_)),
        hi_(static_cast<size_t>(np_max_)),
        q_rows_(static_cast<size_t>(np_max_)),
        v_rows_(static_cast<size_t>(kKeyTile)),
        k_rows_(static_cast<size_t>(kKeyTile)) {}

  // Queries [i0, i0 + rows) of head h.
  void run(const HeadOperands<T>& h, int64_t i0, int64_t rows, C scale) {
    const int64_t d = d_, np = round_up(rows, nr_);
    for (int64_t i = 0; i < rows; ++i) q_rows_[size_t(i)] = h.q_row(i0 + i);
    pack_b_strips(0, np / nr_, d, rows, nr_, qb_.data(), [&](int64_t c, int64_t i) {
      return load(q_rows_[size_t(i)] + c) * scale;
    });
    C* m = column(0);
    C* l = column(1);
    std::fill(m, m + np, -std::numeric_limits<C>::infinity());
    std::fill(l, l + np, C(0));
    std::fill(acc_.begin(), acc_.begin() + dv_ * np, C(0));
    for (int64_t i = 0; i < np; ++i) {
      // Padding columns see every key: finite, and never written out.
      lo_[i] = i < rows ? h.keys.begin(h.position(i0 + i)) : 0;
      hi_[i] = i < rows ? h.keys.end(h.position(i0 + i)) : h.lk;
    }
    // Key tiles outside every query's range are skipped.
    const int64_t key_begin = lo_[0], key_end = hi_[rows - 1];
    for (int64_t j0 = key_begin; j0 < key_end; j0 += kKeyTile) {
      const int64_t cols = std::min(kKeyTile, key_end - j0);
      load_tile(h, j0, cols);
      for (int64_t s = 0; s < np / nr_; ++s) {
        gemm_rows(cols, nr_, d, k_rows_.data(), qb_.data() + s * nr_ * d, strip(s, cols), nr_,
                  false);
      }
      // Every query of the block sees the whole tile unless it starts
      // before the last query's first key or ends after the first's last.
      if (lo_[rows - 1] > j0 || hi_[0] < j0 + cols) {
        for (int64_t s = 0; s < np / nr_; ++s) {
          hide_unseen_keys(strip(s, cols), cols, nr_, j0, lo_.data() + s * nr_,
                           hi_.data() + s * nr_);
        }
      }
      if (h.mask.data) add_mask(h, i0, rows, j0, cols);
      update(np, cols);
    }
    for (int64_t i = 0; i < rows; ++i) {
      // A query that saw no key keeps l == 0: zeros, lse -inf.
      const C inv = l[i] > 0 ? C(1) / l[i] : C(0);
      T* o = h.out_row(i0 + i);
      for (int64_t c = 0; c < dv_; ++c) store(o + c, acc_[static_cast<size_t>(c * np + i)] * inv);
      if (h.lse) {
        h.lse[i0 + i] = l[i] > 0 ? static_cast<float>(m[i] + std::log(l[i]))
                                 : -std::numeric_limits<float>::infinity();
      }
    }
  }

 private:
  // Per-query values: 0 running max, 1 running sum, 2 tile max, 3 shift,
  // 4 tile sum, 5 rescale factor.
  C* column(int64_t which) { return columns_.data() + which * np_max_; }

  // Strip s of S^T: keys (cols) x nr_ queries.
  C* strip(int64_t s, int64_t cols) { return st_.data() + s * nr_ * cols; }

  // Points k_rows_ at the tile's keys, read in place when stored in the
  // compute type, else converted; packs V transposed, (dv, cols).
  void load_tile(const HeadOperands<T>& h, int64_t j0, int64_t cols) {
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t row = h.key_row(j0 + j);
      const T* k = h.k + row * h.k_stride;
      if constexpr (std::is_same_v<T, C>) {
        k_rows_[size_t(j)] = k;
      } else {
        C* row = kc_.data() + j * d_;
        for (int64_t c = 0; c < d_; ++c) row[c] = load(k + c);
        k_rows_[size_t(j)] = row;
      }
      v_rows_[size_t(j)] = h.v + row * h.v_stride;
    }
    pack_a_strips(dv_, cols, mr_, va_.data(),
                  [&](int64_t c, int64_t j) { return load(v_rows_[size_t(j)] + c); });
  }

  void add_mask(const HeadOperands<T>& h, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
    for (int64_t i = 0; i < rows; ++i) {
      C* x = strip(i / nr_, cols) + i % nr_;
      const int64_t qi = h.position(i0 + i);
      for (int64_t j = 0; j < cols; ++j) x[j * nr_] += h.mask.template add<C>(qi, j0 + j);
    }
  }

  // The online softmax step: scores to probabilities against each query's
  // new running max, the running sums, and the accumulator rescaled for the
  // new max before this tile's P V is added.
  void update(int64_t np, int64_t cols) {
    constexpr C kNegInf = -std::numeric_limits<C>::infinity();
    C *m = column(0), *l = column(1), *tile_max = column(2), *shift = column(3),
      *sum = column(4), *rescale = column(5);
    std::fill(tile_max, tile_max + np, kNegInf);
    std::fill(sum, sum + np, C(0));
    for (int64_t s = 0; s < np / nr_; ++s) {
      max_columns(strip(s, cols), cols, nr_, tile_max + s * nr_);
    }
    for (int64_t q = 0; q < np; ++q) {
      const C m_new = std::max(m[q], tile_max[q]);
      // Nothing seen yet: shift by 0 so -inf scores give 0, not NaN.
      shift[q] = m_new == kNegInf ? C(0) : m_new;
      rescale[q] = std::exp(m[q] - shift[q]);
      m[q] = m_new;
    }
    for (int64_t s = 0; s < np / nr_; ++s) {
      exp_shifted_columns(strip(s, cols), cols, nr_, shift + s * nr_, sum + s * nr_);
    }
    for (int64_t q = 0; q < np; ++q) l[q] = l[q] * rescale[q] + sum[q];
    for (int64_t c = 0; c < dv_; ++c) {
      C* a = acc_.data() + c * np;
      for (int64_t q = 0; q < np; ++q) a[q] *= rescale[q];
    }
    gemm_packed(dv_, np, cols, va_.data(), st_.data(), acc_.data(), np, true);
  }

  int64_t d_, dv_, mr_, nr_, np_max_;
  std::vector<C> qb_, kc_, va_, st_, acc_, columns_;
  std::vector<int64_t> lo_, hi_;
  std::vector<const T*> q_rows_, v_rows_;
  std::vector<const C*> k_rows_;
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
  // Larger blocks amortise packing each key tile over more queries, but
  // waste more of the tile on the diagonal when keys are cut off per query.
  bool banded = false;
  for (const HeadOperands<T>& h : heads) banded = banded || h.keys.causal || h.keys.window >= 0;
  const int64_t block = query_block({n, max_lq, max_lk, d, dv}, banded ? kKeyTile : 2 * kKeyTile);
  const int64_t q_blocks = ceil_div(max_lq, block);
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
