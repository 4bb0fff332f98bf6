#include "cudnn_sdpa.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "cudnn_library.h"
#include "kernels/kernel_util.h"
#include "scratch.h"

namespace xrt::cuda::sdpa {
namespace {

using TensorPtr = std::shared_ptr<fe::graph::Tensor_attributes>;

std::vector<int64_t> dims(int64_t b, int64_t h, int64_t s, int64_t d) { return {b, h, s, d}; }
std::vector<int64_t> strides(const Problem& p, int64_t uid) {
  return {p.strides[uid].begin(), p.strides[uid].end()};
}

// k, v and their gradients have k's heads, the others q's.
int64_t heads_of(const Problem& p, int64_t uid) {
  return uid == kK || uid == kV || uid == kGradK || uid == kGradV ? p.hk : p.h;
}

// The per-batch lengths, ragged offsets and bias a problem's masks read.
struct MaskTensors {
  TensorPtr seq_q, seq_kv, bias;
  TensorPtr offset[kGradV + 1];  // by the Uid of the operand they place
};

TensorPtr index_tensor(fe::graph::Graph& g, const char* name, int64_t uid, int64_t n) {
  return g.tensor(fe::graph::Tensor_attributes()
                      .set_name(name)
                      .set_uid(uid)
                      .set_data_type(fe::DataType_t::INT32)
                      .set_dim({n, 1, 1, 1})
                      .set_stride({1, 1, 1, 1}));
}

MaskTensors mask_tensors(fe::graph::Graph& g, const Problem& p) {
  MaskTensors m;
  if (p.padding) {
    m.seq_q = index_tensor(g, "seq_q", kSeqQ, p.b);
    m.seq_kv = index_tensor(g, "seq_kv", kSeqKV, p.b);
  }
  if (p.ragged) {
    TensorPtr q = index_tensor(g, "offset_q", kOffsetQ, p.b + 1);
    TensorPtr k = index_tensor(g, "offset_k", kOffsetK, p.b + 1);
    TensorPtr v = index_tensor(g, "offset_v", kOffsetV, p.b + 1);
    TensorPtr o = index_tensor(g, "offset_o", kOffsetO, p.b + 1);
    m.offset[kQ] = m.offset[kGradQ] = q;
    m.offset[kK] = m.offset[kGradK] = k;
    m.offset[kV] = m.offset[kGradV] = v;
    m.offset[kO] = m.offset[kGradO] = o;
  }
  if (p.bias_b > 0) {
    m.bias = g.tensor(fe::graph::Tensor_attributes()
                          .set_name("bias")
                          .set_uid(kBias)
                          .set_dim(dims(p.bias_b, p.bias_h, p.lq, p.lk))
                          .set_stride({p.bias_strides.begin(), p.bias_strides.end()}));
  }
  return m;
}

TensorPtr input(fe::graph::Graph& g, const char* name, int64_t uid, const Problem& p, int64_t s,
                int64_t d, const MaskTensors& m) {
  auto attrs = fe::graph::Tensor_attributes()
                   .set_name(name)
                   .set_uid(uid)
                   .set_dim(dims(p.b, heads_of(p, uid), s, d))
                   .set_stride(strides(p, uid));
  if (m.offset[uid]) attrs.set_ragged_offset(m.offset[uid]);
  return g.tensor(attrs);
}

void output(const TensorPtr& t, int64_t uid, const Problem& p, int64_t s, int64_t d,
            const MaskTensors& m) {
  t->set_output(true).set_uid(uid).set_dim(dims(p.b, heads_of(p, uid), s, d))
      .set_stride(strides(p, uid));
  if (m.offset[uid]) t->set_ragged_offset(m.offset[uid]);
}

TensorPtr stats_tensor(const Problem& p, TensorPtr t) {
  t->set_uid(kStats).set_data_type(fe::DataType_t::FLOAT).set_dim(dims(p.b, p.h, p.lq, 1))
      .set_stride({p.h * p.lq, p.lq, 1, 1});
  return t;
}

// The mask attributes SDPA_attributes and SDPA_backward_attributes share.
template <class Options>
void set_masks(Options& options, const Problem& p, const MaskTensors& m) {
  if (m.bias) options.set_bias(m.bias);
  if (p.padding) options.set_padding_mask(true).set_seq_len_q(m.seq_q).set_seq_len_kv(m.seq_kv);
  if (p.left < 0 && p.right < 0) return;
  options.set_diagonal_alignment(p.bottom_right ? fe::DiagonalAlignment_t::BOTTOM_RIGHT
                                                : fe::DiagonalAlignment_t::TOP_LEFT);
  if (p.left >= 0) options.set_diagonal_band_left_bound(static_cast<int>(p.left));
  if (p.right >= 0) options.set_diagonal_band_right_bound(static_cast<int>(p.right));
}

std::unique_ptr<fe::graph::Graph> new_graph(const Problem& p) {
  auto g = std::make_unique<fe::graph::Graph>();
  g->set_io_data_type(p.dtype == XRT_FLOAT16 ? fe::DataType_t::HALF : fe::DataType_t::BFLOAT16)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  return g;
}

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

  const Plan& plan(const std::string& key, cudnnHandle_t handle,
                   const std::function<std::unique_ptr<fe::graph::Graph>()>& make) {
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

}  // namespace

std::string Problem::key(char kind) const {
  char text[320];
  std::snprintf(text, sizeof text,
                "%c %d %lld %lld %lld %lld %lld %lld %lld %a band %lld %lld %d pad %d %d "
                "bias %lld %lld",
                kind, static_cast<int>(dtype), static_cast<long long>(b),
                static_cast<long long>(h), static_cast<long long>(hk),
                static_cast<long long>(lq), static_cast<long long>(lk),
                static_cast<long long>(d), static_cast<long long>(dv),
                static_cast<double>(scale), static_cast<long long>(left),
                static_cast<long long>(right), bottom_right ? 1 : 0, padding ? 1 : 0,
                ragged ? 1 : 0, static_cast<long long>(bias_b), static_cast<long long>(bias_h));
  std::string out = text;
  for (int64_t x : bias_strides) out += ' ' + std::to_string(x);
  for (const Strides& s : strides)
    for (int64_t x : s) out += ' ' + std::to_string(x);
  return out;
}

Strides packed(int64_t h, int64_t s, int64_t d) { return {h * s * d, s * d, d, 1}; }

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

std::unique_ptr<fe::graph::Graph> forward_graph(const Problem& p, bool stats) {
  auto g = new_graph(p);
  const MaskTensors m = mask_tensors(*g, p);
  auto q = input(*g, "q", kQ, p, p.lq, p.d, m);
  auto k = input(*g, "k", kK, p, p.lk, p.d, m);
  auto v = input(*g, "v", kV, p, p.lk, p.dv, m);
  auto options = fe::graph::SDPA_attributes().set_name("attention").set_generate_stats(stats)
                     .set_attn_scale(p.scale);
  set_masks(options, p, m);
  auto [o, lse] = g->sdpa(q, k, v, options);
  output(o, kO, p, p.lq, p.dv, m);
  if (stats) stats_tensor(p, lse)->set_output(true);
  return g;
}

std::unique_ptr<fe::graph::Graph> backward_graph(const Problem& p) {
  auto g = new_graph(p);
  const MaskTensors m = mask_tensors(*g, p);
  auto q = input(*g, "q", kQ, p, p.lq, p.d, m);
  auto k = input(*g, "k", kK, p, p.lk, p.d, m);
  auto v = input(*g, "v", kV, p, p.lk, p.dv, m);
  auto o = input(*g, "o", kO, p, p.lq, p.dv, m);
  auto grad = input(*g, "grad", kGradO, p, p.lq, p.dv, m);
  auto lse = stats_tensor(p, g->tensor(fe::graph::Tensor_attributes().set_name("lse")));
  auto options = fe::graph::SDPA_backward_attributes().set_name("attention_backward")
                     .set_attn_scale(p.scale);
  set_masks(options, p, m);
  auto [dq, dk, dv] = g->sdpa_backward(q, k, v, o, grad, lse, options);
  output(dq, kGradQ, p, p.lq, p.d, m);
  output(dk, kGradK, p, p.lk, p.d, m);
  output(dv, kGradV, p, p.lk, p.dv, m);
  return g;
}

cudnnHandle_t thread_handle(int device, std::string* why) {
  if (!cudnn_library(why)) return nullptr;
  return thread_state().handle(device, why);
}

const Plan& thread_plan(const std::string& key, cudnnHandle_t handle,
                        const std::function<std::unique_ptr<fe::graph::Graph>()>& make) {
  return thread_state().plan(key, handle, make);
}

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

}  // namespace xrt::cuda::sdpa
