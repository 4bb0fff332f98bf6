// "attention_decode": new queries q (B, Lq, H, D) at the end of each cached
// sequence against its first cache_seqlens[b] keys, and "kv_cache_append",
// which writes new keys and values into the cache. A cache is contiguous
// (B, capacity, Hkv, D) or paged (num_blocks, block_size, Hkv, D) with
// block_table (B, max_blocks): position p of sequence b lives in block
// block_table[b][p / block_size], row p % block_size.
#include <cmath>
#include <cstring>
#include <vector>

#include "attention_head.h"
#include "backends/common/kv_cache_check.h"
#include "kernels.h"
#include "kernel_util.h"

namespace xrt::cpu {
namespace {

// Where the cache rows of a call live; inputs from `cache` (k_cache,
// v_cache), cache_seqlens at `lens`, block_table at lens + 1.
struct Cache {
  const xrt_kernel_tensor_t& k;
  const int32_t* seqlens;
  const int32_t* table;  // nullptr: contiguous
  int64_t max_blocks;

  int64_t block_size() const { return k.shape[1]; }
  // The cache row (over axes 0 and 1) holding position pos of sequence b.
  int64_t row(int64_t b, int64_t pos) const {
    if (!table) return b * k.shape[1] + pos;
    return int64_t{table[b * max_blocks + pos / block_size()]} * block_size() +
           pos % block_size();
  }
};

Cache cache_of(const xrt_kernel_context_t* ctx, size_t cache, size_t lens) {
  const xrt_kernel_tensor_t& t = ctx->inputs[lens + 1];
  return {ctx->inputs[cache], static_cast<const int32_t*>(ctx->inputs[lens].data),
          static_cast<const int32_t*>(t.data), t.data ? t.shape[1] : 0};
}

xrt_status_t check_cache(const xrt_kernel_context_t* ctx, const Cache& c, int64_t batch,
                         int64_t extra) {
  const kernel::KvCacheShape shape{c.k.shape[0], c.k.shape[1], c.table, c.max_blocks};
  return kernel::check_kv_cache(ctx, shape, c.seqlens, batch, extra);
}

// One head list entry per (sequence, kv head): its query heads go in as
// one block of rows, so each key tile is read once for the group, straight
// from the cache (contiguous or paged).
template <class T>
void decode(const xrt_kernel_context_t* ctx, const Cache& c) {
  const xrt_kernel_tensor_t& tq = ctx->inputs[0];
  const int64_t batch = tq.shape[0], lq = tq.shape[1], h = tq.shape[2], d = tq.shape[3];
  const int64_t hk = c.k.shape[2], dv = ctx->inputs[2].shape[3], group = h / hk;
  const MaskAttrs attrs{attr_int(ctx, "causal", 1) != 0, attr_int(ctx, "window_left", -1), true};
  const T* kc = static_cast<const T*>(c.k.data);
  const T* vc = static_cast<const T*>(ctx->inputs[2].data);
  const T* q = static_cast<const T*>(tq.data);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  std::vector<HeadOperands<T>> heads;
  heads.reserve(static_cast<size_t>(batch * hk));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = c.seqlens[b];
    // A contiguous cache's sequence b starts at row b * capacity.
    const int64_t first_row = c.table ? 0 : b * c.k.shape[1];
    for (int64_t kv = 0; kv < hk; ++kv) {
      HeadOperands<T> head{q + (b * lq * h + kv * group) * d,
                           kc + first_row * hk * d + kv * d,
                           vc + first_row * hk * dv + kv * dv,
                           h * d, hk * d, hk * dv, lq * group, len,
                           key_range(attrs, lq, len), MaskView{},
                           out + (b * lq * h + kv * group) * dv, h * dv, nullptr};
      head.group = group;
      head.q_head_stride = d;
      head.out_head_stride = dv;
      if (c.table) {
        head.block_table = c.table + b * c.max_blocks;
        head.block_size = c.block_size();
      }
      heads.push_back(head);
    }
  }
  forward_heads(heads, d, dv, attr_float(ctx, "scale", 1.0 / std::sqrt(double(d))));
}

// k, v (B, L, Hkv, D) into the caches at positions seqlens[b] .. + L.
void append(const xrt_kernel_context_t* ctx, const Cache& c) {
  const xrt_kernel_tensor_t& k = ctx->inputs[2];
  const xrt_kernel_tensor_t& v = ctx->inputs[3];
  const int64_t batch = k.shape[0], len = k.shape[1];
  const size_t esize = dtypes::size_of(k.dtype);
  const size_t k_row = size_t(k.shape[2] * k.shape[3]) * esize;
  const size_t v_row = size_t(v.shape[2] * v.shape[3]) * esize;
  char* kc = static_cast<char*>(ctx->inputs[0].data);
  char* vc = static_cast<char*>(ctx->inputs[1].data);
  int32_t* lens = static_cast<int32_t*>(ctx->outputs[0].data);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < len; ++t) {
      const int64_t row = c.row(b, c.seqlens[b] + t);
      const int64_t src = b * len + t;
      std::memcpy(kc + size_t(row) * k_row, static_cast<const char*>(k.data) + size_t(src) * k_row,
                  k_row);
      std::memcpy(vc + size_t(row) * v_row, static_cast<const char*>(v.data) + size_t(src) * v_row,
                  v_row);
    }
    lens[b] = static_cast<int32_t>(c.seqlens[b] + len);
  }
}

}  // namespace

xrt_status_t run_attention_decode(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    const Cache c = cache_of(ctx, 1, 3);
    const xrt_status_t bad = check_cache(ctx, c, ctx->inputs[0].shape[0], 0);
    if (bad != XRT_OK) return bad;
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      decode<typename decltype(tag)::type>(ctx, c);
      return XRT_OK;
    });
  });
}

xrt_status_t run_kv_cache_append(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    const Cache c = cache_of(ctx, 0, 4);
    const xrt_status_t bad = check_cache(ctx, c, ctx->inputs[2].shape[0], ctx->inputs[2].shape[1]);
    if (bad != XRT_OK) return bad;
    append(ctx, c);
    return XRT_OK;
  });
}

}  // namespace xrt::cpu
