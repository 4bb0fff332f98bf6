// "attention_backward", FlashAttention-2 style:
//  1. the forward kernel recomputes O and the row log-sum-exp (scratch);
//  2. delta_i = rowsum(dO_i * O_i) in fp32;
//  3. one block of 8 warps per (batch*kv head, 64 keys) walks the query
//     tiles (64 rows, cp.async double-buffered) of every q head reading that
//     kv head (grouped-query attention: dK and dV are sums over the group,
//     kept in registers, no atomics) and, with fp32 accumulators,
//       P^T = exp2(K Q^T * scale*log2e - lse*log2e)   dP^T = V dO^T
//       dS^T = P^T * (dP^T - delta)                    dV += P^T dO
//       dK += dS^T Q                                   dQ += dS K (fp32 atomics)
//     P^T and dS^T go through shared memory so that every warp can use them
//     as A operands (and dS, via ldmatrix.trans, for dQ);
//  4. dQ is scaled and converted to the dtype.
// dK and dV stay in registers until the block ends; dK is scaled there.
//
// Masks (key_rule.h): a block walks only the query tiles that see some of
// its keys and applies the index rule and attn_mask on the tiles that need
// them; keys no query sees get zero gradients, and so do queries that see
// no key (their lse is -inf: P = 0).
#include <cmath>

#include "attention/attention.h"
#include "attention/head_span.h"
#include "attention/key_rule.h"
#include "attention/mask_support.h"
#include "attention/mma.h"
#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"
#include "scratch.h"

namespace xrt::cuda::attn {
namespace {

template <int D>
struct Bwd {
  static constexpr int kThreads = 256;
  static constexpr int kBc = 64;  // keys per block
  static constexpr int kBr = 64;  // queries per step
  static constexpr int kStride = D + 8;
  static constexpr int kPStride = kBr + 8;
  static constexpr int kKvElems = kBc * kStride;
  static constexpr int kQElems = kBr * kStride;
  static constexpr int kPElems = kBc * kPStride;
  // K, V, Q[2], dO[2], P^T, dS^T (16-bit), then lse[2] and delta[2] (fp32).
  static constexpr size_t kHalfBytes = (2 * kKvElems + 4 * kQElems + 2 * kPElems) * 2;
  static constexpr size_t kSmemBytes = kHalfBytes + 4 * kBr * 4;
};

// The query tile i0 of one (batch, head): Q and dO rows (stride elements
// apart), lse and delta.
template <class T, int D>
__device__ __forceinline__ void load_query_tile(T* sq, T* sdo, float* slse, float* sdelta,
                                                const T* qh, const T* doh, const float* lseh,
                                                const float* deltah, int i0, int lq, int stride,
                                                int tid) {
  using C = Bwd<D>;
  load_rows<T, D, C::kBr, C::kStride, C::kThreads>(sq, qh, i0, lq, tid, stride);
  load_rows<T, D, C::kBr, C::kStride, C::kThreads>(sdo, doh, i0, lq, tid, stride);
  if (tid < C::kBr) {
    const bool valid = i0 + tid < lq;
    cp_async4(smem_u32(slse + tid), valid ? lseh + i0 + tid : lseh, valid);
    cp_async4(smem_u32(sdelta + tid), valid ? deltah + i0 + tid : deltah, valid);
  }
}

template <class T, int D>
__global__ void __launch_bounds__(Bwd<D>::kThreads, D <= 64 ? 2 : 1)
    flash_backward(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                   const T* __restrict__ dout, const float* __restrict__ lse,
                   const float* __restrict__ delta, float* __restrict__ dq_acc,
                   T* __restrict__ dk, T* __restrict__ dv, int max_lq, int max_lk,
                   float scale, float scale_log2, float inv_scale, int causal, int group,
                   Masks masks, Packing packing) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using C = Bwd<D>;
  constexpr int kBr = C::kBr, kBc = C::kBc, kStride = C::kStride, kPStride = C::kPStride;
  constexpr int kThreads = C::kThreads;
  constexpr int kHalfTiles = D / 16;  // n8 tiles in half of D
  extern __shared__ __align__(16) unsigned char smem[];
  T* sk = reinterpret_cast<T*>(smem);
  T* sv = sk + C::kKvElems;
  T* sq = sv + C::kKvElems;
  T* sdo = sq + 2 * C::kQElems;
  T* sp = sdo + 2 * C::kQElems;
  T* sds = sp + C::kPElems;
  float* slse = reinterpret_cast<float*>(smem + C::kHalfBytes);
  float* sdelta = slse + 2 * kBr;

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2, t = lane & 3;
  // kv head bkv = b * Hkv + g is read by q heads bkv * group + r, r < group.
  const int64_t bkv = blockIdx.x;
  const int k0 = blockIdx.y * kBc;
  // The group's first q head; the others follow span.next_q elements apart.
  const HeadSpan span = head_span<D>(packing, bkv * group, masks.heads, group, max_lq, max_lk);
  const int lq = span.lq, lk = span.lk;
  if (k0 >= lk) return;  // a packed sequence shorter than the longest
  const int batch = static_cast<int>(bkv * group / masks.heads);
  const KeyRule rule = key_rule(masks, batch, lq, lk, causal != 0);
  // The queries that see some of keys [k0, k0 + kBc): from the first whose
  // causal end passes k0 to the last whose window begins by the block's last key.
  const int k_last = min(k0 + kBc, rule.valid) - 1;
  const int i_begin = causal ? max(k0 - rule.offset, 0) / kBr * kBr : 0;
  const int i_end = k_last < k0 ? 0
                    : rule.window < 0 ? lq
                                      : min(lq, k_last - rule.offset + rule.window + 1);
  const int steps = i_end > i_begin ? (i_end - i_begin + kBr - 1) / kBr : 0;
  // Step `it` is query tile it % steps of q head bkv * group + it / steps.
  const int total = steps * group;
  const auto head_of = [&](int it) { return it / steps; };  // within the group
  const auto tile_of = [&](int it) { return i_begin + it % steps * kBr; };
  const auto load_step = [&](int it, int buf) {
    const int64_t member = head_of(it);
    const int64_t at = span.q + member * span.next_q;
    const int64_t rows = span.rows + member * span.next_rows;
    load_query_tile<T, D>(sq + buf * C::kQElems, sdo + buf * C::kQElems, slse + buf * kBr,
                          sdelta + buf * kBr, q + at, dout + at, lse + rows, delta + rows,
                          tile_of(it), lq, span.q_stride, tid);
  };

  if (total > 0) {
    load_rows<T, D, kBc, kStride, kThreads>(sk, k + span.kv, k0, lk, tid, span.kv_stride);
    load_rows<T, D, kBc, kStride, kThreads>(sv, v + span.kv, k0, lk, tid, span.kv_stride);
    load_step(0, 0);
    cp_async_commit();
  }

  // Phase 1 tiles: 16 keys x 32 queries per warp. Phase 2 tiles: 16 keys
  // (dK, dV) or 16 queries (dQ) x half of D per warp.
  const int kg = (warp & 3) * 16;
  const int qh32 = (warp >> 2) * 32;
  const int dh = (warp >> 2) * (D / 2);
  float dk_acc[kHalfTiles][4], dv_acc[kHalfTiles][4];
#pragma unroll
  for (int n = 0; n < kHalfTiles; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk_acc[n][e] = dv_acc[n][e] = 0.0f;

  for (int it = 0; it < total; ++it) {
    const int buf = it & 1;
    const int member = head_of(it);
    const int i0 = tile_of(it);
    float* dqh = dq_acc + span.q + static_cast<int64_t>(member) * span.next_q;
    const MaskReader<T> mask =
        mask_reader<T>(masks, batch, static_cast<int>((bkv * group + member) % masks.heads));
    cp_async_wait<0>();  // this step's tile, issued one step ago
    __syncthreads();
    if (it + 1 < total) load_step(it + 1, buf ^ 1);
    cp_async_commit();
    const T* sqb = sq + buf * C::kQElems;
    const T* sdob = sdo + buf * C::kQElems;
    const float* slseb = slse + buf * kBr;
    const float* sdeltab = sdelta + buf * kBr;

    // Phase 1: S^T = K Q^T and dP^T = V dO^T. K and V rows are A rows
    // (plain ldmatrix); Q and dO rows are B columns (plain ldmatrix, matrices
    // n 0-7 k 0-7, n 0-7 k 8-15, n 8-15 k 0-7, n 8-15 k 8-15).
    float st[4][4], dpt[4][4];
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) st[n][e] = dpt[n][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const int a_off = (kg + (lane & 15)) * kStride + kk * 16 + (lane >> 4) * 8;
      uint32_t ka[4], va[4];
      ldmatrix_x4(ka, smem_u32(sk + a_off));
      ldmatrix_x4(va, smem_u32(sv + a_off));
#pragma unroll
      for (int np = 0; np < 2; ++np) {
        const int b_off = (qh32 + np * 16 + (lane & 7) + ((lane >> 4) << 3)) * kStride +
                          kk * 16 + ((lane >> 3) & 1) * 8;
        uint32_t b[4];
        ldmatrix_x4(b, smem_u32(sqb + b_off));
        mma16816<T>(st[2 * np], ka, b[0], b[1]);
        mma16816<T>(st[2 * np + 1], ka, b[2], b[3]);
        ldmatrix_x4(b, smem_u32(sdob + b_off));
        mma16816<T>(dpt[2 * np], va, b[0], b[1]);
        mma16816<T>(dpt[2 * np + 1], va, b[2], b[3]);
      }
    }

    // Rows of st are keys k0 + kg + g (+8), columns queries i0 + qh32 + 8n + 2t (+1).
    // Whole when every key lies before the first query's end and at or
    // after the last query's begin.
    const bool need_mask = mask.base || i0 + kBr > lq || k0 + kBc > rule.end(i0) ||
                           k0 < rule.begin(i0 + kBr - 1);
#pragma unroll
    for (int n = 0; n < 4; ++n) {
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int col = qh32 + n * 8 + 2 * t + c;
        // lse -inf: the query sees nothing, P = 0.
        const float lse2 = slseb[col] == -INFINITY ? INFINITY : slseb[col] * kLog2e;
        const float dlt = sdeltab[col];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const int e = 2 * r + c;
          float p;
          if (need_mask) {
            const int key = k0 + kg + g + 8 * r;
            const int query = i0 + col;
            if (query >= lq || rule.hidden(query, key)) {
              p = 0.0f;
            } else {
              // The mask in raw-score units, exactly as the forward added it.
              // P <= 1: with huge masked scores the exponent carries the
              // rounding error of lse, which must not make P infinite.
              const float add =
                  mask.base ? mask.scaled(query, key, inv_scale, mask_floor(scale_log2)) : 0.0f;
              p = exp2f(fminf(fmaf(st[n][e] + add, scale_log2, -lse2), 0.0f));
            }
          } else {
            p = exp2f(fmaf(st[n][e], scale_log2, -lse2));
          }
          st[n][e] = p;
          dpt[n][e] = p * (dpt[n][e] - dlt);
        }
      }
    }
#pragma unroll
    for (int n = 0; n < 4; ++n) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int off = (kg + g + 8 * r) * kPStride + qh32 + n * 8 + 2 * t;
        *reinterpret_cast<uint32_t*>(sp + off) = pack2<T>(st[n][2 * r], st[n][2 * r + 1]);
        *reinterpret_cast<uint32_t*>(sds + off) = pack2<T>(dpt[n][2 * r], dpt[n][2 * r + 1]);
      }
    }
    __syncthreads();

    // Phase 2a: dV += P^T dO, dK += dS^T Q. P^T and dS^T rows are A rows;
    // dO and Q rows are B's k index (ldmatrix.trans).
#pragma unroll
    for (int kk = 0; kk < kBr / 16; ++kk) {
      const int a_off = (kg + (lane & 15)) * kPStride + kk * 16 + (lane >> 4) * 8;
      uint32_t pa[4], dsa[4];
      ldmatrix_x4(pa, smem_u32(sp + a_off));
      ldmatrix_x4(dsa, smem_u32(sds + a_off));
#pragma unroll
      for (int dp = 0; dp < kHalfTiles / 2; ++dp) {
        const int b_off = (kk * 16 + (lane & 15)) * kStride + dh + dp * 16 + (lane >> 4) * 8;
        uint32_t b[4];
        ldmatrix_x4_trans(b, smem_u32(sdob + b_off));
        mma16816<T>(dv_acc[2 * dp], pa, b[0], b[1]);
        mma16816<T>(dv_acc[2 * dp + 1], pa, b[2], b[3]);
        ldmatrix_x4_trans(b, smem_u32(sqb + b_off));
        mma16816<T>(dk_acc[2 * dp], dsa, b[0], b[1]);
        mma16816<T>(dk_acc[2 * dp + 1], dsa, b[2], b[3]);
      }
    }

    // Phase 2b: dQ rows i0 + kg .. +15 (kg read as a query offset here),
    // columns dh .. dh + D/2. dS = (dS^T)^T, so ldmatrix.trans of dS^T gives
    // its A fragments: matrix m covers queries (m & 1) * 8 and keys (m >> 1) * 8.
    float dq[kHalfTiles][4];
#pragma unroll
    for (int n = 0; n < kHalfTiles; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) dq[n][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kBc / 16; ++kk) {
      uint32_t a[4];
      ldmatrix_x4_trans(a, smem_u32(sds + (kk * 16 + (lane & 7) + ((lane >> 4) << 3)) * kPStride +
                                    kg + ((lane >> 3) & 1) * 8));
#pragma unroll
      for (int dp = 0; dp < kHalfTiles / 2; ++dp) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, smem_u32(sk + (kk * 16 + (lane & 15)) * kStride + dh + dp * 16 +
                                      (lane >> 4) * 8));
        mma16816<T>(dq[2 * dp], a, b[0], b[1]);
        mma16816<T>(dq[2 * dp + 1], a, b[2], b[3]);
      }
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int query = i0 + kg + g + 8 * r;
      if (query >= lq) continue;
      float* row = dqh + static_cast<int64_t>(query) * span.q_stride + dh + 2 * t;
#pragma unroll
      for (int n = 0; n < kHalfTiles; ++n) {
#if __CUDA_ARCH__ >= 900
        atomicAdd(reinterpret_cast<float2*>(row + n * 8), make_float2(dq[n][2 * r], dq[n][2 * r + 1]));
#else
        atomicAdd(row + n * 8, dq[n][2 * r]);
        atomicAdd(row + n * 8 + 1, dq[n][2 * r + 1]);
#endif
      }
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int key = k0 + kg + g + 8 * r;
    if (key >= lk) continue;
    const int64_t off = span.kv + static_cast<int64_t>(key) * span.kv_stride + dh + 2 * t;
#pragma unroll
    for (int n = 0; n < kHalfTiles; ++n) {
      *reinterpret_cast<uint32_t*>(dk + off + n * 8) =
          pack2<T>(dk_acc[n][2 * r] * scale, dk_acc[n][2 * r + 1] * scale);
      *reinterpret_cast<uint32_t*>(dv + off + n * 8) =
          pack2<T>(dv_acc[n][2 * r], dv_acc[n][2 * r + 1]);
    }
  }
#endif
}

// sum_c dO[row][c] * O[row][c]: one warp per row, 16 bytes per lane, into
// delta in lse's layout: at row (dense), or for packed rows token * heads
// + h at h * total_q + token.
template <class T, int D>
__global__ void __launch_bounds__(256)
    row_dot(const T* __restrict__ dout, const T* __restrict__ out, float* __restrict__ delta,
            int64_t rows, int64_t packed_heads, int64_t total_q) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
       row < rows; row += warps) {
    const float sum = warp_row_dot<T, D>(dout + row * D, out + row * D, lane);
    if (lane == 0) {
      delta[packed_heads ? row % packed_heads * total_q + row / packed_heads : row] = sum;
    }
  }
}

// dq = acc * scale in the dtype, four elements per step (n is a multiple of 32).
template <class T>
__global__ void __launch_bounds__(256)
    finish_dq(const float* __restrict__ acc, T* __restrict__ dq, int64_t n, float scale) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x * 4;
  for (int64_t i = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * 4; i < n;
       i += step) {
    const float4 a = *reinterpret_cast<const float4*>(acc + i);
    uint2 packed;
    packed.x = pack2<T>(a.x * scale, a.y * scale);
    packed.y = pack2<T>(a.z * scale, a.w * scale);
    *reinterpret_cast<uint2*>(dq + i) = packed;
  }
}

// The forward's output and lse, when the caller gives them (both or none).
struct Given {
  const void* out;
  const float* lse;
};

template <class T, int D>
xrt_status_t backward(const xrt_kernel_context_t* ctx, const ForwardArgs& fa, const T* dout,
                      Given forward, T* dq, T* dk, T* dv) {
  using C = Bwd<D>;
  cudaStream_t stream = stream_of(ctx);
  const int64_t rows = fa.q_rows();
  // Without the forward's output and lse the forward runs again into scratch.
  const bool given = forward.lse != nullptr;
  const size_t out_bytes = given ? 0 : scratch_bytes(static_cast<size_t>(rows) * D * sizeof(T));
  const size_t row_bytes = scratch_bytes(static_cast<size_t>(rows) * sizeof(float));
  const size_t lse_bytes = given ? 0 : row_bytes;
  const size_t acc_bytes = static_cast<size_t>(rows) * D * sizeof(float);
  const size_t total = out_bytes + lse_bytes + row_bytes + acc_bytes;
  char* scratch = static_cast<char*>(scratch_alloc(total, stream));
  if (!scratch) {
    return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cuda %s: no memory for %zu bytes of scratch",
                op_name(ctx), total);
  }
  const T* out = given ? static_cast<const T*>(forward.out) : reinterpret_cast<const T*>(scratch);
  const float* lse = given ? forward.lse : reinterpret_cast<const float*>(scratch + out_bytes);
  float* delta = reinterpret_cast<float*>(scratch + out_bytes + lse_bytes);
  float* dq_acc = reinterpret_cast<float*>(scratch + out_bytes + lse_bytes + row_bytes);

  xrt_status_t status = XRT_OK;
  if (!given) {
    ForwardArgs f = fa;
    f.out = scratch;
    f.lse = reinterpret_cast<float*>(scratch + out_bytes);
    status = launch_forward(ctx, f, stream);
  }
  if (status == XRT_OK) {
    const int64_t packed_heads = fa.packing.cu_q ? fa.masks.heads : 0;
    row_dot<T, D><<<grid_for(rows * 32, 256), 256, 0, stream>>>(dout, out, delta, rows,
                                                                packed_heads, fa.packing.total_q);
    status = check_launch(ctx);
  }
  if (status == XRT_OK && cudaMemsetAsync(dq_acc, 0, acc_bytes, stream) != cudaSuccess) {
    status = check_launch(ctx);
  }
  if (status == XRT_OK) {
    auto kernel = flash_backward<T, D>;
    status = allow_smem(ctx, reinterpret_cast<const void*>(kernel), C::kSmemBytes);
    if (status == XRT_OK) {
      const dim3 grid(static_cast<unsigned>(fa.bh / fa.group),
                      static_cast<unsigned>((fa.lk + C::kBc - 1) / C::kBc));
      kernel<<<grid, C::kThreads, C::kSmemBytes, stream>>>(
          static_cast<const T*>(fa.q), static_cast<const T*>(fa.k), static_cast<const T*>(fa.v),
          dout, lse, delta, dq_acc, dk, dv, static_cast<int>(fa.lq), static_cast<int>(fa.lk),
          fa.scale, fa.scale * kLog2e, 1.0f / fa.scale, fa.causal ? 1 : 0,
          static_cast<int>(fa.group), fa.masks, fa.packing);
      status = check_launch(ctx);
    }
  }
  if (status == XRT_OK) {
    const int64_t n = rows * D;
    finish_dq<T><<<grid_for(n / 4, 256), 256, 0, stream>>>(dq_acc, dq, n, fa.scale);
    status = check_launch(ctx);
  }
  scratch_free(scratch, stream);
  return status;
}

template <class T>
xrt_status_t backward_dtype(const xrt_kernel_context_t* ctx, const ForwardArgs& fa,
                            Given forward) {
  const T* dout = static_cast<const T*>(ctx->inputs[0].data);
  T* dq = static_cast<T*>(ctx->outputs[0].data);
  T* dk = static_cast<T*>(ctx->outputs[1].data);
  T* dv = static_cast<T*>(ctx->outputs[2].data);
  switch (fa.d) {
    case 32: return backward<T, 32>(ctx, fa, dout, forward, dq, dk, dv);
    case 64: return backward<T, 64>(ctx, fa, dout, forward, dq, dk, dv);
    case 96: return backward<T, 96>(ctx, fa, dout, forward, dq, dk, dv);
    default: return backward<T, 128>(ctx, fa, dout, forward, dq, dk, dv);
  }
}

}  // namespace

xrt_status_t launch_backward(const xrt_kernel_context_t* ctx, const ForwardArgs& fa,
                             size_t out_index) {
  const bool given = ctx->num_inputs > out_index + 1 && ctx->inputs[out_index + 1].data;
  const Given forward{given ? ctx->inputs[out_index].data : nullptr,
                      given ? static_cast<const float*>(ctx->inputs[out_index + 1].data)
                            : nullptr};
  return fa.dtype == XRT_FLOAT16 ? backward_dtype<__half>(ctx, fa, forward)
                                 : backward_dtype<__nv_bfloat16>(ctx, fa, forward);
}

}  // namespace xrt::cuda::attn

namespace xrt::cuda::attn {

ForwardArgs backward_args(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& q = ctx->inputs[1];
  ForwardArgs fa{};
  fa.q = q.data;
  fa.k = ctx->inputs[2].data;
  fa.v = ctx->inputs[3].data;
  fa.bh = q.shape[0] * q.shape[1];
  fa.group = q.shape[1] / ctx->inputs[2].shape[1];
  fa.lq = q.shape[2];
  fa.lk = ctx->inputs[2].shape[2];
  fa.d = static_cast<int>(q.shape[3]);
  fa.scale = static_cast<float>(attr_float(ctx, "scale", 1.0 / std::sqrt(double(fa.d))));
  fa.causal = attr_int(ctx, "causal", 0) != 0;
  fa.dtype = q.dtype;
  fa.masks = masks_of(ctx, 1);
  return fa;
}

xrt_status_t zero_key_grads(const xrt_kernel_context_t* ctx, const ForwardArgs& fa) {
  const size_t bytes = static_cast<size_t>(fa.kv_rows() * fa.d) * 2;
  cudaStream_t stream = stream_of(ctx);
  if (cudaMemsetAsync(ctx->outputs[1].data, 0, bytes, stream) != cudaSuccess ||
      cudaMemsetAsync(ctx->outputs[2].data, 0, bytes, stream) != cudaSuccess) {
    return check_launch(ctx);
  }
  return XRT_OK;
}

xrt_status_t zero_query_grads(const xrt_kernel_context_t* ctx) {
  const size_t bytes = static_cast<size_t>(numel(ctx->outputs[0])) * 2;
  if (cudaMemsetAsync(ctx->outputs[0].data, 0, bytes, stream_of(ctx)) != cudaSuccess) {
    return check_launch(ctx);
  }
  return XRT_OK;
}

}  // namespace xrt::cuda::attn

namespace xrt::cuda {

xrt_status_t run_attention_backward(const xrt_kernel_context_t* ctx) {
  const xrt_status_t status = attn::check_supported(ctx, 1, attn::kSm80Features);
  if (status != XRT_OK) return status;
  const attn::ForwardArgs fa = attn::backward_args(ctx);
  if (fa.bh == 0) return XRT_OK;
  if (fa.lq == 0) return attn::zero_key_grads(ctx, fa);
  if (fa.lk == 0) return attn::zero_query_grads(ctx);
  return attn::launch_backward(ctx, fa, 4);
}

}  // namespace xrt::cuda
