// cuDNN's fused attention graphs (cudnn-frontend SDPA) for the attention
// ops: one problem description for dense and packed calls, the forward and
// backward graphs built from it, and the plans of the calling thread.
#ifndef XRT_CUDA_CUDNN_CUDNN_SDPA_H_
#define XRT_CUDA_CUDNN_CUDNN_SDPA_H_

#include <cuda_runtime.h>

// cuDNN's symbols are looked up in the library cudnn_library() opened, so the
// plugin links nothing of cuDNN and loads without it.
#define NV_CUDNN_FRONTEND_USE_DYNAMIC_LOADING
#include <cudnn_frontend.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda::sdpa {

namespace fe = cudnn_frontend;

// Tensor ids in the graphs' variant packs.
enum Uid : int64_t {
  kQ = 1, kK, kV, kO, kStats, kGradO, kGradQ, kGradK, kGradV,
  kBias, kSeqQ, kSeqKV, kOffsetQ, kOffsetK, kOffsetV, kOffsetO,
};

using Strides = std::array<int64_t, 4>;

// One attention call's sizes, layouts and masks in cuDNN's terms; the key
// of the plan cache.
struct Problem {
  int64_t b = 0, h = 0, lq = 0, lk = 0, d = 0, dv = 0;
  int64_t hk = 0;  // k and v's heads: h, or a divisor of it (grouped-query attention)
  xrt_dtype_t dtype = XRT_FLOAT16;
  float scale = 1.0f;
  // Diagonal band: query i keeps key j when j > i + shift - left and
  // j <= i + shift + right (-1: that side unbounded); shift is
  // seq_kv - seq_q per batch entry when bottom_right, else 0.
  int64_t left = -1, right = -1;
  bool bottom_right = false;
  bool padding = false;  // per-batch lengths kSeqQ, kSeqKV (int32 (b,))
  bool ragged = false;   // packed rows: q, k, v, o and their gradients at int32 offsets
  // Additive bias (bias_b, bias_h, lq, lk) at bias_strides; bias_b 0: none.
  int64_t bias_b = 0, bias_h = 0;
  Strides bias_strides{};
  Strides strides[kGradV + 1]{};  // by Uid; kStats is always packed

  std::string key(char kind) const;
};

Strides packed(int64_t h, int64_t s, int64_t d);

// A (b, heads, s, d) operand's strides; an axis of length 1 is given the
// outermost stride, since any stride is right for it and cuDNN checks them.
Strides strides_of(const xrt_kernel_tensor_t& t);

// Forward: o = softmax(scale * q kᵀ + masks) v, with the row log-sum-exp
// (b, h, lq, 1) in float32 when stats is set.
std::unique_ptr<fe::graph::Graph> forward_graph(const Problem& p, bool stats);
std::unique_ptr<fe::graph::Graph> backward_graph(const Problem& p);

// A graph with its execution plan, or why cuDNN has none.
struct Plan {
  std::unique_ptr<fe::graph::Graph> graph;
  int64_t workspace = 0;
  std::string error;
};

// The calling thread's cuDNN handle for device; nullptr with the reason in
// *why when cuDNN is missing or no handle can be made.
cudnnHandle_t thread_handle(int device, std::string* why);

// The calling thread's plan cached under key, built from make() on first use.
const Plan& thread_plan(const std::string& key, cudnnHandle_t handle,
                        const std::function<std::unique_ptr<fe::graph::Graph>()>& make);

// Runs plan with the given tensors and a stream-ordered workspace.
xrt_status_t execute(const xrt_kernel_context_t* ctx, cudnnHandle_t handle, const Plan& plan,
                     std::unordered_map<int64_t, void*>& pack);

}  // namespace xrt::cuda::sdpa

#endif  // XRT_CUDA_CUDNN_CUDNN_SDPA_H_
