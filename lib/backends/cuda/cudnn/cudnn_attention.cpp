#include "cudnn_attention.h"

#include <cuda_runtime.h>

// cuDNN's symbols are looked up in the library cudnn_library() opened, so the
// plugin links nothing of cuDNN and loads without it.
#define NV_CUDNN_FRONTEND_USE_DYNAMIC_LOADING
#include <cudnn_frontend.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda_status.h"
#include "cudnn_library.h"
#include "attention/mask_support.h"
#include "kernels/kernel_util.h"
#include "kernels/vec.h"
#include "scratch.h"

namespace xrt::cuda {
namespace {

namespace fe = cudnn_frontend;

// Tensor ids in the graphs' variant packs.
enum Uid : int64_t { kQ = 1, kK, kV, kO, kStats, kGradO, kGradQ, kGradK, kGradV };

using Strides = std::array<int64_t, 4>;

// One attention call's sizes and layouts; the key of the plan cache.
struct Problem {
  int64_t b, h, lq, lk, d, dv;
  int64_t hk;  // k and v's heads: h, or a divisor of it (grouped-query attention)
  xrt_dtype_t dtype;
  bool causal;
  float scale;
  Strides strides[kGradV + 1];  // by Uid; kStats is always packed

  std::string key(char kind) const {
    char text[160];
    std::snprintf(text, sizeof text, "%c %d %lld %lld %lld %lld %lld %lld %lld %d %a", kind,
                  static_cast<int>(dtype), static_cast<long long>(b), static_cast<long long>(h),
                  static_cast<long long>(hk),
                  static_cast<long long>(lq), static_cast<long long>(lk),
                  static_cast<long long>(d), static_cast<long long>(dv), causal ? 1 : 0,
                  static_cast<double>(scale));
    std::string out = text;
    for (const Strides& s : strides)
      for (int64_t x : s) out += ' ' + std::to_string(x);
    return out;
  }
};

Strides packed(int64_t h, int64_t s, int64_t d) { return {h * s * d, s * d, d, 1}; }

// A (b, heads, s, d) operand's strides; an axis of length 1 is given the
// outermost stride, since any stride is right for it and cuDNN checks them.
Strides strides_of(const xrt_kernel_tensor_t& t) {
  Strides out{};
  int64_t outer = 1;
  for (int i = 0; i < 4; ++i) {
    out[i] = t.strides[i];
    if (t.shape[i] > 1) outer = std::max(outer, t.strides[i] * t.shape[i]);
  }
  for (int i = 0; i < 4; ++i)
    if (t.shape[i] == 1) out[i] = outer;
  return out;
}

// The operands in the kernel's layouts (XRT_KERNEL_STRIDED): q, k, v at
// inputs[first..first+2]; the backward's grad at inputs[0], the forward's
// output at inputs[4] when given (else a packed recomputation), dq, dk, dv
// at outputs[0..2]; the forward's output at outputs[0].
Problem problem_of(const xrt_kernel_context_t* ctx, bool backward) {
  const size_t first = backward ? 1 : 0;
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  const xrt_kernel_tensor_t& k = ctx->inputs[first + 1];
  const xrt_kernel_tensor_t& v = ctx->inputs[first + 2];
  Problem p{q.shape[0], q.shape[1], q.shape[2], k.shape[2], q.shape[3], v.shape[3], k.shape[1],
            q.dtype,    attr_int(ctx, "causal", 0) != 0,
            static_cast<float>(attr_float(ctx, "scale", 1.0 / std::sqrt(double(q.shape[3])))),
            {}};
  p.strides[kQ] = strides_of(q);
  p.strides[kK] = strides_of(k);
  p.strides[kV] = strides_of(v);
  p.strides[kStats] = packed(p.h, p.lq, 1);
  if (!backward) {
    p.strides[kO] = strides_of(ctx->outputs[0]);
    return p;
  }
  const bool given = ctx->num_inputs > 5 && ctx->inputs[5].data;
  p.strides[kO] = given ? strides_of(ctx->inputs[4]) : packed(p.h, p.lq, p.dv);
  p.strides[kGradO] = strides_of(ctx->inputs[0]);
  p.strides[kGradQ] = strides_of(ctx->outputs[0]);
  p.strides[kGradK] = strides_of(ctx->outputs[1]);
  p.strides[kGradV] = strides_of(ctx->outputs[2]);
  return p;
}

std::vector<int64_t> dims(int64_t b, int64_t h, int64_t s, int64_t d) { return {b, h, s, d}; }
std::vector<int64_t> strides(const Problem& p, int64_t uid) {
  return {p.strides[uid].begin(), p.strides[uid].end()};
}

// k, v and their gradients have k's heads, the others q's.
int64_t heads_of(const Problem& p, int64_t uid) {
  return uid == kK || uid == kV || uid == kGradK || uid == kGradV ? p.hk : p.h;
}

std::shared_ptr<fe::graph::Tensor_attributes> input(fe::graph::Graph& g, const char* name,
                                                    int64_t uid, const Problem& p, int64_t s,
                                                    int64_t d) {
  return g.tensor(fe::graph::Tensor_attributes()
                      .set_name(name)
                      .set_uid(uid)
                      .set_dim(dims(p.b, heads_of(p, uid), s, d))
                      .set_stride(strides(p, uid)));
}

void output(const std::shared_ptr<fe::graph::Tensor_attributes>& t, int64_t uid, const Problem& p,
            int64_t s, int64_t d) {
  t->set_output(true).set_uid(uid).set_dim(dims(p.b, heads_of(p, uid), s, d))
      .set_stride(strides(p, uid));
}

std::unique_ptr<fe::graph::Graph> new_graph(const Problem& p) {
  auto g = std::make_unique<fe::graph::Graph>();
  g->set_io_data_type(p.dtype == XRT_FLOAT16 ? fe::DataType_t::HALF : fe::DataType_t::BFLOAT16)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  return g;
}

// Forward: o = softmax(scale * q kᵀ [causal mask]) v, with the row
// log-sum-exp (b, h, lq, 1) in float32 when stats is set.
std::unique_ptr<fe::graph::Graph> forward_graph(const Problem& p, bool stats) {
  auto g = new_graph(p);
  auto q = input(*g, "q", kQ, p, p.lq, p.d);
  auto k = input(*g, "k", kK, p, p.lk, p.d);
  auto v = input(*g, "v", kV, p, p.lk, p.dv);
  auto options = fe::graph::SDPA_attributes().set_name("attention").set_generate_stats(stats)
                     .set_attn_scale(p.scale);
  if (p.causal) options.set_causal_mask(true);  // top-left aligned, as torch
  auto [o, lse] = g->sdpa(q, k, v, options);
  output(o, kO, p, p.lq, p.dv);
  if (stats) {
    lse->set_output(true).set_uid(kStats).set_data_type(fe::DataType_t::FLOAT)
        .set_dim(dims(p.b, p.h, p.lq, 1)).set_stride(strides(p, kStats));
  }
  return g;
}

std::unique_ptr<fe::graph::Graph> backward_graph(const Problem& p) {
  auto g = new_graph(p);
  auto q = input(*g, "q", kQ, p, p.lq, p.d);
  auto k = input(*g, "k", kK, p, p.lk, p.d);
  auto v = input(*g, "v", kV, p, p.lk, p.dv);
  auto o = input(*g, "o", kO, p, p.lq, p.dv);
  auto grad = input(*g, "grad", kGradO, p, p.lq, p.dv);
  auto lse = g->tensor(fe::graph::Tensor_attributes()
                           .set_name("lse")
                           .set_uid(kStats)
                           .set_data_type(fe::DataType_t::FLOAT)
                           .set_dim(dims(p.b, p.h, p.lq, 1))
                           .set_stride(strides(p, kStats)));
  auto options = fe::graph::SDPA_backward_attributes().set_name("attention_backward")
                     .set_attn_scale(p.scale);
  if (p.causal) options.set_causal_mask(true);
  auto [dq, dk, dv] = g->sdpa_backward(q, k, v, o, grad, lse, options);
  output(dq, kGradQ, p, p.lq, p.d);
  output(dk, kGradK, p, p.lk, p.d);
  output(dv, kGradV, p, p.lk, p.dv);
  return g;
}

// A graph with its execution plan, or why cuDNN has none.
struct Plan {
  std::unique_ptr<fe::graph::Graph> graph;
  int64_t workspace = 0;
  std::string error;
};

std::string finalize(fe::graph::Graph& g, cudnnHandle_t handle, int64_t* workspace) {
  for (fe::error_t e : {g.validate(), g.build_operation_graph(handle),
                        g.create_execution_plans({fe::HeurMode_t::A})}) {
    if (e.is_bad()) return e.get_message();
  }
  fe::error_t e = g.check_support(handle);
  if (e.is_good()) e = g.build_plans(handle);
  if (e.is_good()) e = g.get_workspace_size(*workspace);
  return e.is_good() ? std::string() : e.get_message();
}

// cuDNN handles and plans of the calling thread: a handle must not be used
// by two threads at once, and keeping plans per thread keeps every cache
// lookup free of locks. Destroyed when the thread ends, plans first.
class ThreadState {
 public:
  ~ThreadState() {
    plans_.clear();
    for (auto& [device, handle] : handles_) fe::detail::destroy_handle(handle);
  }

  // nullptr with the reason in *why when no handle can be made.
  cudnnHandle_t handle(int device, std::string* why) {
    auto it = handles_.find(device);
    if (it != handles_.end()) return it->second;
    cudnnHandle_t h = nullptr;
    const cudnnStatus_t status = fe::detail::create_handle(&h);
    if (status != CUDNN_STATUS_SUCCESS) {
      *why = std::string("cudnnCreate failed: ") + fe::detail::get_error_string(status);
      return nullptr;
    }
    handles_.emplace(device, h);
    return h;
  }

  // The plan cached under key, built from make() on the first call.
  template <class Make>
  const Plan& plan(const std::string& key, cudnnHandle_t handle, Make&& make) {
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second;
    Plan plan;
    plan.graph = make();
    plan.error = finalize(*plan.graph, handle, &plan.workspace);
    return plans_.emplace(key, std::move(plan)).first->second;
  }

 private:
  std::unordered_map<int, cudnnHandle_t> handles_;
  std::unordered_map<std::string, Plan> plans_;
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

// What a call runs: attention; attention_lse (the forward with its
// statistics); attention_backward recomputing the forward first, or with
// the forward's output and statistics given.
enum class Pass { kForward, kForwardStats, kBackward, kBackwardGiven };

Pass pass_of(const xrt_kernel_context_t* ctx, bool backward) {
  if (!backward) return ctx->num_outputs > 1 ? Pass::kForwardStats : Pass::kForward;
  const bool given = ctx->num_inputs > 5 && ctx->inputs[5].data;
  return given ? Pass::kBackwardGiven : Pass::kBackward;
}

// The plans a pass needs for the current device; an error message when
// cuDNN cannot run it.
struct Plans {
  Problem problem{};
  cudnnHandle_t handle = nullptr;
  const Plan* forward = nullptr;
  const Plan* backward = nullptr;
  std::string error;
};

Plans plans_for(const xrt_kernel_context_t* ctx, Pass pass) {
  const bool backward = pass == Pass::kBackward || pass == Pass::kBackwardGiven;
  const size_t first = backward ? 1 : 0;
  Plans out;
  out.problem = problem_of(ctx, backward);
  const Problem& p = out.problem;
  const std::string feature = attn::unsupported_features(ctx, first, true);
  if (!feature.empty()) {
    out.error = feature + " is not wired to cuDNN's attention";
    return out;
  }
  if (p.dtype != XRT_FLOAT16 && p.dtype != XRT_BFLOAT16) {
    out.error = std::string("dtype ") + dtype_name(p.dtype) +
                " is not supported (float16 and bfloat16 are)";
    return out;
  }
  if (p.b * p.h == 0 || p.lq == 0) {
    out.error = "empty operands are left to the flash kernel";
    return out;
  }
  for (size_t i = 0; i < ctx->num_inputs; ++i) {
    if (!aligned16(ctx->inputs[i].data)) {
      out.error = "input " + std::to_string(i) + " does not start on a 16-byte boundary";
      return out;
    }
  }
  std::string why;
  if (!cudnn_library(&why)) {
    out.error = why;
    return out;
  }
  ThreadState& state = thread_state();
  out.handle = state.handle(ctx->inputs[first].device_index, &why);
  if (!out.handle) {
    out.error = why;
    return out;
  }
  if (pass != Pass::kBackwardGiven) {
    const bool stats = pass != Pass::kForward;
    out.forward = &state.plan(p.key(stats ? 's' : 'f'), out.handle,
                              [&] { return forward_graph(p, stats); });
    if (!out.forward->error.empty()) {
      out.error = "cuDNN has no forward plan: " + out.forward->error;
      return out;
    }
  }
  if (backward) {
    out.backward = &state.plan(p.key('b'), out.handle, [&] { return backward_graph(p); });
    if (!out.backward->error.empty()) out.error = "cuDNN has no backward plan: " + out.backward->error;
  }
  return out;
}

int32_t supports(const xrt_kernel_context_t* ctx, bool backward) {
  try {
    DeviceGuard guard(ctx->inputs[0].device_index);
    const Plans plans = plans_for(ctx, pass_of(ctx, backward));
    if (plans.error.empty()) return 1;
    fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), plans.error.c_str());
  } catch (const std::exception& e) {
    fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), e.what());
  }
  return 0;
}

// Runs plan with the given tensors and a stream-ordered workspace.
xrt_status_t execute(const xrt_kernel_context_t* ctx, cudnnHandle_t handle, const Plan& plan,
                     std::unordered_map<int64_t, void*>& pack) {
  cudaStream_t stream = stream_of(ctx);
  void* workspace = nullptr;
  if (plan.workspace > 0) {
    workspace = scratch_alloc(static_cast<size_t>(plan.workspace), stream);
    if (!workspace) {
      return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cudnn %s: no device memory for a %lld-byte "
                  "workspace", op_name(ctx), static_cast<long long>(plan.workspace));
    }
  }
  const cudnnStatus_t set = fe::detail::set_stream(handle, stream);
  fe::error_t e = set == CUDNN_STATUS_SUCCESS
                      ? plan.graph->execute(handle, pack, workspace)
                      : fe::error_t{fe::error_code_t::CUDNN_BACKEND_API_FAILED,
                                    fe::detail::get_error_string(set)};
  if (workspace) scratch_free(workspace, stream);
  if (e.is_bad()) {
    return fail(ctx, XRT_ERROR_BACKEND, "cudnn %s: %s", op_name(ctx), e.get_message().c_str());
  }
  return XRT_OK;
}

// The bytes of (b, h, s, d) elements of dtype (2 bytes) or of float32 stats.
size_t bytes_of(int64_t b, int64_t h, int64_t s, int64_t d, size_t element) {
  return static_cast<size_t>(b * h * s * d) * element;
}

void* input_data(const xrt_kernel_context_t* ctx, size_t i) {
  return const_cast<void*>(ctx->inputs[i].data);
}

// The backward graph over the forward's output o and statistics lse.
xrt_status_t run_backward(const xrt_kernel_context_t* ctx, const Plans& plans, void* o,
                          void* lse) {
  std::unordered_map<int64_t, void*> grads{
      {kQ, input_data(ctx, 1)},    {kK, input_data(ctx, 2)},      {kV, input_data(ctx, 3)},
      {kO, o},                     {kStats, lse},                 {kGradO, input_data(ctx, 0)},
      {kGradQ, ctx->outputs[0].data}, {kGradK, ctx->outputs[1].data},
      {kGradV, ctx->outputs[2].data}};
  return execute(ctx, plans.handle, *plans.backward, grads);
}

xrt_status_t run(const xrt_kernel_context_t* ctx, bool backward) {
  const Pass pass = pass_of(ctx, backward);
  const Plans plans = plans_for(ctx, pass);
  if (!plans.error.empty()) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cudnn %s: %s", op_name(ctx), plans.error.c_str());
  }
  if (!backward) {
    std::unordered_map<int64_t, void*> pack{{kQ, input_data(ctx, 0)},
                                            {kK, input_data(ctx, 1)},
                                            {kV, input_data(ctx, 2)},
                                            {kO, ctx->outputs[0].data}};
    if (pass == Pass::kForwardStats) pack.emplace(kStats, ctx->outputs[1].data);
    return execute(ctx, plans.handle, *plans.forward, pack);
  }
  if (pass == Pass::kBackwardGiven) {
    return run_backward(ctx, plans, input_data(ctx, 4), input_data(ctx, 5));
  }
  const Problem& p = plans.problem;
  cudaStream_t stream = stream_of(ctx);
  void* o = scratch_alloc(bytes_of(p.b, p.h, p.lq, p.dv, 2), stream);
  void* lse = o ? scratch_alloc(bytes_of(p.b, p.h, p.lq, 1, sizeof(float)), stream) : nullptr;
  xrt_status_t status = XRT_OK;
  if (!lse) {
    status = fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cudnn %s: no device memory for the recomputed "
                  "output", op_name(ctx));
  } else {
    std::unordered_map<int64_t, void*> forward{{kQ, input_data(ctx, 1)},
                                               {kK, input_data(ctx, 2)},
                                               {kV, input_data(ctx, 3)},
                                               {kO, o},
                                               {kStats, lse}};
    status = execute(ctx, plans.handle, *plans.forward, forward);
    if (status == XRT_OK) status = run_backward(ctx, plans, o, lse);
  }
  if (lse) scratch_free(lse, stream);
  if (o) scratch_free(o, stream);
  return status;
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
