// "attention_decode" on CUDA, flash-decoding style. A block of 4 warps owns
// one (batch entry, kv head, 16 of the group's rows, key split): the rows are
// the (new query, q head) pairs that share the kv head, so each K and V tile
// is loaded once for all of them (grouped-query attention) and the 16 rows
// fill one mma.m16n8k16 M tile. K and V tiles of 64 keys stream through a
// cp.async ring (16-byte loads, two or three tiles in flight per block);
// each warp takes 16 keys of a tile with its own online softmax, and the
// four warps are merged at the end. Long caches are split over the key axis
// so that the grid fills the GPU; each split writes its rows normalized,
// with their log-sum-exp, and a second kernel combines the splits.
// f16 and bf16, head_dim 32, 64, 96, 128, 192 or 256 (q, k and v alike);
// sm_80 and newer.
#include <climits>
#include <cmath>

#include "attention/attention.h"
#include "attention/kv_cache_host.h"
#include "attention/mma.h"
#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"
#include "scratch.h"

namespace xrt::cuda::attn {

// One decode call as the kernels see it. Outside the anonymous namespace:
// the sm_75 pass, whose kernels are empty, would warn about unused helpers.
struct DecodeParams {
  const void* q;  // (batch, lq, heads, D)
  const void* k;  // cache rows of (heads_kv, D)
  const void* v;
  void* out;        // (batch, lq, heads, D)
  float* part_out;  // (splits, batch, lq, heads, D), when splits > 1
  float* part_lse;  // (splits, batch, lq, heads)
  const int32_t* seqlens;
  const int32_t* table;  // nullptr: contiguous cache
  int64_t max_blocks;
  int64_t num_blocks;  // paged: the cache's blocks
  int64_t capacity;    // positions a sequence can have
  int cache_rows;      // block_size (paged) or capacity (contiguous)
  int batch, lq, heads, heads_kv, group, row_tiles, splits;
  int causal, window;  // window -1: none
  float scale, scale_log2;

  // Keys [begin, end) seen by query qi of a sequence of len keys
  // (bottom-right: query qi sits on key len - lq + qi), as the CPU kernel's
  // KeyRange.
  __device__ __forceinline__ int key_begin(int qi, int len) const {
    if (window < 0) return 0;
    const long long from = static_cast<long long>(qi) + len - lq - window;
    return static_cast<int>(min(max(from, 0LL), static_cast<long long>(len)));
  }
  __device__ __forceinline__ int key_end(int qi, int len) const {
    return causal ? min(max(qi + len - lq + 1, 0), len) : len;
  }
  // The cache row of position pos (below capacity) of sequence b, or -1
  // where the block table names no block of the cache. The kernels run
  // before the host has checked the table (kv_cache_host.h), so they stay
  // inside the cache on bad values too; the call then fails.
  __device__ __forceinline__ int64_t cache_row(int b, int pos) const {
    if (!table) return static_cast<int64_t>(b) * cache_rows + pos;
    const int32_t block = table[static_cast<int64_t>(b) * max_blocks + pos / cache_rows];
    if (block < 0 || block >= num_blocks) return -1;
    return static_cast<int64_t>(block) * cache_rows + pos % cache_rows;
  }
  // Offset of row r's q or output row (in rows of D) and of its lse:
  // (b, qi, kvh * group + r % group).
  __device__ __forceinline__ int64_t row_index(int b, int kvh, int r) const {
    const int qi = r / group;
    return (static_cast<int64_t>(b) * lq + qi) * heads + kvh * group + r % group;
  }
};

namespace {

constexpr int kThreads = 128;  // 4 warps
constexpr int kWarps = kThreads / 32;
constexpr int kRows = 16;  // (query, head) rows per block: one mma M tile
constexpr int kBc = 64;    // keys per tile, 16 per warp
constexpr int kMaxSplits = 128;

template <int D>
struct Dec {
  static constexpr int kStride = D + 8;  // shared rows padded by 16 bytes
  static constexpr int kStages = D <= 128 ? 3 : 2;
  static constexpr int kTileElems = kBc * kStride;
  static constexpr int kAccStride = D + 4;  // fp32 rows of the warp merge
  // Q, then K and V of each stage; the warp merge reuses the ring.
  static constexpr size_t kRingBytes = (kRows * kStride + 2 * kStages * kTileElems) * 2;
  static constexpr size_t kMergeBytes = sizeof(float) * kWarps * kRows * kAccStride;
  static constexpr size_t kSmemBytes = kRingBytes > kMergeBytes ? kRingBytes : kMergeBytes;
};

// The cache row of each of a tile's keys (one per thread below kBc), or -1
// where nothing is read: positions at or past hi (the sequence's length,
// clamped to the capacity) and table entries naming no block of the cache.
__device__ __forceinline__ int64_t tile_row(const DecodeParams& p, int b, int j0, int hi,
                                            int tid) {
  const int pos = j0 + tid;
  return pos < hi ? p.cache_row(b, pos) : -1;
}

// One tile's K or V rows into shared memory, from the rows tile_row found;
// rows of -1 are zero.
template <class T, int D>
__device__ __forceinline__ void load_tile(T* dst, const T* cache, const int64_t* rows,
                                          const DecodeParams& p, int kvh, int tid) {
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  static_assert(kBc * kChunks % kThreads == 0, "tile does not split evenly over threads");
#pragma unroll
  for (int i = 0; i < kBc * kChunks / kThreads; ++i) {
    const int c = tid + i * kThreads;
    const int row = c / kChunks, col = (c % kChunks) * 8;
    const int64_t r = rows[row];
    const bool valid = r >= 0;
    const T* from = valid ? cache + (r * p.heads_kv + kvh) * D + col : cache;
    cp_async16(smem_u32(dst + row * Dec<D>::kStride + col), from, valid);
  }
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads)
    decode_split(const DecodeParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using C = Dec<D>;
  constexpr int kStride = C::kStride, kStages = C::kStages;
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ float s_max[kWarps][kRows], s_sum[kWarps][kRows], s_factor[kWarps][kRows];
  __shared__ float s_total[kRows], s_top[kRows];
  // Each stage's cache rows. A paged cache's rows take a dependent read of
  // the block table; looking them up once per key, a tile ahead, keeps that
  // read off the path of the K and V copies.
  __shared__ int64_t s_rows[kStages][kBc];
  T* sq = reinterpret_cast<T*>(smem);
  T* sk = sq + kRows * kStride;
  T* sv = sk + kStages * C::kTileElems;

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2, t = lane & 3;
  const int split = blockIdx.x;
  const int kvh = blockIdx.y / p.row_tiles, r0 = blockIdx.y % p.row_tiles * kRows;
  const int b = blockIdx.z;
  const int rows = p.lq * p.group;
  const int len = static_cast<int>(
      min(max(static_cast<long long>(p.seqlens[b]), 0LL), static_cast<long long>(p.capacity)));
  const T* q = static_cast<const T*>(p.q);
  const T* kc = static_cast<const T*>(p.k);
  const T* vc = static_cast<const T*>(p.v);

  // This split's keys: whole tiles, the same share of every sequence.
  const long long chunk = ((len + p.splits - 1LL) / p.splits + kBc - 1) / kBc * kBc;
  const int kb = static_cast<int>(min(split * chunk, static_cast<long long>(len)));
  const int ke = static_cast<int>(min(kb + chunk, static_cast<long long>(len)));
  // Keys any of the block's rows sees (begin and end grow with qi).
  const int r_last = min(r0 + kRows, rows) - 1;
  const int lo = max(kb, p.key_begin(r0 / p.group, len));
  const int hi = min(ke, p.key_end(r_last / p.group, len));
  const int first = lo / kBc * kBc;
  const int tiles = hi > lo ? (hi - first + kBc - 1) / kBc : 0;
  // The visible keys of this thread's rows g and g + 8 (none for padding rows).
  int row_lo[2], row_hi[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = r0 + g + 8 * r;
    const int qi = row / p.group;
    row_lo[r] = row < rows ? max(kb, p.key_begin(qi, len)) : 0;
    row_hi[r] = row < rows ? min(ke, p.key_end(qi, len)) : 0;
  }

  // Q rows (zero past the group's rows), then the first tiles of the ring.
  constexpr int kChunks = D / 8;
  for (int c = tid; c < kRows * kChunks; c += kThreads) {
    const int row = c / kChunks, col = (c % kChunks) * 8;
    const bool valid = r0 + row < rows;
    const T* from = valid ? q + p.row_index(b, kvh, r0 + row) * D + col : q;
    cp_async16(smem_u32(sq + row * kStride + col), from, valid);
  }
  if (tid < kBc) {
#pragma unroll
    for (int s = 0; s < kStages; ++s) {
      s_rows[s][tid] = s < tiles ? tile_row(p, b, first + s * kBc, hi, tid) : -1;
    }
  }
  __syncthreads();
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < tiles) {
      load_tile<T, D>(sk + s * C::kTileElems, kc, s_rows[s], p, kvh, tid);
      load_tile<T, D>(sv + s * C::kTileElems, vc, s_rows[s], p, kvh, tid);
    }
    cp_async_commit();
  }

  uint32_t qf[D / 16][4];
  float acc[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[n][e] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.0f, 0.0f};

  for (int it = 0; it < tiles; ++it) {
    cp_async_wait<kStages - 2>();  // Q and tile it have landed
    __syncthreads();               // ...for every thread; tile it - 1's stage is free
    if (it == 0) {
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        ldmatrix_x4(qf[kk], smem_u32(sq + (lane & 15) * kStride + kk * 16 + (lane >> 4) * 8));
      }
    }
    const int next = it + kStages - 1;
    if (next < tiles) {
      const int stage = next % kStages;
      load_tile<T, D>(sk + stage * C::kTileElems, kc, s_rows[stage], p, kvh, tid);
      load_tile<T, D>(sv + stage * C::kTileElems, vc, s_rows[stage], p, kvh, tid);
    }
    cp_async_commit();
    // The rows of tile next + 1, read now and stored after this tile's math
    // (into tile it's slot, whose copies are issued), so the read overlaps it.
    const int ahead = next + 1;
    const int64_t ahead_row =
        tid < kBc && ahead < tiles ? tile_row(p, b, first + ahead * kBc, hi, tid) : -1;

    // S = Q K^T over the warp's 16 keys: two n8 tiles.
    const int stage = it % kStages;
    const T* skb = sk + stage * C::kTileElems + warp * 16 * kStride;
    const T* svb = sv + stage * C::kTileElems + warp * 16 * kStride;
    float s[2][4];
#pragma unroll
    for (int n = 0; n < 2; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) s[n][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t bf[4];
      ldmatrix_x4(bf, smem_u32(skb + ((lane & 7) + ((lane >> 4) << 3)) * kStride + kk * 16 +
                               ((lane >> 3) & 1) * 8));
      mma16816<T>(s[0], qf[kk], bf[0], bf[1]);
      mma16816<T>(s[1], qf[kk], bf[2], bf[3]);
    }
    const int j0 = first + it * kBc + warp * 16;
#pragma unroll
    for (int n = 0; n < 2; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = j0 + n * 8 + 2 * t + (e & 1);
        const int r = e >> 1;
        if (col < row_lo[r] || col >= row_hi[r]) s[n][e] = -INFINITY;
      }
    }

    // Online softmax; a quad's four lanes hold one row's 16 scores.
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float mx = fmaxf(row_max[r], fmaxf(fmaxf(s[0][2 * r], s[0][2 * r + 1]),
                                         fmaxf(s[1][2 * r], s[1][2 * r + 1])));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      // A row with nothing visible yet keeps p = 0 instead of NaN.
      const float base = mx == -INFINITY ? 0.0f : mx * p.scale_log2;
      const float corr = exp2f(row_max[r] * p.scale_log2 - base);
      row_max[r] = mx;
      row_sum[r] *= corr;
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        acc[n][2 * r] *= corr;
        acc[n][2 * r + 1] *= corr;
      }
#pragma unroll
      for (int n = 0; n < 2; ++n) {
        const float p0 = exp2f(fmaf(s[n][2 * r], p.scale_log2, -base));
        const float p1 = exp2f(fmaf(s[n][2 * r + 1], p.scale_log2, -base));
        s[n][2 * r] = p0;
        s[n][2 * r + 1] = p1;
        row_sum[r] += p0 + p1;
      }
    }

    // O += P V: P's C fragments are the A fragment of the warp's 16 keys.
    const uint32_t a[4] = {pack2<T>(s[0][0], s[0][1]), pack2<T>(s[0][2], s[0][3]),
                           pack2<T>(s[1][0], s[1][1]), pack2<T>(s[1][2], s[1][3])};
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t bf[4];
      ldmatrix_x4_trans(bf, smem_u32(svb + (lane & 15) * kStride + dp * 16 + (lane >> 4) * 8));
      mma16816<T>(acc[2 * dp], a, bf[0], bf[1]);
      mma16816<T>(acc[2 * dp + 1], a, bf[2], bf[3]);
    }
    if (tid < kBc) s_rows[ahead % kStages][tid] = ahead_row;
  }
  cp_async_wait<0>();

  // Merge the four warps: row maxima and sums, then the rescaled outputs
  // summed through shared memory (the ring is free once all warps are here).
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float l = row_sum[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    if (t == 0) {
      s_max[warp][g + 8 * r] = row_max[r];
      s_sum[warp][g + 8 * r] = l;
    }
  }
  __syncthreads();
  if (tid < kRows) {
    float top = -INFINITY;
    for (int w = 0; w < kWarps; ++w) top = fmaxf(top, s_max[w][tid]);
    float total = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      const float f = s_max[w][tid] == -INFINITY ? 0.0f
                                                 : exp2f((s_max[w][tid] - top) * p.scale_log2);
      s_factor[w][tid] = f;
      total += s_sum[w][tid] * f;
    }
    s_top[tid] = top;
    s_total[tid] = total;
  }
  __syncthreads();
  float* sacc = reinterpret_cast<float*>(smem) + warp * kRows * C::kAccStride;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float f = s_factor[warp][g + 8 * r];
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      *reinterpret_cast<float2*>(sacc + (g + 8 * r) * C::kAccStride + n * 8 + 2 * t) =
          make_float2(acc[n][2 * r] * f, acc[n][2 * r + 1] * f);
    }
  }
  __syncthreads();
  const float* merged = reinterpret_cast<const float*>(smem);
  for (int c = tid; c < kRows * D / 4; c += kThreads) {
    const int row = c / (D / 4), col = c % (D / 4) * 4;
    if (r0 + row >= rows) continue;
    float4 o = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float4 x =
          *reinterpret_cast<const float4*>(merged + (w * kRows + row) * C::kAccStride + col);
      o.x += x.x;
      o.y += x.y;
      o.z += x.z;
      o.w += x.w;
    }
    // Rows that see no key (fully masked, or none in this split) give 0.
    const float total = s_total[row];
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;
    const int64_t index = p.row_index(b, kvh, r0 + row);
    if (p.splits == 1) {
      const uint2 packed = make_uint2(pack2<T>(o.x * inv, o.y * inv), pack2<T>(o.z * inv, o.w * inv));
      *reinterpret_cast<uint2*>(static_cast<T*>(p.out) + index * D + col) = packed;
    } else {
      const int64_t part = static_cast<int64_t>(split) * p.batch * p.lq * p.heads + index;
      *reinterpret_cast<float4*>(p.part_out + part * D + col) =
          make_float4(o.x * inv, o.y * inv, o.z * inv, o.w * inv);
      if (col == 0) {
        p.part_lse[part] = total > 0.0f ? s_top[row] * p.scale + logf(total) : -INFINITY;
      }
    }
  }
#endif
}

// out row = sum over splits of exp(lse_s - max) * part_s, normalized; one
// warp per (batch, query, head) row.
template <class T>
__global__ void __launch_bounds__(kThreads)
    combine_splits(const float* __restrict__ part_out, const float* __restrict__ part_lse,
                   T* __restrict__ out, int64_t num_rows, int splits, int d) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= num_rows) return;
  float top = -INFINITY;
  for (int s = 0; s < splits; ++s) top = fmaxf(top, part_lse[s * num_rows + row]);
  for (int col = lane * 4; col < d; col += 128) {
    float4 o = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    float total = 0.0f;
    if (top != -INFINITY) {
      for (int s = 0; s < splits; ++s) {
        const float lse = part_lse[s * num_rows + row];
        if (lse == -INFINITY) continue;
        const float w = __expf(lse - top);
        const float4 x =
            *reinterpret_cast<const float4*>(part_out + (s * num_rows + row) * d + col);
        o.x += w * x.x;
        o.y += w * x.y;
        o.z += w * x.z;
        o.w += w * x.w;
        total += w;
      }
    }
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;
    *reinterpret_cast<uint2*>(out + row * d + col) =
        make_uint2(pack2<T>(o.x * inv, o.y * inv), pack2<T>(o.z * inv, o.w * inv));
  }
#endif
}

// Splits of the key axis: enough blocks for about four waves of the GPU,
// each split at least 4 tiles (256 keys) long.
int choose_splits(int64_t blocks, int resident, int64_t max_len) {
  const int64_t want = (4 * static_cast<int64_t>(resident) + blocks - 1) / blocks;
  const int64_t most = std::max<int64_t>(1, max_len / (4 * kBc));
  return static_cast<int>(std::clamp<int64_t>(std::min(want, most), 1, kMaxSplits));
}

template <class T, int D>
xrt_status_t launch(const xrt_kernel_context_t* ctx, DecodeParams& p, int64_t max_len,
                    cudaStream_t stream) {
  using C = Dec<D>;
  auto kernel = decode_split<T, D>;
  xrt_status_t status = allow_smem(ctx, reinterpret_cast<const void*>(kernel), C::kSmemBytes);
  if (status != XRT_OK) return status;
  int per_sm = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, C::kSmemBytes) !=
          cudaSuccess ||
      per_sm < 1) {
    per_sm = 1;
  }
  const int64_t blocks = static_cast<int64_t>(p.batch) * p.heads_kv * p.row_tiles;
  p.splits = choose_splits(blocks, sm_count() * per_sm, max_len);
  const int64_t num_rows = static_cast<int64_t>(p.batch) * p.lq * p.heads;
  char* scratch = nullptr;
  if (p.splits > 1) {
    const size_t out_bytes = scratch_bytes(sizeof(float) * p.splits * num_rows * D);
    const size_t total = out_bytes + sizeof(float) * p.splits * num_rows;
    scratch = static_cast<char*>(scratch_alloc(total, stream));
    if (!scratch) {
      return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cuda %s: no memory for %zu bytes of scratch",
                  op_name(ctx), total);
    }
    p.part_out = reinterpret_cast<float*>(scratch);
    p.part_lse = reinterpret_cast<float*>(scratch + out_bytes);
  }
  const dim3 grid(static_cast<unsigned>(p.splits), static_cast<unsigned>(p.heads_kv * p.row_tiles),
                  static_cast<unsigned>(p.batch));
  kernel<<<grid, kThreads, C::kSmemBytes, stream>>>(p);
  status = check_launch(ctx);
  if (status == XRT_OK && p.splits > 1) {
    const auto combine_blocks = static_cast<unsigned>((num_rows + kWarps - 1) / kWarps);
    combine_splits<T><<<combine_blocks, kThreads, 0, stream>>>(
        p.part_out, p.part_lse, static_cast<T*>(p.out), num_rows, p.splits, D);
    status = check_launch(ctx);
  }
  scratch_free(scratch, stream);
  return status;
}

template <class T>
xrt_status_t launch_dtype(const xrt_kernel_context_t* ctx, DecodeParams& p, int d,
                          int64_t max_len, cudaStream_t stream) {
  switch (d) {
    case 32: return launch<T, 32>(ctx, p, max_len, stream);
    case 64: return launch<T, 64>(ctx, p, max_len, stream);
    case 96: return launch<T, 96>(ctx, p, max_len, stream);
    case 128: return launch<T, 128>(ctx, p, max_len, stream);
    case 192: return launch<T, 192>(ctx, p, max_len, stream);
    default: return launch<T, 256>(ctx, p, max_len, stream);
  }
}

// Unsupported, with the reason, for what these kernels do not cover.
xrt_status_t check_decode_supported(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& q = ctx->inputs[0];
  const char* op = op_name(ctx);
  if (q.dtype != XRT_FLOAT16 && q.dtype != XRT_BFLOAT16) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: dtype %s is not supported (float16 and bfloat16 are)", op,
                dtype_name(q.dtype));
  }
  const int64_t d = q.shape[3], dv = ctx->inputs[2].shape[3];
  if (d != dv || (d != 32 && d != 64 && d != 96 && d != 128 && d != 192 && d != 256)) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: head_dim %lld (q, k_cache) and %lld (v_cache) is not supported; "
                "head_dim must be 32, 64, 96, 128, 192 or 256 for q, k and v alike",
                op, static_cast<long long>(d), static_cast<long long>(dv));
  }
  const int64_t rows = q.shape[1] * (q.shape[2] / ctx->inputs[1].shape[2]);
  const int64_t row_tiles = (rows + kRows - 1) / kRows;
  // Grid axes y and z; rows and positions are int on the device.
  if (q.shape[0] > 65535 || ctx->inputs[1].shape[2] * row_tiles > 65535 ||
      q.shape[1] * q.shape[2] > INT_MAX || ctx->inputs[1].shape[1] > INT_MAX) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: too large: batch %lld (at most 65535), heads_kv %lld x %lld row tiles "
                "(at most 65535), q_len x heads %lld, cache rows %lld (at most %d)",
                op, static_cast<long long>(q.shape[0]),
                static_cast<long long>(ctx->inputs[1].shape[2]), static_cast<long long>(row_tiles),
                static_cast<long long>(q.shape[1] * q.shape[2]),
                static_cast<long long>(ctx->inputs[1].shape[1]), INT_MAX);
  }
  return check_aligned_on_sm80(ctx, op, 3);
}

}  // namespace
}  // namespace xrt::cuda::attn

namespace xrt::cuda {

xrt_status_t run_attention_decode(const xrt_kernel_context_t* ctx) {
  xrt_status_t status = attn::check_decode_supported(ctx);
  if (status != XRT_OK) return status;
  const xrt_kernel_tensor_t& q = ctx->inputs[0];
  const cudaStream_t stream = stream_of(ctx);
  attn::KvCache cache = attn::kv_cache_of(ctx, 1, 3);
  // The lengths and table are checked while the kernels run (see
  // DecodeParams::cache_row); a refused call's output is not returned.
  attn::CacheReadback readback;
  status = readback.start(ctx, cache, q.shape[0], stream);
  if (status != XRT_OK) return status;
  if (numel(q) == 0) return readback.finish(ctx, cache, 0);
  attn::DecodeParams p{};
  p.q = q.data;
  p.k = ctx->inputs[1].data;
  p.v = ctx->inputs[2].data;
  p.out = ctx->outputs[0].data;
  p.seqlens = cache.seqlens;
  p.table = cache.table;
  p.max_blocks = cache.max_blocks;
  p.num_blocks = ctx->inputs[1].shape[0];
  p.capacity = cache.table ? cache.max_blocks * cache.rows() : cache.rows();
  p.cache_rows = static_cast<int>(cache.rows());
  p.batch = static_cast<int>(q.shape[0]);
  p.lq = static_cast<int>(q.shape[1]);
  p.heads = static_cast<int>(q.shape[2]);
  p.heads_kv = static_cast<int>(ctx->inputs[1].shape[2]);
  p.group = p.heads / p.heads_kv;
  p.row_tiles = (p.lq * p.group + attn::kRows - 1) / attn::kRows;
  p.causal = attr_int(ctx, "causal", 1) != 0;
  p.window = static_cast<int>(std::min<int64_t>(attr_int(ctx, "window_left", -1), INT_MAX));
  const int d = static_cast<int>(q.shape[3]);
  p.scale = static_cast<float>(attr_float(ctx, "scale", 1.0 / std::sqrt(double(d))));
  p.scale_log2 = p.scale * attn::kLog2e;
  // Splits are sized for full sequences: the lengths are not on the host yet.
  status = q.dtype == XRT_FLOAT16 ? attn::launch_dtype<__half>(ctx, p, d, p.capacity, stream)
                                  : attn::launch_dtype<__nv_bfloat16>(ctx, p, d, p.capacity,
                                                                      stream);
  const xrt_status_t checked = readback.finish(ctx, cache, 0);
  return status != XRT_OK ? status : checked;
}

}  // namespace xrt::cuda
