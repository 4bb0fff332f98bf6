// attention_varlen (and _lse, _backward) through cuDNN: the packed
// (total_tokens, heads, head_dim) rows are ragged tensors of a padded
// (batch, heads, max_len, head_dim) problem, each sequence at its offset.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/common/cu_seqlens.h"
#include "cuda_status.h"
#include "cudnn_attention.h"
#include "cudnn_masks.h"
#include "cudnn_sdpa.h"
#include "kernels/kernel_util.h"
#include "kernels/vec.h"
#include "scratch.h"

namespace xrt::cuda {
namespace {

using namespace sdpa;

// Inputs: forward q, k, v, cu_seqlens_q, cu_seqlens_k; backward grad first
// and output, lse after them.
struct Varlen {
  Problem p;
  bool backward = false;
  bool given = false;  // the backward got the forward's output and lse
  bool stats = false;  // the forward writes lse
  size_t first = 0;    // q's input index
  int64_t total_q = 0, total_k = 0;
  bool causal = false, bottom_right = false;
  int64_t window = -1;
  // Host copies: seq_q, seq_kv (b each), then the offsets of q, k, v, o
  // (b + 1 each), uploaded as one block.
  std::vector<int32_t> lengths;
  std::string error;  // why cuDNN does not run the call, or ""
  xrt_status_t error_status = XRT_ERROR_UNSUPPORTED;
};

// Padded lengths come in powers of two (at least 64), so that calls whose
// longest sequence differs a little share a plan.
int64_t bucket(int64_t n) {
  int64_t b = 64;
  while (b < n) b *= 2;
  return b;
}

std::vector<int32_t> copy_to_host(const xrt_kernel_tensor_t& t, cudaStream_t stream,
                                  std::string* error) {
  std::vector<int32_t> host(static_cast<size_t>(t.shape[0]));
  cudaError_t e = cudaMemcpyAsync(host.data(), t.data, host.size() * 4, cudaMemcpyDeviceToHost,
                                  stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess) *error = std::string("reading cu_seqlens: ") + cudaGetErrorString(e);
  return host;
}

// Reads cu_seqlens (one synchronization), checks them and fills
// c.lengths; *max_q and *max_k get the longest sequences.
void read_lengths(const xrt_kernel_context_t* ctx, Varlen& c, int64_t* max_q, int64_t* max_k) {
  const Problem& p = c.p;
  cudaStream_t stream = stream_of(ctx);
  const std::vector<int32_t> cu_q = copy_to_host(ctx->inputs[c.first + 3], stream, &c.error);
  const std::vector<int32_t> cu_k = copy_to_host(ctx->inputs[c.first + 4], stream, &c.error);
  if (!c.error.empty()) {
    c.error_status = XRT_ERROR_BACKEND;
    return;
  }
  // The CPU kernel's rule and messages (backends/common/cu_seqlens.h).
  xrt_status_t status = kernel::check_cu_seqlens(
      ctx, cu_q.data(), static_cast<int64_t>(cu_q.size()), "cu_seqlens_q", c.total_q,
      attr_int(ctx, "max_seqlen_q", -1), max_q);
  if (status == XRT_OK) {
    status = kernel::check_cu_seqlens(ctx, cu_k.data(), static_cast<int64_t>(cu_k.size()),
                                      "cu_seqlens_k", c.total_k,
                                      attr_int(ctx, "max_seqlen_k", -1), max_k);
  }
  if (status != XRT_OK) {
    c.error = ctx->error && ctx->error[0] ? ctx->error : "cu_seqlens are not valid";
    c.error_status = status;
    return;
  }
  const size_t n = static_cast<size_t>(p.b);
  c.lengths.resize(2 * n + 4 * (n + 1));
  int32_t* seq_q = c.lengths.data();
  int32_t* seq_kv = seq_q + n;
  int32_t* offsets = seq_kv + n;
  for (size_t b = 0; b < n; ++b) {
    seq_q[b] = cu_q[b + 1] - cu_q[b];
    seq_kv[b] = cu_k[b + 1] - cu_k[b];
  }
  const int64_t scale[4] = {p.h * p.d, p.hk * p.d, p.hk * p.dv, p.h * p.dv};
  const std::vector<int32_t>* cu[4] = {&cu_q, &cu_k, &cu_k, &cu_q};
  for (size_t t = 0; t < 4; ++t)
    for (size_t b = 0; b <= n; ++b)
      offsets[t * (n + 1) + b] = static_cast<int32_t>((*cu[t])[b] * scale[t]);
}

// The call and its padded problem. The run reads and checks cu_seqlens
// (read = true); supports() does so only when max_seqlen_q and _k are not
// both given, since they bound the padded lengths just as well.
Varlen varlen_of(const xrt_kernel_context_t* ctx, bool backward, bool read) {
  Varlen c;
  c.backward = backward;
  c.first = backward ? 1 : 0;
  c.given = backward && ctx->num_inputs > 7 && ctx->inputs[7].data;
  c.stats = !backward && ctx->num_outputs > 1;
  const xrt_kernel_tensor_t& q = ctx->inputs[c.first];
  const xrt_kernel_tensor_t& k = ctx->inputs[c.first + 1];
  const xrt_kernel_tensor_t& v = ctx->inputs[c.first + 2];
  Problem& p = c.p;
  p.b = ctx->inputs[c.first + 3].shape[0] - 1;
  p.h = q.shape[1];
  p.hk = k.shape[1];
  p.d = q.shape[2];
  p.dv = v.shape[2];
  p.dtype = q.dtype;
  p.scale = static_cast<float>(attr_float(ctx, "scale", 1.0 / std::sqrt(double(p.d))));
  c.total_q = q.shape[0];
  c.total_k = k.shape[0];
  c.causal = attr_int(ctx, "causal", 0) != 0;
  c.window = attr_int(ctx, "window_left", -1);
  c.bottom_right = attr_int(ctx, "causal_align", 0) == 1 && (c.causal || c.window >= 0);
  if (p.dtype != XRT_FLOAT16 && p.dtype != XRT_BFLOAT16) {
    c.error = std::string("dtype ") + dtype_name(p.dtype) +
              " is not supported (float16 and bfloat16 are)";
    return c;
  }
  const int64_t width = std::max(p.d, p.dv);
  if (c.total_q * p.h * width > std::numeric_limits<int32_t>::max() ||
      c.total_k * p.hk * width > std::numeric_limits<int32_t>::max()) {
    c.error = "more than 2^31 elements in q, k or v (cuDNN's ragged offsets are int32 here)";
    return c;
  }
  int64_t max_q = attr_int(ctx, "max_seqlen_q", -1), max_k = attr_int(ctx, "max_seqlen_k", -1);
  if (read || max_q < 0 || max_k < 0) {
    int64_t longest_q = 0, longest_k = 0;
    read_lengths(ctx, c, &longest_q, &longest_k);
    if (!c.error.empty()) return c;
    if (max_q < 0) max_q = longest_q;
    if (max_k < 0) max_k = longest_k;
  }
  p.lq = bucket(max_q);
  p.lk = bucket(max_k);
  p.padding = p.ragged = true;
  if (c.causal) p.right = 0;
  if (c.window >= 0) p.left = c.window + 1;
  p.bottom_right = c.bottom_right;
  // Rows of one token: (b, h, s, d) at strides (-, d, h * d, 1).
  p.strides[kQ] = p.strides[kGradQ] = {p.lq * p.h * p.d, p.d, p.h * p.d, 1};
  p.strides[kK] = p.strides[kGradK] = {p.lk * p.hk * p.d, p.d, p.hk * p.d, 1};
  p.strides[kV] = p.strides[kGradV] = {p.lk * p.hk * p.dv, p.dv, p.hk * p.dv, 1};
  p.strides[kO] = p.strides[kGradO] = {p.lq * p.h * p.dv, p.dv, p.h * p.dv, 1};
  p.strides[kStats] = packed(p.h, p.lq, 1);
  return c;
}

bool trivial(const Varlen& c) { return c.total_q == 0 || c.total_k == 0 || c.p.b == 0; }

struct Plans {
  Varlen call;
  cudnnHandle_t handle = nullptr;
  const Plan* forward = nullptr;
  const Plan* backward = nullptr;
};

// The plans for the call; call.error says why there are none. Calls
// without queries or keys need no plan.
Plans plans_for(const xrt_kernel_context_t* ctx, bool backward, bool read) {
  Plans out;
  out.call = varlen_of(ctx, backward, read);
  Varlen& c = out.call;
  if (!c.error.empty() || trivial(c)) return out;
  for (size_t i = 0; i < ctx->num_inputs; ++i) {
    if (ctx->inputs[i].dtype != XRT_INT32 && !aligned16(ctx->inputs[i].data)) {
      c.error = "input " + std::to_string(i) + " does not start on a 16-byte boundary";
      return out;
    }
  }
  out.handle = thread_handle(ctx->inputs[c.first].device_index, &c.error);
  if (!out.handle) return out;
  const Problem& p = c.p;
  const bool stats = backward ? !c.given : c.stats;
  if (!c.given) {
    out.forward = &thread_plan(p.key(stats ? 's' : 'f'), out.handle,
                               [&] { return forward_graph(p, stats); });
    if (!out.forward->error.empty()) {
      c.error = "cuDNN has no forward plan: " + out.forward->error;
      return out;
    }
  }
  if (backward) {
    out.backward = &thread_plan(p.key('b'), out.handle, [&] { return backward_graph(p); });
    if (!out.backward->error.empty()) c.error = "cuDNN has no backward plan: " + out.backward->error;
  }
  return out;
}

int32_t supports(const xrt_kernel_context_t* ctx, bool backward) {
  try {
    DeviceGuard guard(ctx->inputs[0].device_index);
    const Plans plans = plans_for(ctx, backward, false);
    // Bad cu_seqlens are reported by the run, as an InvalidArgument.
    if (plans.call.error.empty() || plans.call.error_status == XRT_ERROR_INVALID_ARGUMENT) {
      return 1;
    }
    fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), plans.call.error.c_str());
  } catch (const std::exception& e) {
    fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), e.what());
  }
  return 0;
}

void* input_data(const xrt_kernel_context_t* ctx, size_t i) {
  return const_cast<void*>(ctx->inputs[i].data);
}

xrt_status_t cuda_failed(const xrt_kernel_context_t* ctx, cudaError_t e) {
  return fail(ctx, XRT_ERROR_BACKEND, "cudnn %s: %s", op_name(ctx), cudaGetErrorString(e));
}

// Owns the call's scratch buffers (stream-ordered).
class Buffers {
 public:
  explicit Buffers(cudaStream_t stream) : stream_(stream) {}
  ~Buffers() {
    for (auto it = held_.rbegin(); it != held_.rend(); ++it) scratch_free(*it, stream_);
  }
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
  void* get(size_t bytes) {
    void* p = scratch_alloc(std::max<size_t>(bytes, 1), stream_);
    if (p) held_.push_back(p);
    return p;
  }

 private:
  cudaStream_t stream_;
  std::vector<void*> held_;
};

// Uploads the lengths and offsets and adds them to pack.
xrt_status_t index_operands(const xrt_kernel_context_t* ctx, const Varlen& c, Buffers& buffers,
                            std::unordered_map<int64_t, void*>& pack) {
  auto* dev = static_cast<int32_t*>(buffers.get(c.lengths.size() * 4));
  if (!dev) {
    return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cudnn %s: no device memory for sequence lengths",
                op_name(ctx));
  }
  const cudaError_t e = cudaMemcpyAsync(dev, c.lengths.data(), c.lengths.size() * 4,
                                        cudaMemcpyHostToDevice, stream_of(ctx));
  if (e != cudaSuccess) return cuda_failed(ctx, e);
  const int64_t n = c.p.b;
  pack.emplace(kSeqQ, dev);
  pack.emplace(kSeqKV, dev + n);
  int32_t* offsets = dev + 2 * n;
  pack.emplace(kOffsetQ, offsets);
  pack.emplace(kOffsetK, offsets + (n + 1));
  pack.emplace(kOffsetV, offsets + 2 * (n + 1));
  pack.emplace(kOffsetO, offsets + 3 * (n + 1));
  return XRT_OK;
}

const int32_t* cu_q_of(const xrt_kernel_context_t* ctx, const Varlen& c) {
  return static_cast<const int32_t*>(ctx->inputs[c.first + 3].data);
}
const int32_t* cu_k_of(const xrt_kernel_context_t* ctx, const Varlen& c) {
  return static_cast<const int32_t*>(ctx->inputs[c.first + 4].data);
}

// Rows that see no key: out (width per row) zeroed and lse_out -inf; the
// others' lse_out from stats.
xrt_status_t finish(const xrt_kernel_context_t* ctx, const Varlen& c, void* out, int64_t width,
                    const float* stats, float* lse_out) {
  const cudaError_t e = cudnn_masks::varlen_finish(
      cu_q_of(ctx, c), cu_k_of(ctx, c), c.p.b, c.p.h, c.total_q, c.p.lq, c.causal,
      c.bottom_right, c.window, out, width, c.p.dtype, stats, lse_out, stream_of(ctx));
  return e == cudaSuccess ? XRT_OK : cuda_failed(ctx, e);
}

// The forward into out (and lse (h, total_q) when not nullptr).
xrt_status_t forward(const xrt_kernel_context_t* ctx, const Plans& plans, Buffers& buffers,
                     std::unordered_map<int64_t, void*> pack, void* out, float* lse) {
  const Varlen& c = plans.call;
  float* stats = nullptr;
  if (lse) {
    stats = static_cast<float*>(buffers.get(static_cast<size_t>(c.p.b * c.p.h * c.p.lq) * 4));
    if (!stats) {
      return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cudnn %s: no device memory for statistics",
                  op_name(ctx));
    }
    pack.emplace(kStats, stats);
  }
  pack.insert({{kQ, input_data(ctx, c.first)}, {kK, input_data(ctx, c.first + 1)},
               {kV, input_data(ctx, c.first + 2)}, {kO, out}});
  xrt_status_t status = execute(ctx, plans.handle, *plans.forward, pack);
  if (status == XRT_OK) status = finish(ctx, c, out, c.p.dv, stats, lse);
  return status;
}

xrt_status_t run_backward(const xrt_kernel_context_t* ctx, const Plans& plans, Buffers& buffers,
                          std::unordered_map<int64_t, void*>& pack) {
  const Varlen& c = plans.call;
  const Problem& p = c.p;
  cudaStream_t stream = stream_of(ctx);
  const size_t rows = static_cast<size_t>(p.h * c.total_q);
  void* o = c.given ? input_data(ctx, 6) : nullptr;
  const float* lse = c.given ? static_cast<const float*>(input_data(ctx, 7)) : nullptr;
  if (!c.given) {
    o = buffers.get(rows * static_cast<size_t>(p.dv) * 2);
    float* computed = static_cast<float*>(buffers.get(rows * 4));
    if (!o || !computed) {
      return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cudnn %s: no device memory for the recomputed "
                  "output", op_name(ctx));
    }
    const xrt_status_t status = forward(ctx, plans, buffers, pack, o, computed);
    if (status != XRT_OK) return status;
    lse = computed;
  }
  auto* stats = static_cast<float*>(buffers.get(static_cast<size_t>(p.b * p.h * p.lq) * 4));
  if (!stats) {
    return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cudnn %s: no device memory for statistics",
                op_name(ctx));
  }
  cudaError_t e = cudaMemsetAsync(stats, 0, static_cast<size_t>(p.b * p.h * p.lq) * 4, stream);
  if (e == cudaSuccess) {
    e = cudnn_masks::varlen_stats(cu_q_of(ctx, c), p.b, p.h, c.total_q, p.lq, lse, stats, stream);
  }
  // Keys of sequences without queries get no gradient; cuDNN may not write them.
  for (size_t i = 1; e == cudaSuccess && i <= 2; ++i) {
    e = cudaMemsetAsync(ctx->outputs[i].data, 0, static_cast<size_t>(numel(ctx->outputs[i])) * 2,
                        stream);
  }
  if (e != cudaSuccess) return cuda_failed(ctx, e);
  pack.insert({{kQ, input_data(ctx, 1)}, {kK, input_data(ctx, 2)}, {kV, input_data(ctx, 3)},
               {kO, o}, {kStats, stats}, {kGradO, input_data(ctx, 0)},
               {kGradQ, ctx->outputs[0].data}, {kGradK, ctx->outputs[1].data},
               {kGradV, ctx->outputs[2].data}});
  xrt_status_t status = execute(ctx, plans.handle, *plans.backward, pack);
  if (status == XRT_OK) status = finish(ctx, c, ctx->outputs[0].data, p.d, nullptr, nullptr);
  return status;
}

// No queries or no keys: zeros (and lse -inf) without cuDNN.
xrt_status_t run_trivial(const xrt_kernel_context_t* ctx, const Varlen& c) {
  cudaStream_t stream = stream_of(ctx);
  if (!c.backward) {
    float* lse = c.stats ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
    if (c.p.b == 0) {
      const cudaError_t e = cudaMemsetAsync(ctx->outputs[0].data, 0,
                                            static_cast<size_t>(numel(ctx->outputs[0])) * 2,
                                            stream);
      return e == cudaSuccess ? XRT_OK : cuda_failed(ctx, e);
    }
    return finish(ctx, c, ctx->outputs[0].data, c.p.dv, nullptr, lse);
  }
  for (size_t i = 0; i < 3; ++i) {
    const cudaError_t e = cudaMemsetAsync(ctx->outputs[i].data, 0,
                                          static_cast<size_t>(numel(ctx->outputs[i])) * 2, stream);
    if (e != cudaSuccess) return cuda_failed(ctx, e);
  }
  return XRT_OK;
}

xrt_status_t run(const xrt_kernel_context_t* ctx, bool backward) {
  const Plans plans = plans_for(ctx, backward, true);
  const Varlen& c = plans.call;
  if (!c.error.empty()) {
    return fail(ctx, c.error_status, "cudnn %s: %s", op_name(ctx), c.error.c_str());
  }
  if (trivial(c)) return run_trivial(ctx, c);
  Buffers buffers(stream_of(ctx));
  std::unordered_map<int64_t, void*> pack;
  const xrt_status_t status = index_operands(ctx, c, buffers, pack);
  if (status != XRT_OK) return status;
  if (backward) return run_backward(ctx, plans, buffers, pack);
  float* lse = c.stats ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
  return forward(ctx, plans, buffers, pack, ctx->outputs[0].data, lse);
}

xrt_status_t guarded_run(const xrt_kernel_context_t* ctx, bool backward) {
  try {
    return run(ctx, backward);
  } catch (const std::exception& e) {
    return fail(ctx, XRT_ERROR_BACKEND, "cudnn %s: %s", op_name(ctx), e.what());
  }
}

}  // namespace

int32_t cudnn_attention_varlen_supports(const xrt_kernel_context_t* ctx) {
  return supports(ctx, false);
}
int32_t cudnn_attention_varlen_backward_supports(const xrt_kernel_context_t* ctx) {
  return supports(ctx, true);
}
xrt_status_t run_cudnn_attention_varlen(const xrt_kernel_context_t* ctx) {
  return guarded_run(ctx, false);
}
xrt_status_t run_cudnn_attention_varlen_backward(const xrt_kernel_context_t* ctx) {
  return guarded_run(ctx, true);
}

}  // namespace xrt::cuda
