// "attention_backward" for Hopper (sm_90a), FlashAttention-3 style.
//
//  1. Without the forward's output and LSE, the sm_90a forward recomputes
//     them into scratch.
//  2. row_stats: delta = rowsum(dO * O) and lse2 = lse * log2(e) per query,
//     in fp32 rows padded to whole 64-query tiles (padding: delta 0, lse2
//     +inf, so padded queries get P = 0 without a mask).
//  3. One block of three warpgroups per (batch * k/v head, 128 keys), walking
//     the query tiles of each q head that reads that k/v head in turn
//     (grouped-query attention: dK and dV sum over them in registers):
//     - warpgroup 0 is the producer (setmaxnreg gives its registers away):
//       one thread loads the block's K and V once, then Q and dO tiles of 64
//       queries with their lse2 and delta into a two-stage ring (TMA tensor
//       maps, 128-byte swizzle; bulk copies for the fp32 rows), each stage
//       with "full" (transaction bytes) and "empty" (one arrival per
//       consumer warp) mbarriers, separately for Q and dO.
//     - warpgroups 1 and 2 own 64 keys each and keep dK and dV for them in
//       registers. Per query tile, with wgmma (fp32 accumulators):
//         S^T  = K Q^T          m64n64, both operands from shared memory
//         dP^T = V dO^T         m64n64, same
//         P^T  = exp2(S^T * scale * log2e - lse2),  dS^T = P^T (dP^T - delta)
//         dV  += P^T dO         m64nD, P^T from registers (the accumulator
//                               converted to 16 bits is the A fragment)
//         dK  += dS^T Q         m64nD, dS^T from registers
//         dQ_w = dS K           m64n64: at D=128 column half w over all 128
//                               keys (the two consumers meet at a barrier
//                               once both dS^T halves are stored), at D=64
//                               all columns over the warpgroup's own keys;
//                               dS^T goes to shared memory (swizzled, two
//                               buffers) and both operands are read
//                               MN-major (transposed)
//       and dQ_w goes from the registers to an fp32 accumulator in global
//       memory by vector atomic adds (done at L2).
//  4. finish_dq scales dQ, converts it to the dtype and undoes the
//     accumulator's layout.
//
// dQ accumulator layout: one 64 x D fp32 block per (bh, query tile), which
// every key block adds to, made of 64 x 64 blocks per column half. Inside
// one, the element of accumulator register j of consumer thread c lies at
// (j / 4) * 512 + 4c + j % 4: each thread adds 16 bytes at a time and a
// warp's adds cover 512 contiguous bytes.
//
// Shared memory at D=128: K and V 32 KiB each, Q and dO 2 x 16 KiB each,
// dS^T 2 x 16 KiB: 161 KiB; at D=64, 97 KiB.
//
// Only compiled for sm_90a; other device passes get empty kernels and the
// host refuses to launch them.
#include <climits>
#include <cmath>
#include <cstdint>

#include "attention/attention.h"
#include "attention/mma.h"
#include "attention/sm90_host.h"
#include "attention/sm90_ptx.h"
#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"
#include "scratch.h"

namespace xrt::cuda::attn {
namespace {

using namespace sm90;

template <int D>
struct Sm90Bwd {
  static constexpr int kThreads = 384;  // producer warpgroup + 2 consumer warpgroups
  static constexpr int kBn = 128;       // keys per block, 64 per consumer
  static constexpr int kBm = 64;        // queries per step
  static constexpr int kStages = 2;
  static constexpr int kCols = D / 64;  // 128-byte column blocks
  static constexpr uint32_t kKvBlock = kBn * 128;  // bytes of one column block
  static constexpr uint32_t kQBlock = kBm * 128;
  static constexpr uint32_t kKvBytes = kKvBlock * kCols;
  static constexpr uint32_t kQBytes = kQBlock * kCols;
  static constexpr uint32_t kDsBytes = kBn * kBm * 2;  // dS^T, 128 keys x 64 queries
  // dQ of a query tile is 64 columns per consumer: at D=128 each takes half
  // the columns over all 128 keys, at D=64 all columns over its own keys.
  static constexpr bool kSplitColumns = D == 128;
  static constexpr int kDqKeys = kSplitColumns ? kBn : kBn / 2;
  static constexpr uint32_t kRowBytes = kBm * 4;       // lse2 or delta of one tile
  static constexpr uint32_t kKOff = 0;
  static constexpr uint32_t kVOff = kKOff + kKvBytes;
  static constexpr uint32_t kQOff = kVOff + kKvBytes;
  static constexpr uint32_t kDoOff = kQOff + kStages * kQBytes;
  static constexpr uint32_t kDsOff = kDoOff + kStages * kQBytes;
  static constexpr uint32_t kLseOff = kDsOff + 2 * kDsBytes;  // two dS^T buffers
  static constexpr uint32_t kDeltaOff = kLseOff + kStages * kRowBytes;
  static constexpr uint32_t kBarOff = kDeltaOff + kStages * kRowBytes;
  // Barriers (9 x 8 bytes), then slack to align the base to 1024 bytes.
  static constexpr size_t kSmemBytes = kBarOff + 128 + 1024;
  static constexpr int kProducerRegs = 24;
  static constexpr int kConsumerRegs = 240;
  static_assert(kProducerRegs * 128 + kConsumerRegs * 256 <= 65536, "register file");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory");
};

template <class T, int D>
__global__ void __launch_bounds__(Sm90Bwd<D>::kThreads, 1)
    hopper_backward(const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                    const __grid_constant__ CUtensorMap tv, const __grid_constant__ CUtensorMap tdo,
                    const float* __restrict__ lse2, const float* __restrict__ delta,
                    float* __restrict__ dq_acc, T* __restrict__ dk, T* __restrict__ dv, int lq,
                    int lk, int q_tiles, int k_tiles, int group, float scale, float scale_log2,
                    int causal) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using C = Sm90Bwd<D>;
  constexpr int kBm = C::kBm, kBn = C::kBn;
  extern __shared__ __align__(1024) unsigned char smem[];
  const uint32_t base = (smem_u32(smem) + 1023u) & ~1023u;
  const uint32_t sk = base + C::kKOff, sv = base + C::kVOff, sq = base + C::kQOff;
  const uint32_t sdo = base + C::kDoOff, sds = base + C::kDsOff;
  const uint32_t slse = base + C::kLseOff, sdelta = base + C::kDeltaOff;
  const float* lse_rows = reinterpret_cast<const float*>(smem + (slse - smem_u32(smem)));
  const float* delta_rows = reinterpret_cast<const float*>(smem + (sdelta - smem_u32(smem)));
  // Barriers: K and V full, Q full[2], dO full[2], Q empty[2], dO empty[2].
  const uint32_t bar = base + C::kBarOff;
  const uint32_t kv_full = bar;
  const uint32_t q_full = bar + 8, do_full = bar + 24, q_empty = bar + 40, do_empty = bar + 56;

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int wg = warp >> 2;
  // Key tiles of one head are neighbours in the grid (Q and dO stay in L2),
  // the first ones (most queries under the causal mask) first.
  const int kt = static_cast<int>(blockIdx.x % static_cast<unsigned>(k_tiles));
  // The block's k/v head; its q heads (grouped-query attention) are
  // kv_bh * group .. + group - 1, walked one after the other.
  const int kv_bh = static_cast<int>(blockIdx.x / static_cast<unsigned>(k_tiles));
  const int k0 = kt * kBn;
  // Under the causal mask queries before k0 see none of these keys.
  const int i_begin = causal ? k0 : 0;
  const int head_steps = i_begin < lq ? (lq - i_begin + kBm - 1) / kBm : 0;
  const int steps = head_steps * group;
  // Step it: q head bh_of(it), its queries from i0_of(it).
  auto bh_of = [&](int it) { return kv_bh * group + it / head_steps; };
  auto i0_of = [&](int it) { return i_begin + (it % head_steps) * kBm; };

  if (tid == 0) {
    mbar_init(kv_full, 1);
#pragma unroll
    for (int s = 0; s < C::kStages; ++s) {
      mbar_init(q_full + 8 * s, 1);
      mbar_init(do_full + 8 * s, 1);
      mbar_init(q_empty + 8 * s, 8);  // one arrival per consumer warp
      mbar_init(do_empty + 8 * s, 8);
    }
    mbar_init_fence();
  }
  __syncthreads();

  if (wg == 0) {
    // ---- producer ----
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(C::kProducerRegs));
    if (warp == 0 && lane == 0 && steps > 0) {
      mbar_expect_tx(kv_full, 2 * C::kKvBytes);
#pragma unroll
      for (int c = 0; c < C::kCols; ++c) {
        tma_load(sk + c * C::kKvBlock, &tk, c * 64, k0, kv_bh, kv_full);
        tma_load(sv + c * C::kKvBlock, &tv, c * 64, k0, kv_bh, kv_full);
      }
      // One query tile (Q or dO) and its fp32 row (lse2 or delta) into stage s.
      auto load_tile = [&](uint32_t tile, const CUtensorMap* map, uint32_t row, const float* rows,
                           uint32_t full, uint32_t empty, uint32_t s, uint32_t parity, int bh,
                           int i0) {
        const int64_t rows0 = static_cast<int64_t>(bh) * q_tiles * kBm;
        mbar_wait(empty + 8 * s, parity);
        mbar_expect_tx(full + 8 * s, C::kQBytes + C::kRowBytes);
#pragma unroll
        for (int c = 0; c < C::kCols; ++c) {
          tma_load(tile + s * C::kQBytes + c * C::kQBlock, map, c * 64, i0, bh, full + 8 * s);
        }
        bulk_load(row + s * C::kRowBytes, rows + rows0 + i0, C::kRowBytes, full + 8 * s);
      };
      for (int i = 0; i < steps; ++i) {
        const uint32_t s = i & 1, parity = ((i >> 1) & 1) ^ 1;
        const int bh = bh_of(i), i0 = i0_of(i);
        load_tile(sq, &tq, slse, lse2, q_full, q_empty, s, parity, bh, i0);
        load_tile(sdo, &tdo, sdelta, delta, do_full, do_empty, s, parity, bh, i0);
      }
    }
  } else {
    // ---- consumers ----
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(C::kConsumerRegs));
    const int w = wg - 1;       // keys 64w .. 64w+63 of the block
    const int ct = tid - 128 * wg;  // thread within the warpgroup
    const int wk = warp & 3;    // 16 keys of those per warp
    const int g = lane >> 2, t = lane & 3;
    const int key_row = 64 * w + 16 * wk + g;  // this thread's keys: key_row, key_row + 8

    float dk_acc[D / 2], dv_acc[D / 2];
#pragma unroll
    for (int i = 0; i < D / 2; ++i) dk_acc[i] = dv_acc[i] = 0.0f;

    if (steps > 0) {
      // K-major A operands: this warpgroup's 64 rows of K and V.
      const uint64_t k_desc = smem_desc(sk + w * 64 * 128, 16);
      const uint64_t v_desc = smem_desc(sv + w * 64 * 128, 16);
      const uint64_t q_desc = smem_desc(sq, 16), do_desc = smem_desc(sdo, 16);
      // MN-major B operands: Q and dO (rows are the k index), K for dQ.
      const uint64_t q_mn = smem_desc(sq, C::kQBlock), do_mn = smem_desc(sdo, C::kQBlock);
      const uint64_t k_mn = smem_desc(
          C::kSplitColumns ? sk + w * C::kKvBlock : sk + w * 64 * 128, C::kKvBlock);
      // MN-major A operand of dQ: the dS^T rows (keys) that dQ sums over.
      const uint64_t ds_mn = smem_desc(C::kSplitColumns ? sds : sds + w * 64 * 128, C::kDsBytes);

      mbar_wait(kv_full, 0);
      for (int it = 0; it < steps; ++it) {
        const uint32_t st = it & 1, parity = (it >> 1) & 1;
        const int bh = bh_of(it), i0 = i0_of(it);
        float s[kBm / 2], dp[kBm / 2];  // S^T, then P^T; dP^T, then dS^T
        uint32_t pa[kBm / 16][4], dsa[kBm / 16][4];

        mbar_wait(q_full + 8 * st, parity);
        mbar_wait(do_full + 8 * st, parity);
        reg_fence(s);
        reg_fence(dp);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
          const uint32_t in_block = (kk & 3) * 32;
          const uint32_t ao = ((kk >> 2) * C::kKvBlock + in_block) >> 4;
          const uint32_t bo = (st * C::kQBytes + (kk >> 2) * C::kQBlock + in_block) >> 4;
          wgmma_ss<T, kBm, 0>(s, k_desc + ao, q_desc + bo, kk > 0 ? 1 : 0);
          wgmma_ss<T, kBm, 0>(dp, v_desc + ao, do_desc + bo, kk > 0 ? 1 : 0);
        }
        wgmma_commit();
        wgmma_wait<0>();
        reg_fence(s);
        reg_fence(dp);

        // Rows of s are keys k0 + key_row (+8), columns queries i0 + 8nb + 2t (+1).
        const float* tile_lse = lse_rows + st * kBm;
        const float* tile_delta = delta_rows + st * kBm;
        const bool need_mask = k0 + kBn > lk || (causal && k0 + kBn - 1 > i0);
#pragma unroll
        for (int nb = 0; nb < kBm / 8; ++nb) {
          const float2 l2 = *reinterpret_cast<const float2*>(tile_lse + nb * 8 + 2 * t);
          const float2 dl = *reinterpret_cast<const float2*>(tile_delta + nb * 8 + 2 * t);
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int i = nb * 4 + e;
            float p = ex2(fmaf(s[i], scale_log2, -((e & 1) ? l2.y : l2.x)));
            if (need_mask) {
              const int key = k0 + key_row + 8 * (e >> 1);
              const int query = i0 + nb * 8 + 2 * t + (e & 1);
              if (key >= lk || (causal && key > query)) p = 0.0f;
            }
            s[i] = p;
            dp[i] = p * (dp[i] - ((e & 1) ? dl.y : dl.x));
          }
        }
        // The C fragments of n8 blocks 2kk and 2kk+1 are the A fragment of
        // queries 16kk .. 16kk+15.
#pragma unroll
        for (int kk = 0; kk < kBm / 16; ++kk) {
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            pa[kk][r] = pack2<T>(s[8 * kk + 2 * r], s[8 * kk + 2 * r + 1]);
            dsa[kk][r] = pack2<T>(dp[8 * kk + 2 * r], dp[8 * kk + 2 * r + 1]);
          }
        }
        // dS^T rows to shared memory (buffer it % 2), 128-byte swizzled: query
        // pair 2t of n8 block nb is 16-byte chunk nb, stored at chunk
        // nb ^ (row % 8).
        const uint32_t ds_buf = (it & 1) * C::kDsBytes;
#pragma unroll
        for (int nb = 0; nb < kBm / 8; ++nb) {
#pragma unroll
          for (int r = 0; r < 2; ++r) {
            const int row = key_row + 8 * r;
            st_shared_u32(sds + ds_buf + row * 128 + ((nb ^ (row & 7)) << 4) + 4 * t,
                          dsa[nb / 2][2 * (nb & 1) + r]);
          }
        }
        fence_async_smem();

        reg_fence(pa);
        reg_fence(dsa);
        reg_fence(dv_acc);
        reg_fence(dk_acc);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < kBm / 16; ++kk) {
          const uint32_t off = (st * C::kQBytes + kk * 16 * 128) >> 4;
          wgmma_rs<T, D>(dv_acc, pa[kk], do_mn + off);
          wgmma_rs<T, D>(dk_acc, dsa[kk], q_mn + off);
        }
        wgmma_commit();
        // The dS^T rows dQ needs are in shared memory: both consumers' at
        // D=128, this one's at D=64. A buffer is written again two steps
        // later, after everyone has passed this barrier once more.
        if (C::kSplitColumns) {
          named_barrier(1, 256);
        } else {
          named_barrier(1 + w, 128);
        }
        float dq[32];
        reg_fence(dq);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < C::kDqKeys / 16; ++kk) {
          const uint32_t off = (kk * 16 * 128) >> 4;
          wgmma_ss<T, 64, 1>(dq, ds_mn + (ds_buf >> 4) + off, k_mn + off, kk > 0 ? 1 : 0);
        }
        wgmma_commit();
        wgmma_wait<0>();
        reg_fence(dq);
        reg_fence(pa);
        reg_fence(dsa);
        reg_fence(dv_acc);
        reg_fence(dk_acc);
        if (lane == 0) {
          mbar_arrive(q_empty + 8 * st);
          mbar_arrive(do_empty + 8 * st);
        }

        // dQ straight from the registers: fp32 atomic adds at L2, four
        // accumulator values per instruction (the layout at the top).
        float* acc = dq_acc + (static_cast<int64_t>(bh) * q_tiles + i0 / kBm) * kBm * D +
                     (C::kSplitColumns ? w * 64 * 64 : 0) + 4 * ct;
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          atomicAdd(reinterpret_cast<float4*>(acc + j * 512),
                    make_float4(dq[4 * j], dq[4 * j + 1], dq[4 * j + 2], dq[4 * j + 3]));
        }
      }
    }

    // Epilogue: dK (scaled) and dV rows below lk; zero without visible queries.
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int key = k0 + key_row + 8 * r;
      if (key >= lk) continue;
      const int64_t off = (static_cast<int64_t>(kv_bh) * lk + key) * D + 2 * t;
#pragma unroll
      for (int nb = 0; nb < D / 8; ++nb) {
        *reinterpret_cast<uint32_t*>(dk + off + nb * 8) =
            pack2<T>(dk_acc[nb * 4 + 2 * r] * scale, dk_acc[nb * 4 + 2 * r + 1] * scale);
        *reinterpret_cast<uint32_t*>(dv + off + nb * 8) =
            pack2<T>(dv_acc[nb * 4 + 2 * r], dv_acc[nb * 4 + 2 * r + 1]);
      }
    }
  }
#endif
}

// delta and lse2 of every padded query row: one warp per row, 16 bytes per
// lane; rows past lq get delta 0 and lse2 +inf.
template <class T, int D>
__global__ void __launch_bounds__(256)
    row_stats(const T* __restrict__ dout, const T* __restrict__ out, const float* __restrict__ lse,
              float* __restrict__ delta, float* __restrict__ lse2, int64_t bh, int lq,
              int lq_pad) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  const int lane = threadIdx.x & 31;
  const int64_t rows = bh * lq_pad;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
       row < rows; row += warps) {
    const int64_t h = row / lq_pad;
    const int i = static_cast<int>(row - h * lq_pad);
    if (i >= lq) {
      if (lane == 0) {
        delta[row] = 0.0f;
        lse2[row] = INFINITY;
      }
      continue;
    }
    const int64_t src = h * lq + i;
    const float sum = warp_row_dot<T, D>(dout + src * D, out + src * D, lane);
    if (lane == 0) {
      delta[row] = sum;
      lse2[row] = lse[src] * kLog2e;
    }
  }
#endif
}

// dq = acc * scale in the dtype, two columns per thread, reading the
// accumulator's block layout (see the top of the file).
template <class T, int D>
__global__ void __launch_bounds__(256)
    finish_dq(const float* __restrict__ acc, T* __restrict__ dq, int64_t bh, int lq, int q_tiles,
              float scale) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  const int64_t pairs = bh * lq * (D / 2);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < pairs;
       p += step) {
    const int64_t row = p / (D / 2);
    const int col = static_cast<int>(p - row * (D / 2)) * 2;
    const int64_t h = row / lq;
    const int i = static_cast<int>(row - h * lq);
    // Query i % 64 of its tile: warp i / 16, lane group g, register half eh;
    // column col: n8 block nb, lane t.
    const int r = i % 64, half = col / 64, nb = col % 64 / 8, t = (col % 8) / 2;
    const int wq = r / 16, g = r % 8, eh = (r % 16) / 8;
    const int ct = wq * 32 + g * 4 + t;
    const int64_t block = h * q_tiles + i / 64;
    const float2 a =
        *reinterpret_cast<const float2*>(acc + block * 64 * D + half * 4096 + nb * 512 + 4 * ct + 2 * eh);
    *reinterpret_cast<uint32_t*>(dq + row * D + col) = pack2<T>(a.x * scale, a.y * scale);
  }
#endif
}

template <class T, int D>
xrt_status_t backward(const xrt_kernel_context_t* ctx, const ForwardArgs& fa, const T* dout,
                      T* dq, T* dk, T* dv) {
  using C = Sm90Bwd<D>;
  cudaStream_t stream = stream_of(ctx);
  const int64_t q_tiles = (fa.lq + C::kBm - 1) / C::kBm;
  const int64_t k_tiles = (fa.lk + C::kBn - 1) / C::kBn;
  if (fa.bh * k_tiles > INT_MAX || fa.lq > INT_MAX / 2 || fa.lk > INT_MAX) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda %s: %lld heads x %lld key tiles is too large",
                op_name(ctx), static_cast<long long>(fa.bh), static_cast<long long>(k_tiles));
  }
  const int64_t padded_rows = fa.bh * q_tiles * C::kBm;
  // attention_lse's output and lse when the caller gives them; else the
  // forward runs again into scratch.
  const bool given = ctx->num_inputs > 5 && ctx->inputs[5].data;
  const size_t out_bytes = given ? 0 : scratch_bytes(static_cast<size_t>(fa.bh * fa.lq) * D * sizeof(T));
  const size_t lse_bytes = given ? 0 : scratch_bytes(static_cast<size_t>(fa.bh * fa.lq) * sizeof(float));
  const size_t row_bytes = scratch_bytes(static_cast<size_t>(padded_rows) * sizeof(float));
  const size_t acc_bytes = static_cast<size_t>(padded_rows) * D * sizeof(float);
  const size_t total = out_bytes + lse_bytes + 2 * row_bytes + acc_bytes;
  char* scratch = static_cast<char*>(scratch_alloc(total, stream));
  if (!scratch) {
    return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cuda %s: no memory for %zu bytes of scratch",
                op_name(ctx), total);
  }
  const T* out = given ? static_cast<const T*>(ctx->inputs[4].data)
                       : reinterpret_cast<const T*>(scratch);
  const float* lse = given ? static_cast<const float*>(ctx->inputs[5].data)
                           : reinterpret_cast<const float*>(scratch + out_bytes);
  float* delta = reinterpret_cast<float*>(scratch + out_bytes + lse_bytes);
  float* lse2 = reinterpret_cast<float*>(scratch + out_bytes + lse_bytes + row_bytes);
  float* dq_acc = reinterpret_cast<float*>(scratch + out_bytes + lse_bytes + 2 * row_bytes);

  xrt_status_t status = XRT_OK;
  if (!given) {
    ForwardArgs f = fa;
    f.out = scratch;
    f.lse = reinterpret_cast<float*>(scratch + out_bytes);
    status = launch_forward_sm90_schedule(ctx, f, stream, 1);
  }
  if (status == XRT_OK) {
    row_stats<T, D><<<grid_for(padded_rows * 32, 256), 256, 0, stream>>>(
        dout, out, lse, delta, lse2, fa.bh, static_cast<int>(fa.lq),
        static_cast<int>(q_tiles * C::kBm));
    status = check_launch(ctx);
  }
  if (status == XRT_OK && cudaMemsetAsync(dq_acc, 0, acc_bytes, stream) != cudaSuccess) {
    status = check_launch(ctx);
  }
  CUtensorMap tq, tk, tv, tdo;
  if (status == XRT_OK) status = make_map(ctx, &tq, fa.q, fa.bh, fa.lq, D, fa.dtype, C::kBm);
  if (status == XRT_OK) status = make_map(ctx, &tdo, dout, fa.bh, fa.lq, D, fa.dtype, C::kBm);
  const int64_t kv_bh = fa.bh / fa.group;
  if (status == XRT_OK) status = make_map(ctx, &tk, fa.k, kv_bh, fa.lk, D, fa.dtype, C::kBn);
  if (status == XRT_OK) status = make_map(ctx, &tv, fa.v, kv_bh, fa.lk, D, fa.dtype, C::kBn);
  if (status == XRT_OK) {
    auto kernel = hopper_backward<T, D>;
    status = allow_smem(ctx, reinterpret_cast<const void*>(kernel), C::kSmemBytes);
    if (status == XRT_OK) {
      kernel<<<static_cast<unsigned>(kv_bh * k_tiles), C::kThreads, C::kSmemBytes, stream>>>(
          tq, tk, tv, tdo, lse2, delta, dq_acc, dk, dv, static_cast<int>(fa.lq),
          static_cast<int>(fa.lk), static_cast<int>(q_tiles), static_cast<int>(k_tiles),
          static_cast<int>(fa.group), fa.scale, fa.scale * kLog2e, fa.causal ? 1 : 0);
      status = check_launch(ctx);
    }
  }
  if (status == XRT_OK) {
    finish_dq<T, D><<<grid_for(fa.bh * fa.lq * (D / 2), 256), 256, 0, stream>>>(
        dq_acc, dq, fa.bh, static_cast<int>(fa.lq), static_cast<int>(q_tiles), fa.scale);
    status = check_launch(ctx);
  }
  scratch_free(scratch, stream);
  return status;
}

template <class T>
xrt_status_t backward_dtype(const xrt_kernel_context_t* ctx, const ForwardArgs& fa) {
  const T* dout = static_cast<const T*>(ctx->inputs[0].data);
  T* dq = static_cast<T*>(ctx->outputs[0].data);
  T* dk = static_cast<T*>(ctx->outputs[1].data);
  T* dv = static_cast<T*>(ctx->outputs[2].data);
  return fa.d == 64 ? backward<T, 64>(ctx, fa, dout, dq, dk, dv)
                    : backward<T, 128>(ctx, fa, dout, dq, dk, dv);
}

}  // namespace
}  // namespace xrt::cuda::attn

namespace xrt::cuda {

int32_t attention_sm90_backward_supports(const xrt_kernel_context_t* ctx) {
  return attn::check_supported(ctx, 1, true) == XRT_OK &&
         attn::sm90::check_device(ctx) == XRT_OK;
}

xrt_status_t run_attention_sm90_backward(const xrt_kernel_context_t* ctx) {
  xrt_status_t status = attn::check_supported(ctx, 1, true);
  if (status == XRT_OK) status = attn::sm90::check_device(ctx);
  if (status != XRT_OK) return status;
  attn::ForwardArgs fa = attn::backward_args(ctx);
  fa.group = ctx->inputs[1].shape[1] / ctx->inputs[2].shape[1];  // q heads per k/v head
  if (fa.bh == 0) return XRT_OK;
  if (fa.lq == 0) return attn::zero_key_grads(ctx, fa);
  if (fa.lk == 0) return attn::zero_query_grads(ctx);
  status = attn::sm90::check_aligned(
      ctx, {ctx->inputs[0].data, ctx->inputs[1].data, ctx->inputs[2].data, ctx->inputs[3].data});
  if (status != XRT_OK) return status;
#if defined(XRT_HAVE_SM90A)
  return fa.dtype == XRT_FLOAT16 ? attn::backward_dtype<__half>(ctx, fa)
                                 : attn::backward_dtype<__nv_bfloat16>(ctx, fa);
#else
  return XRT_ERROR_UNSUPPORTED;  // check_device said why
#endif
}

}  // namespace xrt::cuda
