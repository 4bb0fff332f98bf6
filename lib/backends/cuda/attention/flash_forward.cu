// "attention" forward, FlashAttention-2 style: one block of 8 warps per
// (batch*head, 128 query rows), each warp owning 16 rows; keys and values
// stream through shared memory in tiles of 64 (cp.async, double-buffered)
// while the scores, the online softmax and the output accumulate in
// registers (fp32). Scores are kept in the log2 domain: exp2f of
// s * scale * log2(e) minus the row maximum so scaled.
//
// Shared rows are padded by 16 bytes, so the 8 row addresses of every
// ldmatrix and the per-lane stores fall into distinct bank groups.
//
// Masks (key_rule.h): a block walks only the key tiles some of its rows
// see; the index rule and attn_mask are applied on the tiles that need them
// (the edges of the visible band, and every tile when there is an
// attn_mask). A row that sees nothing gets zeros and lse -inf.
#include <algorithm>
#include <climits>
#include <cmath>

#include "attention/attention.h"
#include "attention/head_span.h"
#include "attention/key_rule.h"
#include "attention/mask_support.h"
#include "attention/mma.h"
#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"

namespace xrt::cuda::attn {
namespace {

template <int D>
struct Fwd {
  static constexpr int kThreads = 256;
  static constexpr int kBr = 128;  // query rows per block, 16 per warp
  static constexpr int kBc = 64;   // keys per tile
  static constexpr int kStride = D + 8;
  static constexpr int kQElems = kBr * kStride;
  static constexpr int kKvElems = kBc * kStride;
  // Q, then K[2], then V[2].
  static constexpr size_t kSmemBytes = (kQElems + 4 * kKvElems) * 2;
};

template <class T, int D>
__global__ void __launch_bounds__(Fwd<D>::kThreads, 1)
    flash_forward(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                  T* __restrict__ out, float* __restrict__ lse, int max_lq, int max_lk,
                  float scale, float scale_log2, float inv_scale, int causal, int group,
                  Masks masks, Packing packing) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using C = Fwd<D>;
  constexpr int kBr = C::kBr, kBc = C::kBc, kStride = C::kStride, kThreads = C::kThreads;
  extern __shared__ __align__(16) unsigned char smem[];
  T* sq = reinterpret_cast<T*>(smem);
  T* sk = sq + C::kQElems;
  T* sv = sk + 2 * C::kKvElems;

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2, t = lane & 3;
  const int64_t bh = blockIdx.x;
  // The last query tiles see the most keys under the causal mask: start them first.
  const int q0 = (gridDim.y - 1 - blockIdx.y) * kBr;
  // Head bh = b * H + h reads kv head b * Hkv + h / group = bh / group.
  const HeadSpan span = head_span<D>(packing, bh, masks.heads, group, max_lq, max_lk);
  const int lq = span.lq, lk = span.lk;
  if (q0 >= lq) return;  // a packed sequence shorter than the longest
  const T* qh = q + span.q;
  const T* kh = k + span.kv;
  const T* vh = v + span.kv;
  const int batch = static_cast<int>(bh / masks.heads);
  const KeyRule rule = key_rule(masks, batch, lq, lk, causal != 0);
  const MaskReader<T> mask = mask_reader<T>(masks, batch, static_cast<int>(bh % masks.heads));
  const bool exact = mask.base && mask.dtype != kMaskBool;  // scores may be huge
  // The key tiles some row of the block sees; none when every row is masked out.
  const int kv_begin = rule.begin(q0) / kBc * kBc;
  const int kv_end = rule.end(min(q0 + kBr, lq) - 1);
  const int tiles = kv_end > kv_begin ? (kv_end - kv_begin + kBc - 1) / kBc : 0;

  if (tiles > 0) {
    load_rows<T, D, kBr, kStride, kThreads>(sq, qh, q0, lq, tid, span.q_stride);
    load_rows<T, D, kBc, kStride, kThreads>(sk, kh, kv_begin, lk, tid, span.kv_stride);
    cp_async_commit();
    load_rows<T, D, kBc, kStride, kThreads>(sv, vh, kv_begin, lk, tid, span.kv_stride);
    cp_async_commit();
  }

  const int wrow = warp * 16;  // the warp's first row in the tile
  uint32_t qf[D / 16][4];
  float acc[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[n][e] = 0.0f;
  // Rows g and g + 8 of the warp: running max (raw score) and this lane's
  // share of the running sum (summed over the quad at the end).
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.0f, 0.0f};

  for (int it = 0; it < tiles; ++it) {
    const int buf = it & 1;
    const int j0 = kv_begin + it * kBc;
    cp_async_wait<1>();  // Q and K[it]; V[it] may still be in flight
    __syncthreads();
    if (it == 0) {
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        ldmatrix_x4(qf[kk],
                    smem_u32(sq + (wrow + (lane & 15)) * kStride + kk * 16 + (lane >> 4) * 8));
      }
    }
    if (it + 1 < tiles) {
      load_rows<T, D, kBc, kStride, kThreads>(sk + (buf ^ 1) * C::kKvElems, kh, j0 + kBc, lk,
                                              tid, span.kv_stride);
    }
    cp_async_commit();

    // S = Q K^T: K rows are B's columns, so plain ldmatrix gives B fragments;
    // one x4 covers two n8 tiles (matrices: n 0-7 k 0-7, n 0-7 k 8-15,
    // n 8-15 k 0-7, n 8-15 k 8-15).
    float s[kBc / 8][4];
#pragma unroll
    for (int n = 0; n < kBc / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) s[n][e] = 0.0f;
    const T* skb = sk + buf * C::kKvElems;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
      for (int np = 0; np < kBc / 16; ++np) {
        uint32_t b[4];
        ldmatrix_x4(b, smem_u32(skb + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * kStride +
                                kk * 16 + ((lane >> 3) & 1) * 8));
        mma16816<T>(s[2 * np], qf[kk], b[0], b[1]);
        mma16816<T>(s[2 * np + 1], qf[kk], b[2], b[3]);
      }
    }

    // The warp's rows see [begin, end) growing with the row: the tile is
    // whole for all 16 when it lies inside the first row's end and the last
    // row's begin.
    if (mask.base || j0 + kBc > rule.end(q0 + wrow) || j0 < rule.begin(q0 + wrow + 15)) {
#pragma unroll
      for (int n = 0; n < kBc / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int col = j0 + n * 8 + 2 * t + (e & 1);
          const int row = q0 + wrow + g + (e >> 1) * 8;
          if (row >= lq || rule.hidden(row, col)) {
            s[n][e] = -INFINITY;
          } else if (mask.base) {
            // Raw scores: the mask divided by the scale lands added after it.
            s[n][e] += mask.scaled(row, col, inv_scale, mask_floor(scale_log2));
          }
        }
      }
    }

    // Online softmax; a quad's four lanes hold one row's 64 scores.
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float mx = row_max[r];
#pragma unroll
      for (int n = 0; n < kBc / 8; ++n) mx = fmaxf(mx, fmaxf(s[n][2 * r], s[n][2 * r + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      // A row with nothing visible yet keeps p = 0 instead of NaN.
      const float shift = mx == -INFINITY ? 0.0f : mx;
      float base = shift * scale_log2;
      float corr;
      if (exact) {
        // An additive mask can make the row max huge, and with it the
        // rounding error of shift * scale_log2: subtract first.
#pragma unroll
        for (int n = 0; n < kBc / 8; ++n) {
          s[n][2 * r] -= shift;
          s[n][2 * r + 1] -= shift;
        }
        base = 0.0f;
        corr = exp2f((row_max[r] - shift) * scale_log2);
      } else {
        corr = exp2f(row_max[r] * scale_log2 - base);
      }
      row_max[r] = mx;
      row_sum[r] *= corr;
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        acc[n][2 * r] *= corr;
        acc[n][2 * r + 1] *= corr;
      }
#pragma unroll
      for (int n = 0; n < kBc / 8; ++n) {
        const float p0 = exp2f(fmaf(s[n][2 * r], scale_log2, -base));
        const float p1 = exp2f(fmaf(s[n][2 * r + 1], scale_log2, -base));
        s[n][2 * r] = p0;
        s[n][2 * r + 1] = p1;
        row_sum[r] += p0 + p1;
      }
    }

    cp_async_wait<1>();  // V[it]; K[it + 1] may still be in flight
    __syncthreads();
    if (it + 1 < tiles) {
      load_rows<T, D, kBc, kStride, kThreads>(sv + (buf ^ 1) * C::kKvElems, vh, j0 + kBc, lk,
                                              tid, span.kv_stride);
    }
    cp_async_commit();

    // O += P V. The C fragments of n8 tiles 2kk and 2kk+1 are the A fragment
    // of k16 step kk. V rows are B's k index, so ldmatrix.trans gives B
    // fragments (matrices: k 0-7 n 0-7, k 8-15 n 0-7, k 0-7 n 8-15, k 8-15 n 8-15).
    const T* svb = sv + buf * C::kKvElems;
#pragma unroll
    for (int kk = 0; kk < kBc / 16; ++kk) {
      const uint32_t a[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]),
                             pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                             pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                             pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, smem_u32(svb + (kk * 16 + (lane & 15)) * kStride + dp * 16 +
                                      (lane >> 4) * 8));
        mma16816<T>(acc[2 * dp], a, b[0], b[1]);
        mma16816<T>(acc[2 * dp + 1], a, b[2], b[3]);
      }
    }
  }
  cp_async_wait<0>();

  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float l = row_sum[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    // A row that saw no key: zeros and lse -inf, as the CPU kernel.
    inv[r] = l > 0.0f ? 1.0f / l : 0.0f;
    const int row = q0 + wrow + g + 8 * r;
    if (lse && t == 0 && row < lq) {
      lse[span.rows + row] = l > 0.0f ? row_max[r] * scale + logf(l) : -INFINITY;
    }
  }

  // The warp's own Q rows (read only by it) stage the output for 16-byte stores.
  T* so = sq + wrow * kStride;
#pragma unroll
  for (int n = 0; n < D / 8; ++n) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      *reinterpret_cast<uint32_t*>(so + (g + 8 * r) * kStride + n * 8 + 2 * t) =
          pack2<T>(acc[n][2 * r] * inv[r], acc[n][2 * r + 1] * inv[r]);
    }
  }
  __syncwarp();
  constexpr int kChunks = D / 8;
#pragma unroll
  for (int i = 0; i < 16 * kChunks / 32; ++i) {
    const int c = lane + i * 32;
    const int row = c / kChunks;
    const int col = (c % kChunks) * 8;
    const int grow = q0 + wrow + row;
    if (grow < lq) {
      T* to = out + span.q + static_cast<int64_t>(grow) * span.q_stride + col;
      *reinterpret_cast<uint4*>(to) = *reinterpret_cast<const uint4*>(so + row * kStride + col);
    }
  }
#endif
}

template <class T, int D>
xrt_status_t launch(const xrt_kernel_context_t* ctx, const ForwardArgs& a, cudaStream_t stream) {
  using C = Fwd<D>;
  auto kernel = flash_forward<T, D>;
  const xrt_status_t status = allow_smem(ctx, reinterpret_cast<const void*>(kernel), C::kSmemBytes);
  if (status != XRT_OK) return status;
  const dim3 grid(static_cast<unsigned>(a.bh), static_cast<unsigned>((a.lq + C::kBr - 1) / C::kBr));
  kernel<<<grid, C::kThreads, C::kSmemBytes, stream>>>(
      static_cast<const T*>(a.q), static_cast<const T*>(a.k), static_cast<const T*>(a.v),
      static_cast<T*>(a.out), a.lse, static_cast<int>(a.lq), static_cast<int>(a.lk), a.scale,
      a.scale * kLog2e, 1.0f / a.scale, a.causal ? 1 : 0, static_cast<int>(a.group), a.masks,
      a.packing);
  return check_launch(ctx);
}

template <class T>
xrt_status_t launch_dtype(const xrt_kernel_context_t* ctx, const ForwardArgs& a,
                          cudaStream_t stream) {
  switch (a.d) {
    case 32: return launch<T, 32>(ctx, a, stream);
    case 64: return launch<T, 64>(ctx, a, stream);
    case 96: return launch<T, 96>(ctx, a, stream);
    default: return launch<T, 128>(ctx, a, stream);
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

xrt_status_t check_supported(const xrt_kernel_context_t* ctx, size_t first, unsigned handled) {
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  const xrt_kernel_tensor_t& k = ctx->inputs[first + 1];
  const xrt_kernel_tensor_t& v = ctx->inputs[first + 2];
  const char* op = op_name(ctx);
  const std::string feature = unsupported_features(ctx, first, handled);
  if (!feature.empty()) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda %s: %s is not supported by this kernel", op,
                feature.c_str());
  }
  // The masks are read element by element; the rest in 16-byte words.
  return check_fit(ctx, q.dtype, q.shape[3], v.shape[3], q.shape[0] * q.shape[1], q.shape[2],
                   k.shape[2], first == 0 ? 3 : 6, (handled & kHeadDims32And96) != 0);
}

xrt_status_t check_fit(const xrt_kernel_context_t* ctx, xrt_dtype_t dtype, int64_t d, int64_t dv,
                       int64_t bh, int64_t lq, int64_t lk, size_t aligned, bool more_head_dims) {
  const char* op = op_name(ctx);
  if (dtype != XRT_FLOAT16 && dtype != XRT_BFLOAT16) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: dtype %s is not supported (float16 and bfloat16 are)", op,
                dtype_name(dtype));
  }
  const bool known = d == 64 || d == 128 || (more_head_dims && (d == 32 || d == 96));
  if (d != dv || !known) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: %s with head_dim %lld (q, k) and %lld (v) is not supported; "
                "head_dim must be %s for q, k and v alike",
                op, dtype_name(dtype), static_cast<long long>(d), static_cast<long long>(dv),
                more_head_dims ? "32, 64, 96 or 128" : "64 or 128");
  }
  // Query tiles (forward) and key tiles (backward) are grid rows: 65535 at most.
  const int64_t max_len = int64_t{65535} * 64;
  if (bh > INT_MAX || lq > max_len || lk > max_len) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: batch*heads %lld, query length %lld or key length %lld is too large "
                "(at most %d, %lld and %lld)",
                op, static_cast<long long>(bh), static_cast<long long>(lq),
                static_cast<long long>(lk), INT_MAX, static_cast<long long>(max_len),
                static_cast<long long>(max_len));
  }
  return check_aligned_on_sm80(ctx, op, std::min(ctx->num_inputs, aligned));
}

xrt_status_t check_aligned_on_sm80(const xrt_kernel_context_t* ctx, const char* op,
                                   size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (!aligned16(ctx->inputs[i].data)) {
      return fail(ctx, XRT_ERROR_UNSUPPORTED,
                  "cuda %s: input %zu does not start on a 16-byte boundary", op, i);
    }
  }
  int dev = 0, major = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) {
    return check_launch(ctx);
  }
  if (major < 8) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: needs compute capability 8.0 or newer (device %d has %d.x)", op, dev,
                major);
  }
  return XRT_OK;
}

xrt_status_t allow_smem(const xrt_kernel_context_t* ctx, const void* kernel, size_t bytes) {
  int dev = 0, optin = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) !=
          cudaSuccess) {
    return check_launch(ctx);
  }
  if (bytes > static_cast<size_t>(optin)) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "cuda %s: needs %zu bytes of shared memory per block, device %d allows %d",
                op_name(ctx), bytes, dev, optin);
  }
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           static_cast<int>(bytes)) != cudaSuccess) {
    return check_launch(ctx);
  }
  return XRT_OK;
}

xrt_status_t launch_forward(const xrt_kernel_context_t* ctx, const ForwardArgs& a,
                            cudaStream_t stream) {
  if (a.bh == 0 || a.lq == 0) return XRT_OK;
  return a.dtype == XRT_FLOAT16 ? launch_dtype<__half>(ctx, a, stream)
                                : launch_dtype<__nv_bfloat16>(ctx, a, stream);
}

}  // namespace xrt::cuda::attn

namespace xrt::cuda {

namespace attn {

Masks index_masks(const xrt_kernel_context_t* ctx, int64_t heads, int64_t lq, int64_t lk) {
  Masks m{};
  m.heads = static_cast<int>(heads);
  // Windows wider than both lengths change nothing; clamped, the index
  // arithmetic stays within int.
  m.window = static_cast<int>(std::min(attr_int(ctx, "window_left", -1), lq + lk));
  m.bottom_right = attr_int(ctx, "causal_align", 0) == 1;
  return m;
}

Masks masks_of(const xrt_kernel_context_t* ctx, size_t first) {
  const size_t index = first == 0 ? 3 : 6;  // attn_mask, then key_lengths
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  Masks m = index_masks(ctx, q.shape[1], q.shape[2], ctx->inputs[first + 1].shape[2]);
  if (ctx->num_inputs > index + 1) {
    m.key_lengths = static_cast<const int32_t*>(ctx->inputs[index + 1].data);
  }
  if (ctx->num_inputs > index && ctx->inputs[index].data) {
    const xrt_kernel_tensor_t& mask = ctx->inputs[index];
    m.attn_mask = mask.data;
    m.mask_dtype = mask.dtype == XRT_BOOL ? kMaskBool
                   : mask.dtype == XRT_FLOAT32 ? kMaskFloat32 : kMaskHalves;
    for (int i = 0; i < 4; ++i) m.mask_strides[i] = mask.strides[i];
  }
  return m;
}

ForwardArgs forward_args(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& q = ctx->inputs[0];
  ForwardArgs a{};
  a.q = q.data;
  a.k = ctx->inputs[1].data;
  a.v = ctx->inputs[2].data;
  a.out = ctx->outputs[0].data;
  // attention_lse: the log-sum-exp of every query too.
  a.lse = ctx->num_outputs > 1 ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
  a.bh = q.shape[0] * q.shape[1];
  a.group = q.shape[1] / ctx->inputs[1].shape[1];
  a.lq = q.shape[2];
  a.lk = ctx->inputs[1].shape[2];
  a.d = static_cast<int>(q.shape[3]);
  a.scale = static_cast<float>(attr_float(ctx, "scale", 1.0 / std::sqrt(double(a.d))));
  a.causal = attr_int(ctx, "causal", 0) != 0;
  a.dtype = q.dtype;
  a.masks = masks_of(ctx, 0);
  return a;
}

}  // namespace attn

xrt_status_t run_attention(const xrt_kernel_context_t* ctx) {
  const xrt_status_t status = attn::check_supported(ctx, 0, attn::kSm80Features);
  if (status != XRT_OK) return status;
  return attn::launch_forward(ctx, attn::forward_args(ctx), stream_of(ctx));
}

}  // namespace xrt::cuda
