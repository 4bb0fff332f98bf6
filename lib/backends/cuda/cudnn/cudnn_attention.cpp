#include "cudnn_attention.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <unordered_map>

#include "cuda_status.h"
#include "cudnn_masks.h"
#include "cudnn_sdpa.h"
#include "kernels/kernel_util.h"
#include "kernels/vec.h"
#include "scratch.h"

namespace xrt::cuda {
namespace {

using namespace sdpa;

constexpr float kInf = std::numeric_limits<float>::infinity();

// What a call runs: attention; attention_lse (the forward with its
// statistics); attention_backward recomputing the forward first, or with
// the forward's output and statistics given.
enum class Pass { kForward, kForwardStats, kBackward, kBackwardGiven };

Pass pass_of(const xrt_kernel_context_t* ctx, bool backward) {
  if (!backward) return ctx->num_outputs > 1 ? Pass::kForwardStats : Pass::kForward;
  const bool given = ctx->num_inputs > 5 && ctx->inputs[5].data;
  return given ? Pass::kBackwardGiven : Pass::kBackward;
}

// One dense call: the cuDNN problem and what our own kernels add around it.
struct Call {
  Problem p;
  Pass pass = Pass::kForward;
  const xrt_kernel_tensor_t* mask = nullptr;  // attn_mask, broadcast to (B, H, Lq, Lk)
  const int32_t* key_lengths = nullptr;
  bool bias_copied = false;  // the mask is converted into a scratch bias
  bool fix_rows = false;     // some query may see no key: our fix-up runs
  cudnn_masks::KeyRule rule;
  std::string refusal;  // why cuDNN cannot serve the call, or ""
};

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// The mask is used in place when cuDNN can read it as a bias: q's dtype,
// unit column stride, 16-byte aligned rows of its own.
bool bias_in_place(const xrt_kernel_tensor_t& m, xrt_dtype_t dtype) {
  return m.dtype == dtype && (m.strides[3] == 1 || m.shape[3] == 1) &&
         (m.strides[2] != 0 || m.shape[2] == 1) && aligned16(m.data) &&
         (m.strides[2] * 2) % 16 == 0 && (m.strides[1] * 2) % 16 == 0 &&
         (m.strides[0] * 2) % 16 == 0;
}

// The mask goes to cuDNN as a packed copy in q's dtype, rows padded to 16 bytes.
void copy_bias(Call& c) {
  Problem& p = c.p;
  c.bias_copied = true;
  const int64_t ld = round_up(p.lk, 8);
  p.bias_strides = {p.bias_h * p.lq * ld, p.lq * ld, ld, 1};
}

// Expresses the mask inputs and attributes in cuDNN's terms; sets refusal
// where cuDNN has no equivalent.
void settle_masks(const xrt_kernel_context_t* ctx, size_t first, Call& c) {
  Problem& p = c.p;
  const size_t mask_index = first == 0 ? 3 : 6;
  if (ctx->num_inputs > mask_index && ctx->inputs[mask_index].data) c.mask = &ctx->inputs[mask_index];
  if (ctx->num_inputs > mask_index + 1 && ctx->inputs[mask_index + 1].data) {
    c.key_lengths = static_cast<const int32_t*>(ctx->inputs[mask_index + 1].data);
  }
  const bool causal = attr_int(ctx, "causal", 0) != 0;
  const int64_t window = attr_int(ctx, "window_left", -1);
  const bool banded = causal || window >= 0;
  // Bottom-right differs from top-left only where some batch entry has
  // fewer or more keys than queries.
  const bool bottom_right = attr_int(ctx, "causal_align", 0) == 1 && banded &&
                            (p.lq != p.lk || c.key_lengths);
  c.rule = {c.key_lengths, p.lk, causal, bottom_right, window};
  p.padding = c.key_lengths != nullptr;
  // cuDNN takes a band with more queries than keys only with lengths.
  if (banded && p.lq > p.lk) p.padding = true;
  if (causal) p.right = 0;
  if (window >= 0) p.left = window + 1;  // cuDNN keeps j > i - left; we keep j >= i - window
  p.bottom_right = bottom_right;
  c.fix_rows = c.key_lengths || c.mask || p.lq > p.lk;
  if (!c.mask) return;

  const xrt_kernel_tensor_t& m = *c.mask;
  p.bias_b = m.strides[0] == 0 ? 1 : p.b;
  p.bias_h = m.strides[1] == 0 ? 1 : p.h;
  if (bias_in_place(m, p.dtype)) {
    p.bias_strides = {m.strides[0], m.strides[1], m.strides[2], 1};
    if (p.bias_b == 1) p.bias_strides[0] = p.bias_h * std::max<int64_t>(m.strides[1], 1) * p.lq;
    if (p.bias_h == 1) p.bias_strides[1] = p.lq * std::max<int64_t>(m.strides[2], 1);
    if (p.lq == 1) p.bias_strides[2] = round_up(p.lk, 8);
  } else {
    copy_bias(c);
  }
  // cuDNN has no bias beside a bottom-right causal band; with the same
  // lengths everywhere it is a top-left band shifted by Lk - Lq.
  if (bottom_right && causal) {
    if (p.padding) {
      c.refusal = "attn_mask together with causal_align bottom_right and key_lengths "
                  "(or more queries than keys)";
      return;
    }
    const int64_t shift = p.lk - p.lq;
    p.bottom_right = false;
    p.right = shift;
    if (window >= 0) {
      p.left = window + 1 - shift;
      if (p.left < 1) {
        c.refusal = "attn_mask together with causal_align bottom_right and window_left " +
                    std::to_string(window) + " < Lk - Lq (" + std::to_string(shift) + ")";
      }
    }
  }
}

// The operands in the kernel's layouts (XRT_KERNEL_STRIDED): q, k, v at
// inputs[first..first+2]; the backward's grad at inputs[0], the forward's
// output at inputs[4] when given (else a packed recomputation), dq, dk, dv
// at outputs[0..2]; the forward's output at outputs[0].
Call call_of(const xrt_kernel_context_t* ctx, bool backward) {
  Call c;
  c.pass = pass_of(ctx, backward);
  const size_t first = backward ? 1 : 0;
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  const xrt_kernel_tensor_t& k = ctx->inputs[first + 1];
  const xrt_kernel_tensor_t& v = ctx->inputs[first + 2];
  Problem& p = c.p;
  p.b = q.shape[0];
  p.h = q.shape[1];
  p.lq = q.shape[2];
  p.lk = k.shape[2];
  p.d = q.shape[3];
  p.dv = v.shape[3];
  p.hk = k.shape[1];
  p.dtype = q.dtype;
  p.scale = static_cast<float>(attr_float(ctx, "scale", 1.0 / std::sqrt(double(q.shape[3]))));
  p.strides[kQ] = strides_of(q);
  p.strides[kK] = strides_of(k);
  p.strides[kV] = strides_of(v);
  p.strides[kStats] = packed(p.h, p.lq, 1);
  settle_masks(ctx, first, c);
  if (!backward) {
    p.strides[kO] = strides_of(ctx->outputs[0]);
    return c;
  }
  const bool given = c.pass == Pass::kBackwardGiven;
  p.strides[kO] = given ? strides_of(ctx->inputs[4]) : packed(p.h, p.lq, p.dv);
  p.strides[kGradO] = strides_of(ctx->inputs[0]);
  p.strides[kGradQ] = strides_of(ctx->outputs[0]);
  p.strides[kGradK] = strides_of(ctx->outputs[1]);
  p.strides[kGradV] = strides_of(ctx->outputs[2]);
  return c;
}

// The plans a pass needs for the current device; an error message when
// cuDNN cannot run it.
struct Plans {
  Call call;
  cudnnHandle_t handle = nullptr;
  const Plan* forward = nullptr;
  const Plan* backward = nullptr;
  std::string error;
};

// The plans of out.call's pass for out.handle; out.error when cuDNN has none.
void find_plans(Plans& out, bool backward) {
  const Problem& p = out.call.p;
  const Pass pass = out.call.pass;
  if (pass != Pass::kBackwardGiven) {
    const bool stats = pass != Pass::kForward;
    out.forward = &thread_plan(p.key(stats ? 's' : 'f'), out.handle,
                               [&] { return forward_graph(p, stats); });
    if (!out.forward->error.empty()) {
      out.error = "cuDNN has no forward plan: " + out.forward->error;
      return;
    }
  }
  if (backward) {
    out.backward = &thread_plan(p.key('b'), out.handle, [&] { return backward_graph(p); });
    if (!out.backward->error.empty()) out.error = "cuDNN has no backward plan: " + out.backward->error;
  }
}

Plans plans_for(const xrt_kernel_context_t* ctx, bool backward) {
  Plans out;
  out.call = call_of(ctx, backward);
  const Problem& p = out.call.p;
  if (!out.call.refusal.empty()) {
    out.error = out.call.refusal + " has no cuDNN equivalent";
    return out;
  }
  if (p.dtype != XRT_FLOAT16 && p.dtype != XRT_BFLOAT16) {
    out.error = std::string("dtype ") + dtype_name(p.dtype) +
                " is not supported (float16 and bfloat16 are)";
    return out;
  }
  if (p.b * p.h == 0 || p.lq == 0 || p.lk == 0) {
    out.error = "empty operands are left to the flash kernel";
    return out;
  }
  for (size_t i = 0; i < ctx->num_inputs; ++i) {
    const bool is_mask = out.call.mask == &ctx->inputs[i];
    if (!is_mask && !aligned16(ctx->inputs[i].data) && ctx->inputs[i].dtype != XRT_INT32) {
      out.error = "input " + std::to_string(i) + " does not start on a 16-byte boundary";
      return out;
    }
  }
  std::string why;
  const size_t first = backward ? 1 : 0;
  out.handle = thread_handle(ctx->inputs[first].device_index, &why);
  if (!out.handle) {
    out.error = why;
    return out;
  }
  find_plans(out, backward);
  // A mask cuDNN would not read in place may still run as a packed copy.
  if (!out.error.empty() && out.call.mask && !out.call.bias_copied) {
    copy_bias(out.call);
    out.error.clear();
    find_plans(out, backward);
  }
  return out;
}

int32_t supports(const xrt_kernel_context_t* ctx, bool backward) {
  try {
    DeviceGuard guard(ctx->inputs[0].device_index);
    const Plans plans = plans_for(ctx, backward);
    if (plans.error.empty()) return 1;
    fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), plans.error.c_str());
  } catch (const std::exception& e) {
    fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), e.what());
  }
  return 0;
}

void* input_data(const xrt_kernel_context_t* ctx, size_t i) {
  return const_cast<void*>(ctx->inputs[i].data);
}

// Stream-ordered scratch buffers, freed together when the call ends.
class Scratch {
 public:
  explicit Scratch(cudaStream_t stream) : stream_(stream) {}
  ~Scratch() {
    for (int i = count_ - 1; i >= 0; --i) scratch_free(buffers_[i], stream_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  void* get(size_t bytes) {
    if (count_ == kMax) return nullptr;
    void* p = scratch_alloc(std::max<size_t>(bytes, 1), stream_);
    if (p) buffers_[count_++] = p;
    return p;
  }

 private:
  static constexpr int kMax = 8;
  cudaStream_t stream_;
  void* buffers_[kMax] = {};
  int count_ = 0;
};

cudnn_masks::MaskRef mask_ref(const Call& c) {
  cudnn_masks::MaskRef m;
  if (!c.mask) return m;
  m.data = c.mask->data;
  m.dtype = c.mask->dtype;
  for (int i = 0; i < 4; ++i) m.strides[i] = c.mask->strides[i];
  return m;
}

xrt_status_t cuda_failed(const xrt_kernel_context_t* ctx, cudaError_t e) {
  return fail(ctx, XRT_ERROR_BACKEND, "cudnn %s: %s", op_name(ctx), cudaGetErrorString(e));
}

xrt_status_t out_of_memory(const xrt_kernel_context_t* ctx) {
  return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cudnn %s: no device memory for scratch buffers",
              op_name(ctx));
}

// Adds the bias and the sequence lengths the masks need to pack.
xrt_status_t mask_operands(const xrt_kernel_context_t* ctx, const Call& c, Scratch& scratch,
                           std::unordered_map<int64_t, void*>& pack) {
  const Problem& p = c.p;
  cudaStream_t stream = stream_of(ctx);
  if (c.mask) {
    void* bias = input_data(ctx, static_cast<size_t>(c.mask - ctx->inputs));
    if (c.bias_copied) {
      bias = scratch.get(static_cast<size_t>(p.bias_b * p.bias_strides[0]) * 2);
      if (!bias) return out_of_memory(ctx);
      const cudaError_t e = cudnn_masks::mask_to_bias(mask_ref(c), p.dtype, p.bias_b, p.bias_h,
                                                      p.lq, p.lk, p.bias_strides[2], bias, stream);
      if (e != cudaSuccess) return cuda_failed(ctx, e);
    }
    pack.emplace(kBias, bias);
  }
  if (p.padding) {
    auto* lengths = static_cast<int32_t*>(scratch.get(static_cast<size_t>(2 * p.b) * 4));
    if (!lengths) return out_of_memory(ctx);
    const cudaError_t e = cudnn_masks::sequence_lengths(c.key_lengths, p.b, p.lq, p.lk, lengths,
                                                        lengths + p.b, stream);
    if (e != cudaSuccess) return cuda_failed(ctx, e);
    pack.emplace(kSeqQ, lengths);
    pack.emplace(kSeqKV, lengths + p.b);
  }
  return XRT_OK;
}

// Rows that see no key: out (width elements at strides) zeroed, lse set.
xrt_status_t fix_rows(const xrt_kernel_context_t* ctx, const Call& c, void* out,
                      const Strides& strides, int64_t width, float* lse, float masked_lse) {
  const int64_t s[4] = {strides[0], strides[1], strides[2], strides[3]};
  const cudaError_t e = cudnn_masks::fix_masked_rows(c.rule, mask_ref(c), c.p.b, c.p.h, c.p.lq,
                                                     out, s, width, c.p.dtype, lse, masked_lse,
                                                     stream_of(ctx));
  return e == cudaSuccess ? XRT_OK : cuda_failed(ctx, e);
}

// Zeroes every element out's shape and strides address.
cudaError_t zero_tensor(const xrt_kernel_tensor_t& t, cudaStream_t stream) {
  int64_t extent = 1;
  for (int i = 0; i < t.ndim; ++i) {
    if (t.shape[i] == 0) return cudaSuccess;
    extent += (t.shape[i] - 1) * t.strides[i];
  }
  return cudaMemsetAsync(t.data, 0, static_cast<size_t>(extent) * 2, stream);
}

xrt_status_t run_forward(const xrt_kernel_context_t* ctx, const Plans& plans) {
  const Call& c = plans.call;
  Scratch scratch(stream_of(ctx));
  std::unordered_map<int64_t, void*> pack{{kQ, input_data(ctx, 0)},
                                          {kK, input_data(ctx, 1)},
                                          {kV, input_data(ctx, 2)},
                                          {kO, ctx->outputs[0].data}};
  float* lse = c.pass == Pass::kForwardStats ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
  if (lse) pack.emplace(kStats, lse);
  xrt_status_t status = mask_operands(ctx, c, scratch, pack);
  if (status == XRT_OK) status = execute(ctx, plans.handle, *plans.forward, pack);
  if (status == XRT_OK && c.fix_rows) {
    status = fix_rows(ctx, c, ctx->outputs[0].data, c.p.strides[kO], c.p.dv, lse, -kInf);
  }
  return status;
}

xrt_status_t run_backward(const xrt_kernel_context_t* ctx, const Plans& plans) {
  const Call& c = plans.call;
  const Problem& p = c.p;
  cudaStream_t stream = stream_of(ctx);
  Scratch scratch(stream);
  std::unordered_map<int64_t, void*> pack;
  xrt_status_t status = mask_operands(ctx, c, scratch, pack);
  if (status != XRT_OK) return status;
  void* o = nullptr;
  float* lse = nullptr;
  if (c.pass == Pass::kBackwardGiven) {
    o = input_data(ctx, 4);
    lse = static_cast<float*>(input_data(ctx, 5));
    const xrt_kernel_tensor_t& given = ctx->inputs[5];
    const int64_t s[3] = {given.strides[0], given.strides[1], given.strides[2]};
    const bool packed_lse = (s[2] == 1 || p.lq == 1) && (s[1] == p.lq || p.h == 1) &&
                            (s[0] == p.h * p.lq || p.b == 1);
    // -inf (no key seen) must reach cuDNN as +inf, and cuDNN reads the
    // statistics packed.
    if (c.fix_rows || !packed_lse) {
      auto* copy = static_cast<float*>(scratch.get(static_cast<size_t>(p.b * p.h * p.lq) * 4));
      if (!copy) return out_of_memory(ctx);
      const cudaError_t e = cudnn_masks::lse_for_backward(lse, s, p.b, p.h, p.lq, copy, stream);
      if (e != cudaSuccess) return cuda_failed(ctx, e);
      lse = copy;
    }
  } else {
    o = scratch.get(static_cast<size_t>(p.b * p.h * p.lq * p.dv) * 2);
    lse = static_cast<float*>(scratch.get(static_cast<size_t>(p.b * p.h * p.lq) * 4));
    if (!o || !lse) return out_of_memory(ctx);
    std::unordered_map<int64_t, void*> forward = pack;
    forward.insert({{kQ, input_data(ctx, 1)}, {kK, input_data(ctx, 2)},
                    {kV, input_data(ctx, 3)}, {kO, o}, {kStats, lse}});
    status = execute(ctx, plans.handle, *plans.forward, forward);
    if (status == XRT_OK && c.fix_rows) status = fix_rows(ctx, c, o, p.strides[kO], p.dv, lse, kInf);
    if (status != XRT_OK) return status;
  }
  // Keys past a batch entry's length get no gradient; cuDNN may not write them.
  if (p.padding) {
    for (size_t i = 1; i <= 2; ++i) {
      const cudaError_t e = zero_tensor(ctx->outputs[i], stream);
      if (e != cudaSuccess) return cuda_failed(ctx, e);
    }
  }
  pack.insert({{kQ, input_data(ctx, 1)}, {kK, input_data(ctx, 2)}, {kV, input_data(ctx, 3)},
               {kO, o}, {kStats, lse}, {kGradO, input_data(ctx, 0)},
               {kGradQ, ctx->outputs[0].data}, {kGradK, ctx->outputs[1].data},
               {kGradV, ctx->outputs[2].data}});
  status = execute(ctx, plans.handle, *plans.backward, pack);
  if (status == XRT_OK && c.fix_rows) {
    status = fix_rows(ctx, c, ctx->outputs[0].data, p.strides[kGradQ], p.d, nullptr, 0.0f);
  }
  return status;
}

xrt_status_t run(const xrt_kernel_context_t* ctx, bool backward) {
  const Plans plans = plans_for(ctx, backward);
  if (!plans.error.empty()) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), plans.error.c_str());
  }
  return backward ? run_backward(ctx, plans) : run_forward(ctx, plans);
}

xrt_status_t guarded_run(const xrt_kernel_context_t* ctx, bool backward) {
  try {
    return run(ctx, backward);
  } catch (const std::exception& e) {
    return fail(ctx, XRT_ERROR_BACKEND, "cudnn %s: %s", op_name(ctx), e.what());
  }
}

}  // namespace

int32_t cudnn_attention_supports(const xrt_kernel_context_t* ctx) { return supports(ctx, false); }
int32_t cudnn_attention_backward_supports(const xrt_kernel_context_t* ctx) {
  return supports(ctx, true);
}
xrt_status_t run_cudnn_attention(const xrt_kernel_context_t* ctx) {
  return guarded_run(ctx, false);
}
xrt_status_t run_cudnn_attention_backward(const xrt_kernel_context_t* ctx) {
  return guarded_run(ctx, true);
}

}  // namespace xrt::cuda
