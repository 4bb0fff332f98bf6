// The xpuruntime operators as torch's dispatcher holds them (schemas in
// ops.py), and what their autograd kernels share.
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <initializer_list>
#include <optional>
#include <tuple>
#include <vector>

#include "runtime_call.h"

namespace xrt_torch {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using Tensors2 = std::tuple<Tensor, Tensor>;
using Tensors3 = std::tuple<Tensor, Tensor, Tensor>;

template <class Sig>
using Op = c10::TypedOperatorHandle<Sig>;

using LayerNormSig = Tensor(const Tensor&, const OptTensor&, const OptTensor&, double);
using LayerNormBackwardSig = Tensors3(const Tensor&, const Tensor&, const OptTensor&, double);
using RmsNormSig = Tensor(const Tensor&, const OptTensor&, double);
using RmsNormBackwardSig = Tensors2(const Tensor&, const Tensor&, const OptTensor&, double);
using AddLayerNormSig = Tensors2(const Tensor&, const Tensor&, const OptTensor&,
                                 const OptTensor&, double);
using AddLayerNormBackwardSig = Tensors3(const Tensor&, const Tensor&, const OptTensor&,
                                         const OptTensor&, double);
using AddRmsNormSig = Tensors2(const Tensor&, const Tensor&, const OptTensor&, double);
using AddRmsNormBackwardSig = Tensors2(const Tensor&, const Tensor&, const OptTensor&,
                                       const OptTensor&, double);
using BiasGeluSig = Tensor(const Tensor&, const Tensor&);
using BiasGeluBackwardSig = Tensors2(const Tensor&, const Tensor&, const Tensor&);
using AttentionSig = Tensor(const Tensor&, const Tensor&, const Tensor&, bool,
                            std::optional<double>, const OptTensor&, const OptTensor&,
                            std::optional<int64_t>, c10::string_view);
using AttentionLseSig = Tensors2(const Tensor&, const Tensor&, const Tensor&, bool,
                                 std::optional<double>, const OptTensor&, const OptTensor&,
                                 std::optional<int64_t>, c10::string_view);
using AttentionBackwardSig = Tensors3(const Tensor&, const Tensor&, const Tensor&,
                                      const Tensor&, bool, std::optional<double>,
                                      const OptTensor&, const OptTensor&, const OptTensor&,
                                      const OptTensor&, std::optional<int64_t>,
                                      c10::string_view);
using AttentionVarlenSig = Tensors2(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                    const Tensor&, std::optional<int64_t>,
                                    std::optional<int64_t>, bool, std::optional<double>,
                                    std::optional<int64_t>, c10::string_view);
using AttentionVarlenBackwardSig = Tensors3(const Tensor&, const Tensor&, const Tensor&,
                                            const Tensor&, const Tensor&, const Tensor&,
                                            std::optional<int64_t>, std::optional<int64_t>, bool,
                                            std::optional<double>, const Tensor&, const Tensor&,
                                            std::optional<int64_t>, c10::string_view);
using AttentionDecodeSig = Tensor(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                  const OptTensor&, std::optional<double>, bool,
                                  std::optional<int64_t>);
// The caches are the schema's mutable (a!) and (b!) arguments.
using KvCacheAppendSig = Tensor(Tensor&, Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                const OptTensor&);

// Each looks its operator up once (after ops.py defined it).
const Op<LayerNormSig>& layer_norm_op();
const Op<RmsNormSig>& rms_norm_op();
const Op<AddLayerNormSig>& add_layer_norm_op();
const Op<AddRmsNormSig>& add_rms_norm_op();
const Op<BiasGeluSig>& bias_gelu_op();
const Op<AttentionSig>& attention_op();
const Op<AttentionLseSig>& attention_lse_op();

// Where norms.cpp, attention.cpp and varlen_decode.cpp put their kernels:
// torch libraries for the CPU, CUDA, Autograd and ADInplaceOrView keys, or
// none, which only records the op names (the module's OPS, read before
// ops.py defines the schemas). So the registration is the one list of the
// ops this module implements.
class KernelTable {
 public:
  KernelTable() = default;  // names only
  KernelTable(torch::Library* cpu, torch::Library* cuda, torch::Library* autograd,
              torch::Library* inplace_or_view)
      : cpu_(cpu), cuda_(cuda), autograd_(autograd), inplace_or_view_(inplace_or_view) {}

  // The runtime kernel of `op`, for CPU and CUDA tensors.
  template <class Fn>
  void kernel(const char* op, Fn fn) {
    names_.push_back(op);
    if (cpu_ == nullptr) return;
    cpu_->impl(op, fn);
    cuda_->impl(op, fn);
  }
  template <class Fn>
  void autograd(const char* op, Fn fn) {
    if (autograd_ != nullptr) autograd_->impl(op, fn);
  }
  // For ops that write an input in place: what autograd must see of it.
  template <class Fn>
  void inplace_or_view(const char* op, Fn fn) {
    if (inplace_or_view_ != nullptr) inplace_or_view_->impl(op, fn);
  }
  const std::vector<const char*>& names() const { return names_; }

 private:
  torch::Library* cpu_ = nullptr;
  torch::Library* cuda_ = nullptr;
  torch::Library* autograd_ = nullptr;
  torch::Library* inplace_or_view_ = nullptr;
  std::vector<const char*> names_;
};

void register_norm_kernels(KernelTable& table);
void register_attention_kernels(KernelTable& table);
void register_varlen_decode_kernels(KernelTable& table);
// causal_align's names -> the runtime's numbers (the Python layer's table).
void set_causal_align(const char* name, int64_t number);

// Attention attributes checked as the Python layer checks them, errors
// naming `op`: the scale (None: the op's default, 0 in C) and causal_align's
// number.
double checked_scale(const char* op, std::optional<double> scale);
int64_t causal_align_number(const char* op, c10::string_view name);

// Whether a call builds an autograd node: grad mode on and an input that
// requires grad. Inside a torch.func transform, which would not see the
// node, that is refused naming `op` (a transform keeps its dispatch keys
// in the thread's included set while it runs).
inline bool wants_grad(const char* op, std::initializer_list<const OptTensor*> inputs) {
  if (!at::GradMode::is_enabled()) return false;
  bool any = false;
  for (const OptTensor* t : inputs) any = any || (t->has_value() && (*t)->requires_grad());
  if (!any) return false;
  using c10::DispatchKey;
  using c10::impl::tls_is_dispatch_key_included;
  TORCH_CHECK_NOT_IMPLEMENTED(
      !tls_is_dispatch_key_included(DispatchKey::FuncTorchDynamicLayerFrontMode) &&
          !tls_is_dispatch_key_included(DispatchKey::FuncTorchDynamicLayerBackMode),
      "xpuruntime::", op,
      " has no gradient under torch.func transforms (grad, jacrev, vjp); differentiate it with "
      "torch.autograd (.backward(), torch.autograd.grad) instead");
  return true;
}

// The backward ops run below autograd, unless create_graph asked for a
// graph of the backward: then their own Autograd kernels (ops.py) refuse
// a second derivative, naming the op.
template <class Sig, class... Args>
auto call_backward(const Op<Sig>& op, const Args&... args) {
  if (at::GradMode::is_enabled()) return op.call(args...);
  at::AutoDispatchBelowADInplaceOrView below;
  return op.call(args...);
}

// The kernels below autograd: ours for plain tensors, whatever the
// dispatcher has under autograd otherwise (fake tensors, tracers).
template <class Sig, class... Args>
auto call_below_autograd(const Op<Sig>& op, const Args&... args) {
  at::AutoDispatchBelowADInplaceOrView below;
  return op.call(args...);
}

inline OptTensor saved_if(bool present, const Tensor& saved) {
  return present ? OptTensor(saved) : std::nullopt;
}

}  // namespace xrt_torch

// Defines NAME() returning the operator "xpuruntime::OP" with signature SIG.
#define XRT_TORCH_OPERATOR(name, Sig, op)                                                     \
  const ::xrt_torch::Op<Sig>& name() {                                                        \
    static const auto handle =                                                                \
        c10::Dispatcher::singleton().findSchemaOrThrow("xpuruntime::" op, "").typed<Sig>();   \
    return handle;                                                                            \
  }
