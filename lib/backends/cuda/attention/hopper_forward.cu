// "attention" forward for Hopper (sm_90a), FlashAttention-3 style.
//
// One block of three warpgroups per (batch*head, 128 query rows):
//  - warpgroup 0 is the producer: after giving most of its registers away
//    (setmaxnreg), one thread loads the block's Q tile once and then K and V
//    tiles of 128 keys into a two-stage shared-memory ring with the bulk
//    tensor copy engine (TMA, 3-D tensor maps over (d, len, bh), 128-byte
//    swizzle, rows past the length zero-filled); K and V come from head
//    bh / group (grouped-query attention). Each stage has a "full"
//    mbarrier (transaction bytes) and an "empty" one (one arrival per
//    consumer warp), separately for K and V.
//  - warpgroups 1 and 2 are consumers of 64 query rows each (232 registers).
//    S = Q K^T is wgmma m64n128k16 with both operands in shared memory,
//    K-major; O += P V is wgmma m64nDk16 with P from registers (the S
//    accumulator converted to 16 bits, which is the A fragment layout) and V
//    from shared memory, MN-major (transposed B). The online softmax runs in
//    the log2 domain in fp32, as in flash_forward.cu.
//  - In the overlapped schedule (the default), tile j's S = Q K_j^T is issued
//    together with O += P_{j-1} V_{j-1}, and the softmax of tile j runs while
//    the tensor cores finish the P V product; the rescale of O waits for it.
//    The two consumer warpgroups are not explicitly ping-ponged: the warp
//    schedulers interleave one's softmax with the other's products.
//
// Shared memory: a 128-row tile of D columns is D/64 column blocks of
// 128 rows x 128 bytes (one TMA box each, 1024-byte aligned), so every
// operand is the canonical 128B-swizzle layout: 8-row groups 1024 bytes
// apart (SBO); for V (MN-major), the column blocks are LBO apart. Q 32 KiB,
// K and V 2 x 32 KiB each at D=128: 160 KiB; 80 KiB at D=64.
//
// Only compiled for sm_90a (wgmma and setmaxnreg exist on no other target);
// other device passes get an empty kernel and the host refuses to launch it.
#include <climits>
#include <cmath>
#include <cstdint>

#include "attention/attention.h"
#include "attention/mma.h"
#include "attention/sm90_host.h"
#include "attention/sm90_ptx.h"
#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"

namespace xrt::cuda::attn {
namespace {

using namespace sm90;

template <int D>
struct Sm90Fwd {
  static constexpr int kThreads = 384;  // producer warpgroup + 2 consumer warpgroups
  static constexpr int kBm = 128;       // query rows per block, 64 per consumer
  static constexpr int kBn = 128;       // keys per tile
  static constexpr int kStages = 2;
  static constexpr int kCols = D / 64;  // 128-byte column blocks
  static constexpr uint32_t kQBlock = kBm * 128;  // bytes of one column block
  static constexpr uint32_t kKvBlock = kBn * 128;
  static constexpr uint32_t kQBytes = kQBlock * kCols;
  static constexpr uint32_t kKvBytes = kKvBlock * kCols;
  static constexpr uint32_t kKOff = kQBytes;
  static constexpr uint32_t kVOff = kKOff + kStages * kKvBytes;
  static constexpr uint32_t kBarOff = kVOff + kStages * kKvBytes;
  // Barriers (9 x 8 bytes), then slack to align the base to 1024 bytes.
  static constexpr size_t kSmemBytes = kBarOff + 128 + 1024;
  static constexpr int kProducerRegs = 40;
  static constexpr int kConsumerRegs = 232;
  static_assert(kProducerRegs * 128 + kConsumerRegs * 256 <= 65536, "register file");
};

// ---- the kernel ------------------------------------------------------------

template <class T, int D, bool kOverlap>
__global__ void __launch_bounds__(Sm90Fwd<D>::kThreads, 1)
    hopper_forward(const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                   const __grid_constant__ CUtensorMap tv, T* __restrict__ out,
                   float* __restrict__ lse, int lq, int lk, int q_tiles, int group,
                   float scale, float scale_log2, int causal) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using C = Sm90Fwd<D>;
  constexpr int kBm = C::kBm, kBn = C::kBn;
  extern __shared__ __align__(1024) unsigned char smem[];
  const uint32_t base = (smem_u32(smem) + 1023u) & ~1023u;
  const uint32_t sq = base, sk = base + C::kKOff, sv = base + C::kVOff;
  // Barriers: Q full, K full[2], V full[2], K empty[2], V empty[2].
  const uint32_t bar = base + C::kBarOff;
  const uint32_t q_full = bar;
  const uint32_t k_full = bar + 8, v_full = bar + 24, k_empty = bar + 40, v_empty = bar + 56;

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int wg = warp >> 2;
  // Query tiles of one head are neighbours in the grid (their K and V stay
  // in L2), the last ones (most keys under the causal mask) first.
  const int qt = q_tiles - 1 - static_cast<int>(blockIdx.x % static_cast<unsigned>(q_tiles));
  const int bh = static_cast<int>(blockIdx.x / static_cast<unsigned>(q_tiles));
  const int kv_bh = bh / group;  // grouped-query attention: the k/v head of q head bh
  const int q0 = qt * kBm;
  // Key 0 is visible to every row, so there is at least one tile.
  const int kv_end = causal ? min(lk, q0 + kBm) : lk;
  const int tiles = (kv_end + kBn - 1) / kBn;

  if (tid == 0) {
    mbar_init(q_full, 1);
#pragma unroll
    for (int s = 0; s < C::kStages; ++s) {
      mbar_init(k_full + 8 * s, 1);
      mbar_init(v_full + 8 * s, 1);
      mbar_init(k_empty + 8 * s, 8);  // one arrival per consumer warp
      mbar_init(v_empty + 8 * s, 8);
    }
    mbar_init_fence();
  }
  __syncthreads();

  if (wg == 0) {
    // ---- producer ----
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(C::kProducerRegs));
    if (warp == 0 && lane == 0) {
      mbar_expect_tx(q_full, C::kQBytes);
#pragma unroll
      for (int c = 0; c < C::kCols; ++c) tma_load(sq + c * C::kQBlock, &tq, c * 64, q0, bh, q_full);
      for (int i = 0; i < tiles; ++i) {
        const uint32_t s = i & 1, parity = ((i >> 1) & 1) ^ 1;
        const uint32_t off = s * C::kKvBytes;
        mbar_wait(k_empty + 8 * s, parity);
        mbar_expect_tx(k_full + 8 * s, C::kKvBytes);
#pragma unroll
        for (int c = 0; c < C::kCols; ++c) {
          tma_load(sk + off + c * C::kKvBlock, &tk, c * 64, i * kBn, kv_bh, k_full + 8 * s);
        }
        mbar_wait(v_empty + 8 * s, parity);
        mbar_expect_tx(v_full + 8 * s, C::kKvBytes);
#pragma unroll
        for (int c = 0; c < C::kCols; ++c) {
          tma_load(sv + off + c * C::kKvBlock, &tv, c * 64, i * kBn, kv_bh, v_full + 8 * s);
        }
      }
    }
  } else {
    // ---- consumers ----
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(C::kConsumerRegs));
    const int w = wg - 1;                     // rows 64w .. 64w+63 of the tile
    const int wq = warp & 3;                  // 16 rows of those per warp
    const int g = lane >> 2, t = lane & 3;
    const int warp_row = q0 + 64 * w + 16 * wq;
    const int row0 = warp_row + g;            // this thread's rows: row0, row0 + 8

    float o[D / 2];
#pragma unroll
    for (int i = 0; i < D / 2; ++i) o[i] = 0.0f;
    float s[kBn / 2];            // S tile, then P in fp32
    uint32_t p[kBn / 16][4];     // P as A fragments, one per 16 keys
    float row_max[2] = {-INFINITY, -INFINITY};  // raw scores
    float row_sum[2] = {0.0f, 0.0f};            // this lane's share
    float corr[2];

    const uint64_t q_desc = smem_desc(sq + w * 64 * 128, 16);
    const uint64_t k_desc = smem_desc(sk, 16);
    const uint64_t v_desc = smem_desc(sv, C::kKvBlock);

    // S = Q K^T for the K tile in stage st: k steps of 16 columns, 4 per
    // 128-byte column block (32 bytes each, inside the swizzle atom).
    auto issue_s = [&](uint32_t st) {
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        const uint32_t in_block = (kk & 3) * 32;
        const uint32_t qo = ((kk >> 2) * C::kQBlock + in_block) >> 4;
        const uint32_t ko = (st * C::kKvBytes + (kk >> 2) * C::kKvBlock + in_block) >> 4;
        wgmma_ss<T, kBn, 0>(s, q_desc + qo, k_desc + ko, kk > 0 ? 1 : 0);
      }
    };
    // O += P V for the V tile in stage st: 16 keys (2048 bytes) per step.
    auto issue_pv = [&](uint32_t st) {
#pragma unroll
      for (int kk = 0; kk < kBn / 16; ++kk) {
        const uint32_t vo = (st * C::kKvBytes + kk * 16 * 128) >> 4;
        wgmma_rs<T, D>(o, p[kk], v_desc + vo);
      }
    };
    // Masks tile j0's scores, updates the running max and sum, turns s into
    // unnormalised probabilities and sets corr, the factor for O.
    auto softmax = [&](int j0) {
      if (j0 + kBn > lk || (causal && j0 + kBn - 1 > warp_row)) {
#pragma unroll
        for (int nb = 0; nb < kBn / 8; ++nb) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int col = j0 + nb * 8 + 2 * t + (e & 1);
            const int row = row0 + 8 * (e >> 1);
            if (col >= lk || (causal && col > row)) s[nb * 4 + e] = -INFINITY;
          }
        }
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = row_max[r];
#pragma unroll
        for (int nb = 0; nb < kBn / 8; ++nb) {
          mx = fmaxf(mx, fmaxf(s[nb * 4 + 2 * r], s[nb * 4 + 2 * r + 1]));
        }
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // A row with nothing visible yet keeps p = 0 instead of NaN.
        const float mbase = mx == -INFINITY ? 0.0f : mx * scale_log2;
        corr[r] = ex2(row_max[r] * scale_log2 - mbase);
        row_max[r] = mx;
        float sum = 0.0f;
#pragma unroll
        for (int nb = 0; nb < kBn / 8; ++nb) {
          const float p0 = ex2(fmaf(s[nb * 4 + 2 * r], scale_log2, -mbase));
          const float p1 = ex2(fmaf(s[nb * 4 + 2 * r + 1], scale_log2, -mbase));
          s[nb * 4 + 2 * r] = p0;
          s[nb * 4 + 2 * r + 1] = p1;
          sum += p0 + p1;
        }
        row_sum[r] = row_sum[r] * corr[r] + sum;
      }
    };
    auto rescale_o = [&]() {
#pragma unroll
      for (int nb = 0; nb < D / 8; ++nb) {
        o[nb * 4 + 0] *= corr[0];
        o[nb * 4 + 1] *= corr[0];
        o[nb * 4 + 2] *= corr[1];
        o[nb * 4 + 3] *= corr[1];
      }
    };
    // The C fragments of n8 blocks 2kk and 2kk+1 are the A fragment of keys
    // 16kk .. 16kk+15.
    auto pack_p = [&]() {
#pragma unroll
      for (int kk = 0; kk < kBn / 16; ++kk) {
        p[kk][0] = pack2<T>(s[8 * kk + 0], s[8 * kk + 1]);
        p[kk][1] = pack2<T>(s[8 * kk + 2], s[8 * kk + 3]);
        p[kk][2] = pack2<T>(s[8 * kk + 4], s[8 * kk + 5]);
        p[kk][3] = pack2<T>(s[8 * kk + 6], s[8 * kk + 7]);
      }
    };
    auto release = [&](uint32_t b) {
      if (lane == 0) mbar_arrive(b);
    };

    mbar_wait(q_full, 0);
    if constexpr (kOverlap) {
      mbar_wait(k_full, 0);
      reg_fence(s);
      wgmma_fence();
      issue_s(0);
      wgmma_commit();
      wgmma_wait<0>();
      reg_fence(s);
      release(k_empty);
      softmax(0);
      pack_p();
      for (int j = 1; j < tiles; ++j) {
        const uint32_t sj = j & 1, pj = (j >> 1) & 1;
        const uint32_t sp = (j - 1) & 1, pp = ((j - 1) >> 1) & 1;
        mbar_wait(k_full + 8 * sj, pj);
        mbar_wait(v_full + 8 * sp, pp);
        reg_fence(s);
        reg_fence(o);
        reg_fence(p);
        wgmma_fence();
        issue_s(sj);
        wgmma_commit();
        issue_pv(sp);
        wgmma_commit();
        wgmma_wait<1>();  // S of tile j
        reg_fence(s);
        release(k_empty + 8 * sj);
        softmax(j * kBn);
        wgmma_wait<0>();  // P V of tile j - 1
        reg_fence(o);
        reg_fence(p);
        release(v_empty + 8 * sp);
        rescale_o();
        pack_p();
      }
      const uint32_t sl = (tiles - 1) & 1, pl = ((tiles - 1) >> 1) & 1;
      mbar_wait(v_full + 8 * sl, pl);
      reg_fence(o);
      reg_fence(p);
      wgmma_fence();
      issue_pv(sl);
      wgmma_commit();
      wgmma_wait<0>();
      reg_fence(o);
      release(v_empty + 8 * sl);
    } else {
      for (int j = 0; j < tiles; ++j) {
        const uint32_t sj = j & 1, pj = (j >> 1) & 1;
        mbar_wait(k_full + 8 * sj, pj);
        reg_fence(s);
        wgmma_fence();
        issue_s(sj);
        wgmma_commit();
        wgmma_wait<0>();
        reg_fence(s);
        release(k_empty + 8 * sj);
        softmax(j * kBn);
        rescale_o();
        pack_p();
        mbar_wait(v_full + 8 * sj, pj);
        reg_fence(o);
        reg_fence(p);
        wgmma_fence();
        issue_pv(sj);
        wgmma_commit();
        wgmma_wait<0>();
        reg_fence(o);
        release(v_empty + 8 * sj);
      }
    }

    // Epilogue: normalise, write O (rows past lq skipped) and the LSE.
    const int64_t head = static_cast<int64_t>(bh) * lq;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float l = row_sum[r];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      const float inv = 1.0f / l;
      const int row = row0 + 8 * r;
      if (row < lq) {
        if (lse && t == 0) lse[head + row] = row_max[r] * scale + logf(l);
        T* orow = out + (head + row) * D + 2 * t;
#pragma unroll
        for (int nb = 0; nb < D / 8; ++nb) {
          *reinterpret_cast<uint32_t*>(orow + nb * 8) =
              pack2<T>(o[nb * 4 + 2 * r] * inv, o[nb * 4 + 2 * r + 1] * inv);
        }
      }
    }
  }
#endif
}

// ---- host side ---------------------------------------------------------------

template <class T, int D, bool kOverlap>
xrt_status_t launch(const xrt_kernel_context_t* ctx, const ForwardArgs& a, cudaStream_t stream) {
  using C = Sm90Fwd<D>;
  auto kernel = hopper_forward<T, D, kOverlap>;
  xrt_status_t status = allow_smem(ctx, reinterpret_cast<const void*>(kernel), C::kSmemBytes);
  if (status != XRT_OK) return status;
  const int64_t q_tiles = (a.lq + C::kBm - 1) / C::kBm;
  if (a.bh * q_tiles > INT_MAX || a.lq > INT_MAX || a.lk > INT_MAX) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda %s: %lld heads x %lld query tiles is too large",
                op_name(ctx), static_cast<long long>(a.bh), static_cast<long long>(q_tiles));
  }
  CUtensorMap tq, tk, tv;
  if ((status = make_map(ctx, &tq, a.q, a.bh, a.lq, D, a.dtype, C::kBm)) != XRT_OK) return status;
  const int64_t kv_bh = a.bh / a.group;
  if ((status = make_map(ctx, &tk, a.k, kv_bh, a.lk, D, a.dtype, C::kBn)) != XRT_OK) return status;
  if ((status = make_map(ctx, &tv, a.v, kv_bh, a.lk, D, a.dtype, C::kBn)) != XRT_OK) return status;
  kernel<<<static_cast<unsigned>(a.bh * q_tiles), C::kThreads, C::kSmemBytes, stream>>>(
      tq, tk, tv, static_cast<T*>(a.out), a.lse, static_cast<int>(a.lq), static_cast<int>(a.lk),
      static_cast<int>(q_tiles), static_cast<int>(a.group), a.scale, a.scale * kLog2e,
      a.causal ? 1 : 0);
  return check_launch(ctx);
}

template <class T, bool kOverlap>
xrt_status_t launch_dtype(const xrt_kernel_context_t* ctx, const ForwardArgs& a,
                          cudaStream_t stream) {
  return a.d == 64 ? launch<T, 64, kOverlap>(ctx, a, stream)
                   : launch<T, 128, kOverlap>(ctx, a, stream);
}

template <bool kOverlap>
xrt_status_t launch_schedule(const xrt_kernel_context_t* ctx, const ForwardArgs& a,
                             cudaStream_t stream) {
  return a.dtype == XRT_FLOAT16 ? launch_dtype<__half, kOverlap>(ctx, a, stream)
                                : launch_dtype<__nv_bfloat16, kOverlap>(ctx, a, stream);
}

}  // namespace

xrt_status_t launch_forward_sm90_schedule(const xrt_kernel_context_t* ctx, const ForwardArgs& a,
                                          cudaStream_t stream, int schedule) {
  if (a.bh == 0 || a.lq == 0) return XRT_OK;
  xrt_status_t status = sm90::check_device(ctx);
  if (status != XRT_OK) return status;
  // No key tile to load: the sm_80 kernel writes the zeros and -inf lse.
  if (a.lk == 0) return launch_forward(ctx, a, stream);
  if (a.group < 1 || a.bh % a.group != 0 || (a.d != 64 && a.d != 128) ||
      (a.dtype != XRT_FLOAT16 && a.dtype != XRT_BFLOAT16)) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda %s: unsupported arguments for the sm_90a kernel",
                op_name(ctx));
  }
  if ((status = sm90::check_aligned(ctx, {a.q, a.k, a.v})) != XRT_OK) return status;
#if defined(XRT_HAVE_SM90A)
  return schedule == 0 ? launch_schedule<false>(ctx, a, stream)
                       : launch_schedule<true>(ctx, a, stream);
#else
  (void)stream;
  (void)schedule;
  return XRT_ERROR_UNSUPPORTED;  // check_device said why
#endif
}

}  // namespace xrt::cuda::attn

namespace xrt::cuda {

int32_t attention_sm90_supports(const xrt_kernel_context_t* ctx) {
  return attn::check_supported(ctx, 0, true) == XRT_OK && attn::sm90::check_device(ctx) == XRT_OK;
}

xrt_status_t run_attention_sm90(const xrt_kernel_context_t* ctx) {
  const xrt_status_t status = attn::check_supported(ctx, 0, true);
  if (status != XRT_OK) return status;
  return attn::launch_forward_sm90_schedule(ctx, attn::forward_args(ctx), stream_of(ctx), 1);
}

}  // namespace xrt::cuda
