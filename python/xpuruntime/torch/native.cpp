// The kernels and autograd nodes of torch.ops.xpuruntime's norms and
// attention in C++: a call crosses into the runtime, and builds and runs
// its autograd node, without entering Python, so these ops cost no more
// per call than torch's own. _native.py compiles this file against the
// torch that imports it (torch's C++ ABI changes between releases); where
// it cannot, ops.py's Python kernels run the same ops.
//
// Registered for the CPU and CUDA dispatch keys (the runtime call) and for
// Autograd (the nodes, whose forward and backward redispatch below
// autograd, so fake tensors and tracers still see the ops). The schemas,
// the fakes and the backward ops' Autograd kernels stay in ops.py.

#include <Python.h>

#include <ATen/DLConvertor.h>
#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/library.h>

#include <xpuruntime/xpuruntime.h>

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace {

using at::Tensor;
using OptTensor = std::optional<Tensor>;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---- errors ------------------------------------------------------------------

// status code -> xpuruntime.errors class, as the Python layer maps them
// (given by register_kernels).
PyObject* g_error_classes = nullptr;

// Raises the runtime's typed Python error (xrt.InvalidArgument, ...) with
// `message`; torch hands it to the caller unchanged, from the dispatcher
// and from the autograd engine's threads alike.
[[noreturn]] void raise_error(xrt_status_t status, const std::string& message) {
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* key = PyLong_FromLong(status);
  PyObject* cls = key && g_error_classes ? PyDict_GetItemWithError(g_error_classes, key) : nullptr;
  Py_XDECREF(key);
  if (!PyErr_Occurred()) PyErr_SetString(cls ? cls : PyExc_RuntimeError, message.c_str());
  python_error error;
  error.persist();
  PyGILState_Release(gil);
  throw error;
}

// xrt_last_error() is per thread: read it on the failing thread, first.
void check(xrt_status_t status) {
  if (status == XRT_OK) return;
  std::string message = xrt_last_error();
  raise_error(status, message.empty() ? xrt_status_name(status) : message);
}

[[noreturn]] void invalid(const std::string& message) {
  raise_error(XRT_ERROR_INVALID_ARGUMENT, message);
}

// ---- torch's current stream ------------------------------------------------------

// torch's DLPack C exchange API (register_kernels): its current_work_stream.
const DLPackExchangeAPI* g_exchange = nullptr;

// xrt_stream_t wrappers of torch's streams by (device, native handle). A
// wrapper is only a handle, so one per stream serves every call; a full
// cache starts over (programs that make streams without end).
struct WrappedStream {
  int32_t device_id;
  void* native;
  xrt_stream_t* stream;
};
constexpr size_t kMaxStreams = 32;
constexpr int32_t kMaxDevices = 64;
std::mutex g_streams_mutex;
std::vector<WrappedStream> g_streams;
std::array<xrt_device_t*, kMaxDevices> g_cuda_devices{};

// A retained stream for torch's current stream on `device`; null (no
// stream) for the CPU.
xrt_stream_t* current_stream(DLDevice device) {
  if (device.device_type != kDLCUDA) return nullptr;
  void* native = nullptr;
  TORCH_CHECK(g_exchange->current_work_stream(kDLCUDA, device.device_id, &native) == 0,
              "torch's current_work_stream failed for cuda:", device.device_id);
  xrt_status_t status = XRT_OK;
  std::string message;
  {
    std::lock_guard<std::mutex> lock(g_streams_mutex);
    for (const WrappedStream& wrapped : g_streams) {
      if (wrapped.device_id == device.device_id && wrapped.native == native) {
        xrt_stream_retain(wrapped.stream);
        return wrapped.stream;
      }
    }
    TORCH_CHECK(0 <= device.device_id && device.device_id < kMaxDevices, "CUDA device index ",
                device.device_id, " is out of range");
    xrt_device_t*& handle = g_cuda_devices[device.device_id];
    if (handle == nullptr) {
      status = xrt_device_by_name(("cuda:" + std::to_string(device.device_id)).c_str(), &handle);
    }
    xrt_stream_t* stream = nullptr;
    if (status == XRT_OK) status = xrt_stream_wrap(handle, native, &stream);
    if (status == XRT_OK) {
      if (g_streams.size() == kMaxStreams) {
        for (const WrappedStream& wrapped : g_streams) xrt_stream_release(wrapped.stream);
        g_streams.clear();
      }
      g_streams.push_back({device.device_id, native, stream});
      xrt_stream_retain(stream);
      return stream;
    }
    message = xrt_last_error();
  }
  // Raised outside the lock: raising takes the GIL.
  raise_error(status, message.empty() ? xrt_status_name(status) : message);
}

// ---- one call of a runtime op -------------------------------------------------------

// Inputs cross over through DLPack without copies; outputs come back as
// torch tensors sharing the runtime's memory; on CUDA the op runs on
// torch's current stream of the first input's device. Every handle is
// released on every path.
class RuntimeCall {
 public:
  static constexpr size_t kMaxOutputs = 3;

  explicit RuntimeCall(const char* op) : op_(op) {}
  RuntimeCall(const RuntimeCall&) = delete;
  RuntimeCall& operator=(const RuntimeCall&) = delete;
  ~RuntimeCall() {
    for (size_t i = 0; i < num_inputs_; ++i) xrt_tensor_release(inputs_[i]);
    xrt_stream_release(stream_);
  }

  void input(const Tensor& tensor) {
    TORCH_INTERNAL_ASSERT(num_inputs_ < inputs_.size());
    DLManagedTensorVersioned* managed = at::toDLPackVersioned(tensor);
    if (!has_device_) {
      device_ = managed->dl_tensor.device;
      has_device_ = true;
    }
    xrt_tensor_t* handle = nullptr;
    xrt_status_t status = xrt_tensor_from_dlpack(managed, &handle);
    if (status != XRT_OK) {
      std::string message = xrt_last_error();
      managed->deleter(managed);  // ownership stays here on failure
      raise_error(status, message);
    }
    inputs_[num_inputs_++] = handle;
  }

  void input(const OptTensor& tensor) {
    if (tensor.has_value()) {
      input(*tensor);
    } else {
      TORCH_INTERNAL_ASSERT(num_inputs_ < inputs_.size());
      inputs_[num_inputs_++] = nullptr;
    }
  }

  void attr(const char* name, int64_t value) { attr_slot(name, XRT_ATTR_INT).i = value; }
  void attr(const char* name, double value) { attr_slot(name, XRT_ATTR_FLOAT).f = value; }

  std::vector<Tensor> run(size_t num_outputs) {
    TORCH_INTERNAL_ASSERT(num_outputs <= kMaxOutputs);
    if (!has_device_) invalid(std::string(op_) + ": every input is None");
    stream_ = current_stream(device_);
    std::array<xrt_tensor_t*, kMaxOutputs> outputs{};
    xrt_status_t status = XRT_OK;
    {
      // Nothing here needs Python; a caller holding the GIL lets others run.
      PyThreadState* saved = PyGILState_Check() ? PyEval_SaveThread() : nullptr;
      const xrt_tensor_t* const* inputs = inputs_.data();
      status = xrt_op_run_outputs(op_, inputs, num_inputs_, attrs_.data(), num_attrs_, stream_,
                                  outputs.data(), num_outputs);
      std::string message = status == XRT_OK ? std::string() : xrt_last_error();
      if (saved != nullptr) PyEval_RestoreThread(saved);
      if (status != XRT_OK) {
        raise_error(status, message.empty() ? xrt_status_name(status) : message);
      }
    }
    std::vector<Tensor> results;
    results.reserve(num_outputs);
    for (size_t i = 0; i < num_outputs; ++i) {
      DLManagedTensorVersioned* managed = nullptr;
      status = xrt_tensor_to_dlpack(outputs[i], &managed);
      xrt_tensor_release(outputs[i]);  // the managed tensor holds its own reference
      if (status != XRT_OK) {
        std::string message = xrt_last_error();
        for (size_t j = i + 1; j < num_outputs; ++j) xrt_tensor_release(outputs[j]);
        raise_error(status, message);
      }
      results.push_back(at::fromDLPackVersioned(managed));
    }
    return results;
  }

 private:
  xrt_attr_t& attr_slot(const char* name, xrt_attr_type_t type) {
    TORCH_INTERNAL_ASSERT(num_attrs_ < attrs_.size());
    xrt_attr_t& slot = attrs_[num_attrs_++];
    slot = xrt_attr_t{name, type, 0, 0.0};
    return slot;
  }

  const char* op_;
  // attention_backward takes 8 inputs and 4 attributes.
  std::array<xrt_tensor_t*, 8> inputs_{};
  size_t num_inputs_ = 0;
  std::array<xrt_attr_t, 4> attrs_{};
  size_t num_attrs_ = 0;
  DLDevice device_{kDLCPU, 0};
  bool has_device_ = false;
  xrt_stream_t* stream_ = nullptr;
};

// ---- the kernels (CPU and CUDA) ------------------------------------------------------

Tensor layer_norm_kernel(const Tensor& x, const OptTensor& weight, const OptTensor& bias,
                         double eps) {
  RuntimeCall call("layer_norm");
  call.input(x);
  call.input(weight);
  call.input(bias);
  call.attr("eps", eps);
  return call.run(1)[0];
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_backward_kernel(const Tensor& grad, const Tensor& x,
                                                              const OptTensor& weight,
                                                              double eps) {
  RuntimeCall call("layer_norm_backward");
  call.input(grad);
  call.input(x);
  call.input(weight);
  call.attr("eps", eps);
  auto out = call.run(3);
  return {out[0], out[1], out[2]};
}

Tensor rms_norm_kernel(const Tensor& x, const OptTensor& weight, double eps) {
  RuntimeCall call("rms_norm");
  call.input(x);
  call.input(weight);
  call.attr("eps", eps);
  return call.run(1)[0];
}

std::tuple<Tensor, Tensor> rms_norm_backward_kernel(const Tensor& grad, const Tensor& x,
                                                    const OptTensor& weight, double eps) {
  RuntimeCall call("rms_norm_backward");
  call.input(grad);
  call.input(x);
  call.input(weight);
  call.attr("eps", eps);
  auto out = call.run(2);
  return {out[0], out[1]};
}

// causal_align's names -> the runtime's numbers (register_kernels passes
// the Python layer's table).
std::map<std::string, int64_t, std::less<>> g_causal_align;

std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 32> text{};
  auto end = std::to_chars(text.data(), text.data() + text.size(), value).ptr;
  std::string repr(text.data(), end);
  if (repr.find_first_of(".e") == std::string::npos) repr += ".0";
  return repr;
}

// Attention's attributes as the Python layer sets them: scale None is the
// op's default (0 in C), window_left None is -1 (no window).
struct AttentionAttrs {
  bool causal;
  std::optional<double> scale;
  std::optional<int64_t> window_left;
  std::string causal_align;

  // What the torch ops' Python kernels check before the runtime (which
  // checks window_left): errors name `op`.
  int64_t checked_align(const char* op) const {
    if (scale.has_value() && !(*scale > 0.0 && *scale < INFINITY)) {
      invalid(std::string(op) + ": scale must be > 0 and finite, got " + float_repr(*scale));
    }
    auto align = g_causal_align.find(causal_align);
    if (align == g_causal_align.end()) {
      invalid(std::string(op) + ": causal_align must be 'top_left' or 'bottom_right', got '" +
              causal_align + "'");
    }
    return align->second;
  }

  void add_to(RuntimeCall& call, const char* op, bool masked) const {
    const int64_t align = checked_align(op);
    call.attr("causal", int64_t{causal ? 1 : 0});
    call.attr("scale", scale.value_or(0.0));
    if (!masked) return;
    call.attr("window_left", window_left.value_or(-1));
    call.attr("causal_align", align);
  }
};

bool has_masks(const OptTensor& attn_mask, const OptTensor& key_lengths,
               const AttentionAttrs& attrs) {
  return attn_mask.has_value() || key_lengths.has_value() || attrs.window_left.has_value() ||
         attrs.causal_align != "top_left";
}

std::vector<Tensor> run_attention(const char* op, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const OptTensor& attn_mask,
                                  const OptTensor& key_lengths, const AttentionAttrs& attrs,
                                  size_t num_outputs) {
  RuntimeCall call(op);
  call.input(q);
  call.input(k);
  call.input(v);
  const bool masked = has_masks(attn_mask, key_lengths, attrs);
  if (masked) {
    call.input(attn_mask);
    call.input(key_lengths);
  }
  attrs.add_to(call, op, masked);
  return call.run(num_outputs);
}

Tensor attention_kernel(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                        std::optional<double> scale, const OptTensor& attn_mask,
                        const OptTensor& key_lengths, std::optional<int64_t> window_left,
                        c10::string_view causal_align) {
  AttentionAttrs attrs{causal, scale, window_left, std::string(causal_align)};
  return run_attention("attention", q, k, v, attn_mask, key_lengths, attrs, 1)[0];
}

std::tuple<Tensor, Tensor> attention_lse_kernel(const Tensor& q, const Tensor& k, const Tensor& v,
                                                bool causal, std::optional<double> scale,
                                                const OptTensor& attn_mask,
                                                const OptTensor& key_lengths,
                                                std::optional<int64_t> window_left,
                                                c10::string_view causal_align) {
  AttentionAttrs attrs{causal, scale, window_left, std::string(causal_align)};
  auto out = run_attention("attention_lse", q, k, v, attn_mask, key_lengths, attrs, 2);
  return {out[0], out[1]};
}

std::tuple<Tensor, Tensor, Tensor> attention_backward_kernel(
    const Tensor& grad, const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
    std::optional<double> scale, const OptTensor& output, const OptTensor& lse,
    const OptTensor& attn_mask, const OptTensor& key_lengths, std::optional<int64_t> window_left,
    c10::string_view causal_align) {
  RuntimeCall call("attention_backward");
  for (const Tensor* t : {&grad, &q, &k, &v}) call.input(*t);
  for (const OptTensor* t : {&output, &lse, &attn_mask, &key_lengths}) call.input(*t);
  AttentionAttrs{causal, scale, window_left, std::string(causal_align)}.add_to(
      call, "attention_backward", true);
  auto out = call.run(3);
  return {out[0], out[1], out[2]};
}

// ---- the operators, as the dispatcher holds them ---------------------------------------

using LayerNormSig = Tensor(const Tensor&, const OptTensor&, const OptTensor&, double);
using LayerNormBackwardSig = std::tuple<Tensor, Tensor, Tensor>(const Tensor&, const Tensor&,
                                                                const OptTensor&, double);
using RmsNormSig = Tensor(const Tensor&, const OptTensor&, double);
using RmsNormBackwardSig = std::tuple<Tensor, Tensor>(const Tensor&, const Tensor&,
                                                      const OptTensor&, double);
using AttentionSig = Tensor(const Tensor&, const Tensor&, const Tensor&, bool,
                            std::optional<double>, const OptTensor&, const OptTensor&,
                            std::optional<int64_t>, c10::string_view);
using AttentionLseSig = std::tuple<Tensor, Tensor>(const Tensor&, const Tensor&, const Tensor&,
                                                   bool, std::optional<double>, const OptTensor&,
                                                   const OptTensor&, std::optional<int64_t>,
                                                   c10::string_view);
using AttentionBackwardSig = std::tuple<Tensor, Tensor, Tensor>(
    const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, std::optional<double>,
    const OptTensor&, const OptTensor&, const OptTensor&, const OptTensor&,
    std::optional<int64_t>, c10::string_view);

template <class Sig>
c10::TypedOperatorHandle<Sig> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Sig>();
}

#define XRT_OPERATOR(fn, Sig, name)              \
  const c10::TypedOperatorHandle<Sig>& fn() {    \
    static const auto handle = find_op<Sig>(name); \
    return handle;                               \
  }
XRT_OPERATOR(layer_norm_op, LayerNormSig, "xpuruntime::layer_norm")
XRT_OPERATOR(layer_norm_backward_op, LayerNormBackwardSig, "xpuruntime::layer_norm_backward")
XRT_OPERATOR(rms_norm_op, RmsNormSig, "xpuruntime::rms_norm")
XRT_OPERATOR(rms_norm_backward_op, RmsNormBackwardSig, "xpuruntime::rms_norm_backward")
XRT_OPERATOR(attention_op, AttentionSig, "xpuruntime::attention")
XRT_OPERATOR(attention_lse_op, AttentionLseSig, "xpuruntime::attention_lse")
XRT_OPERATOR(attention_backward_op, AttentionBackwardSig, "xpuruntime::attention_backward")
#undef XRT_OPERATOR

// ---- autograd -------------------------------------------------------------------------

bool wants_grad(std::initializer_list<const OptTensor*> inputs) {
  if (!at::GradMode::is_enabled()) return false;
  for (const OptTensor* t : inputs) {
    if (t->has_value() && (*t)->requires_grad()) return true;
  }
  return false;
}

// A node built inside a functorch transform would not be seen by it. A
// transform keeps its dispatch keys in the thread's included set while
// it runs (torch._C._are_functorch_transforms_active's test).
void refuse_under_functorch(const char* op) {
  using c10::DispatchKey;
  using c10::impl::tls_is_dispatch_key_included;
  const bool functorch =
      tls_is_dispatch_key_included(DispatchKey::FuncTorchDynamicLayerFrontMode) ||
      tls_is_dispatch_key_included(DispatchKey::FuncTorchDynamicLayerBackMode);
  TORCH_CHECK_NOT_IMPLEMENTED(
      !functorch, "xpuruntime::", op,
      " has no gradient under torch.func transforms (grad, jacrev, vjp); differentiate it with "
      "torch.autograd (.backward(), torch.autograd.grad) instead");
}

// The backward ops run below autograd, unless create_graph asked for a
// graph of the backward: then their own Autograd kernels (ops.py) refuse
// a second derivative, naming the op.
template <class Sig, class... Args>
auto call_backward(const c10::TypedOperatorHandle<Sig>& op, const Args&... args) {
  if (at::GradMode::is_enabled()) return op.call(args...);
  at::AutoDispatchBelowADInplaceOrView below;
  return op.call(args...);
}

OptTensor saved_if(bool present, const Tensor& saved) {
  return present ? OptTensor(saved) : std::nullopt;
}

struct LayerNormFunction : torch::autograd::Function<LayerNormFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const OptTensor& weight,
                        const OptTensor& bias, double eps) {
    Tensor y;
    {
      at::AutoDispatchBelowADInplaceOrView below;
      y = layer_norm_op().call(x, weight, bias, eps);
    }
    ctx->save_for_backward({x, weight.value_or(Tensor())});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["has_weight"] = weight.has_value();
    ctx->saved_data["has_bias"] = bias.has_value();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const bool has_weight = ctx->saved_data["has_weight"].toBool();
    auto [dx, dweight, dbias] =
        call_backward(layer_norm_backward_op(), grads[0].contiguous(), saved[0],
                      saved_if(has_weight, saved[1]), ctx->saved_data["eps"].toDouble());
    return {dx, has_weight ? dweight : Tensor(),
            ctx->saved_data["has_bias"].toBool() ? dbias : Tensor(), Tensor()};
  }
};

struct RmsNormFunction : torch::autograd::Function<RmsNormFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const OptTensor& weight,
                        double eps) {
    Tensor y;
    {
      at::AutoDispatchBelowADInplaceOrView below;
      y = rms_norm_op().call(x, weight, eps);
    }
    ctx->save_for_backward({x, weight.value_or(Tensor())});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["has_weight"] = weight.has_value();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const bool has_weight = ctx->saved_data["has_weight"].toBool();
    auto [dx, dweight] =
        call_backward(rms_norm_backward_op(), grads[0].contiguous(), saved[0],
                      saved_if(has_weight, saved[1]), ctx->saved_data["eps"].toDouble());
    return {dx, has_weight ? dweight : Tensor(), Tensor()};
  }
};

// Attention keeps its output and log-sum-exp for the backward, which so
// skips recomputing the forward. q, k and v get gradients, the masks none.
struct AttentionFunction : torch::autograd::Function<AttentionFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& q, const Tensor& k,
                               const Tensor& v, bool causal, std::optional<double> scale,
                               const OptTensor& attn_mask, const OptTensor& key_lengths,
                               std::optional<int64_t> window_left, std::string causal_align) {
    TORCH_CHECK_NOT_IMPLEMENTED(!(attn_mask.has_value() && attn_mask->requires_grad()),
                                "xpuruntime attention: attn_mask gets no gradient; detach it");
    Tensor out, lse;
    {
      at::AutoDispatchBelowADInplaceOrView below;
      std::tie(out, lse) = attention_lse_op().call(q, k, v, causal, scale, attn_mask,
                                                   key_lengths, window_left, causal_align);
    }
    ctx->mark_non_differentiable({lse});
    ctx->save_for_backward({q, k, v, out, lse, attn_mask.value_or(Tensor()),
                            key_lengths.value_or(Tensor())});
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["window_left"] = window_left;
    ctx->saved_data["causal_align"] = causal_align;
    ctx->saved_data["has_attn_mask"] = attn_mask.has_value();
    ctx->saved_data["has_key_lengths"] = key_lengths.has_value();
    return {out, lse};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    auto& data = ctx->saved_data;
    const c10::IValue& scale = data["scale"];
    const c10::IValue& window = data["window_left"];
    auto [dq, dk, dv] = call_backward(
        attention_backward_op(), grads[0], s[0], s[1], s[2], data["causal"].toBool(),
        scale.isNone() ? std::nullopt : std::optional<double>(scale.toDouble()), OptTensor(s[3]),
        OptTensor(s[4]), saved_if(data["has_attn_mask"].toBool(), s[5]),
        saved_if(data["has_key_lengths"].toBool(), s[6]),
        window.isNone() ? std::nullopt : std::optional<int64_t>(window.toInt()),
        c10::string_view(data["causal_align"].toStringRef()));
    variable_list result(9);
    result[0] = dq;
    result[1] = dk;
    result[2] = dv;
    return result;
  }
};

Tensor layer_norm_autograd(const Tensor& x, const OptTensor& weight, const OptTensor& bias,
                           double eps) {
  const OptTensor input(x);
  if (wants_grad({&input, &weight, &bias})) {
    refuse_under_functorch("layer_norm");
    return LayerNormFunction::apply(x, weight, bias, eps);
  }
  at::AutoDispatchBelowADInplaceOrView below;
  return layer_norm_op().call(x, weight, bias, eps);
}

Tensor rms_norm_autograd(const Tensor& x, const OptTensor& weight, double eps) {
  const OptTensor input(x);
  if (wants_grad({&input, &weight})) {
    refuse_under_functorch("rms_norm");
    return RmsNormFunction::apply(x, weight, eps);
  }
  at::AutoDispatchBelowADInplaceOrView below;
  return rms_norm_op().call(x, weight, eps);
}

bool attention_wants_grad(const Tensor& q, const Tensor& k, const Tensor& v,
                          const OptTensor& attn_mask, const char* op) {
  const OptTensor tq(q), tk(k), tv(v);
  if (!wants_grad({&tq, &tk, &tv, &attn_mask})) return false;
  refuse_under_functorch(op);
  return true;
}

Tensor attention_autograd(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                          std::optional<double> scale, const OptTensor& attn_mask,
                          const OptTensor& key_lengths, std::optional<int64_t> window_left,
                          c10::string_view causal_align) {
  // Checked here, so errors name this op rather than attention_lse.
  AttentionAttrs{causal, scale, window_left, std::string(causal_align)}.checked_align(
      "attention");
  if (attention_wants_grad(q, k, v, attn_mask, "attention")) {
    return AttentionFunction::apply(q, k, v, causal, scale, attn_mask, key_lengths, window_left,
                                    std::string(causal_align))[0];
  }
  at::AutoDispatchBelowADInplaceOrView below;
  return attention_op().call(q, k, v, causal, scale, attn_mask, key_lengths, window_left,
                             causal_align);
}

std::tuple<Tensor, Tensor> attention_lse_autograd(const Tensor& q, const Tensor& k,
                                                  const Tensor& v, bool causal,
                                                  std::optional<double> scale,
                                                  const OptTensor& attn_mask,
                                                  const OptTensor& key_lengths,
                                                  std::optional<int64_t> window_left,
                                                  c10::string_view causal_align) {
  if (attention_wants_grad(q, k, v, attn_mask, "attention_lse")) {
    auto out = AttentionFunction::apply(q, k, v, causal, scale, attn_mask, key_lengths,
                                        window_left, std::string(causal_align));
    return {out[0], out[1]};
  }
  at::AutoDispatchBelowADInplaceOrView below;
  return attention_lse_op().call(q, k, v, causal, scale, attn_mask, key_lengths, window_left,
                                 causal_align);
}

// ---- registration ----------------------------------------------------------------------

std::vector<std::unique_ptr<torch::Library>> g_libraries;

void register_all() {
  for (c10::DispatchKey key : {c10::DispatchKey::CPU, c10::DispatchKey::CUDA}) {
    auto lib = std::make_unique<torch::Library>(torch::Library::IMPL, "xpuruntime", key,
                                                __FILE__, __LINE__);
    lib->impl("layer_norm", TORCH_FN(layer_norm_kernel));
    lib->impl("layer_norm_backward", TORCH_FN(layer_norm_backward_kernel));
    lib->impl("rms_norm", TORCH_FN(rms_norm_kernel));
    lib->impl("rms_norm_backward", TORCH_FN(rms_norm_backward_kernel));
    lib->impl("attention", TORCH_FN(attention_kernel));
    lib->impl("attention_lse", TORCH_FN(attention_lse_kernel));
    lib->impl("attention_backward", TORCH_FN(attention_backward_kernel));
    g_libraries.push_back(std::move(lib));
  }
  auto lib = std::make_unique<torch::Library>(torch::Library::IMPL, "xpuruntime",
                                              c10::DispatchKey::Autograd, __FILE__, __LINE__);
  lib->impl("layer_norm", TORCH_FN(layer_norm_autograd));
  lib->impl("rms_norm", TORCH_FN(rms_norm_autograd));
  lib->impl("attention", TORCH_FN(attention_autograd));
  lib->impl("attention_lse", TORCH_FN(attention_lse_autograd));
  g_libraries.push_back(std::move(lib));
}

// ---- Python ------------------------------------------------------------------------------

// register_kernels(exchange_api, error_classes, causal_align): once, after
// ops.py defined the schemas.
PyObject* py_register_kernels(PyObject*, PyObject* args) {
  HANDLE_TH_ERRORS
  PyObject* capsule = nullptr;
  PyObject* error_classes = nullptr;
  PyObject* causal_align = nullptr;
  if (!PyArg_ParseTuple(args, "OO!O!", &capsule, &PyDict_Type, &error_classes, &PyDict_Type,
                        &causal_align)) {
    return nullptr;
  }
  if (!g_libraries.empty()) {
    PyErr_SetString(PyExc_RuntimeError, "xpuruntime's torch kernels are registered already");
    return nullptr;
  }
  auto* api = static_cast<const DLPackExchangeAPI*>(
      PyCapsule_GetPointer(capsule, "dlpack_exchange_api"));
  if (api == nullptr) return nullptr;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t pos = 0;
  while (PyDict_Next(causal_align, &pos, &key, &value)) {
    const char* name = PyUnicode_AsUTF8(key);
    const long long number = PyLong_AsLongLong(value);
    if (name == nullptr || (number == -1 && PyErr_Occurred())) return nullptr;
    g_causal_align[name] = number;
  }
  g_exchange = api;
  Py_INCREF(error_classes);
  g_error_classes = error_classes;
  register_all();
  Py_RETURN_NONE;
  END_HANDLE_TH_ERRORS
}

// The eager entry points (functional.py): the operator through the
// dispatcher, without torch.ops' argument parsing. They take plain
// tensors (torch.Tensor, Parameter) and Python numbers only and return
// NotImplemented for anything else, which functional.py sends the way it
// sends everything else.

bool plain(PyObject* obj) { return THPVariable_CheckExact(obj); }
bool plain_or_none(PyObject* obj) { return obj == Py_None || plain(obj); }
bool number(PyObject* obj) { return PyFloat_CheckExact(obj) || PyLong_CheckExact(obj); }

OptTensor optional_tensor(PyObject* obj) {
  return obj == Py_None ? std::nullopt : OptTensor(THPVariable_Unpack(obj));
}

bool scale_arg(PyObject* obj, std::optional<double>& scale) {
  if (obj == Py_None) return true;
  if (!number(obj)) return false;
  scale = PyFloat_AsDouble(obj);
  return !PyErr_Occurred();
}

PyObject* wrap(Tensor tensor) { return THPVariable_Wrap(std::move(tensor)); }

PyObject* wrap(std::tuple<Tensor, Tensor> pair) {
  PyObject* first = wrap(std::move(std::get<0>(pair)));
  if (first == nullptr) return nullptr;
  PyObject* second = wrap(std::move(std::get<1>(pair)));
  if (second == nullptr) {
    Py_DECREF(first);
    return nullptr;
  }
  PyObject* pair_object = PyTuple_Pack(2, first, second);
  Py_DECREF(first);
  Py_DECREF(second);
  return pair_object;
}

bool arity(const char* name, Py_ssize_t given, Py_ssize_t wanted) {
  if (given == wanted) return true;
  PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments, got %zd", name, wanted, given);
  return false;
}

PyObject* py_layer_norm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (!arity("layer_norm", nargs, 4)) return nullptr;
  if (!plain(args[0]) || !plain_or_none(args[1]) || !plain_or_none(args[2]) ||
      !number(args[3])) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  const double eps = PyFloat_AsDouble(args[3]);
  if (PyErr_Occurred()) return nullptr;
  Tensor y;
  {
    pybind11::gil_scoped_release no_gil;
    y = layer_norm_op().call(THPVariable_Unpack(args[0]), optional_tensor(args[1]),
                             optional_tensor(args[2]), eps);
  }
  return wrap(std::move(y));
  END_HANDLE_TH_ERRORS
}

PyObject* py_rms_norm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (!arity("rms_norm", nargs, 3)) return nullptr;
  if (!plain(args[0]) || !plain_or_none(args[1]) || !number(args[2])) Py_RETURN_NOTIMPLEMENTED;
  const double eps = PyFloat_AsDouble(args[2]);
  if (PyErr_Occurred()) return nullptr;
  Tensor y;
  {
    pybind11::gil_scoped_release no_gil;
    y = rms_norm_op().call(THPVariable_Unpack(args[0]), optional_tensor(args[1]), eps);
  }
  return wrap(std::move(y));
  END_HANDLE_TH_ERRORS
}

// (q, k, v, causal, scale): attention without masks.
bool attention_args(const char* name, PyObject* const* args, Py_ssize_t nargs, bool& usable,
                    bool& causal, std::optional<double>& scale) {
  if (!arity(name, nargs, 5)) return false;
  usable = plain(args[0]) && plain(args[1]) && plain(args[2]) &&
           (args[3] == Py_True || args[3] == Py_False);
  if (!usable) return true;
  causal = args[3] == Py_True;
  usable = scale_arg(args[4], scale);
  return !PyErr_Occurred();
}

PyObject* py_attention(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  bool usable = false, causal = false;
  std::optional<double> scale;
  if (!attention_args("attention", args, nargs, usable, causal, scale)) return nullptr;
  if (!usable) Py_RETURN_NOTIMPLEMENTED;
  Tensor out;
  {
    pybind11::gil_scoped_release no_gil;
    out = attention_op().call(THPVariable_Unpack(args[0]), THPVariable_Unpack(args[1]),
                              THPVariable_Unpack(args[2]), causal, scale, std::nullopt,
                              std::nullopt, std::nullopt, "top_left");
  }
  return wrap(std::move(out));
  END_HANDLE_TH_ERRORS
}

PyObject* py_attention_lse(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  bool usable = false, causal = false;
  std::optional<double> scale;
  if (!attention_args("attention_lse", args, nargs, usable, causal, scale)) return nullptr;
  if (!usable) Py_RETURN_NOTIMPLEMENTED;
  std::tuple<Tensor, Tensor> out;
  {
    pybind11::gil_scoped_release no_gil;
    out = attention_lse_op().call(THPVariable_Unpack(args[0]), THPVariable_Unpack(args[1]),
                                  THPVariable_Unpack(args[2]), causal, scale, std::nullopt,
                                  std::nullopt, std::nullopt, "top_left");
  }
  return wrap(std::move(out));
  END_HANDLE_TH_ERRORS
}

PyMethodDef g_methods[] = {
    {"register_kernels", py_register_kernels, METH_VARARGS,
     "register_kernels(exchange_api, error_classes, causal_align): registers the kernels"},
    {"layer_norm", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_layer_norm)),
     METH_FASTCALL, "layer_norm(x, weight, bias, eps)"},
    {"rms_norm", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_rms_norm)),
     METH_FASTCALL, "rms_norm(x, weight, eps)"},
    {"attention", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_attention)),
     METH_FASTCALL, "attention(q, k, v, causal, scale)"},
    {"attention_lse",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_attention_lse)), METH_FASTCALL,
     "attention_lse(q, k, v, causal, scale)"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef g_module = {PyModuleDef_HEAD_INIT, C10_STRINGIZE(TORCH_EXTENSION_NAME),
                        "xpuruntime.torch's C++ kernels (see _native.py)", -1, g_methods};

}  // namespace

// The ops this module implements; ops.py registers Python kernels for the rest.
#define XRT_NATIVE_OPS                                                                         \
  "layer_norm", "layer_norm_backward", "rms_norm", "rms_norm_backward", "attention",           \
      "attention_lse", "attention_backward"

PyMODINIT_FUNC C10_CONCATENATE(PyInit_, TORCH_EXTENSION_NAME)(void) {
  PyObject* module = PyModule_Create(&g_module);
  if (module == nullptr) return nullptr;
  PyObject* ops = Py_BuildValue("(sssssss)", XRT_NATIVE_OPS);
  if (ops == nullptr || PyModule_AddObject(module, "OPS", ops) != 0) {
    Py_XDECREF(ops);
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}
