#include "op_schemas.h"

#include <array>
#include <cmath>
#include <cstring>

#include "attention_schemas.h"
#include "error.h"

namespace xrt {

double PreparedCall::float_attr(const char* name) const {
  for (size_t i = 0; i < num_attrs; ++i)
    if (std::strcmp(attrs[i].name, name) == 0) return attrs[i].f;
  fail(XRT_ERROR_INTERNAL, op, ": attribute '", name, "' missing");
}

int64_t PreparedCall::int_attr(const char* name) const {
  for (size_t i = 0; i < num_attrs; ++i)
    if (std::strcmp(attrs[i].name, name) == 0) return attrs[i].i;
  fail(XRT_ERROR_INTERNAL, op, ": attribute '", name, "' missing");
}

void PreparedCall::set_float_attr(const char* name, double value) {
  for (size_t i = 0; i < num_attrs; ++i)
    if (std::strcmp(attrs[i].name, name) == 0) attrs[i].f = value;
}

void set_output(PreparedCall& call, int32_t ndim, const int64_t* shape, size_t index) {
  call.out_ndim[index] = ndim;
  OperandView& view = call.out_view[index];
  view.ndim = ndim;
  for (int32_t i = 0; i < ndim; ++i) call.out_shape[index][i] = view.shape[i] = shape[i];
  contiguous_strides(ndim, shape, view.strides);
}

// Re-expresses a view in the broadcast shape: stride 0 on stretched axes.
void broadcast_view(OperandView& v, int32_t ndim, const int64_t* shape) {
  OperandView out;
  out.ndim = ndim;
  const int32_t lead = ndim - v.ndim;
  for (int32_t i = 0; i < ndim; ++i) {
    out.shape[i] = shape[i];
    const bool own = i >= lead && v.shape[i - lead] == shape[i] && shape[i] != 1;
    out.strides[i] = own ? v.strides[i - lead] : 0;
  }
  v = out;
}

namespace {

std::string shape_of(const OperandView& v) { return shape_string(v.ndim, v.shape); }

// Right-aligned numpy broadcasting of two shapes; false when incompatible.
bool broadcast_shapes(int32_t an, const int64_t* a, int32_t bn, const int64_t* b, int32_t* on,
                      int64_t* out) {
  const int32_t n = an > bn ? an : bn;
  for (int32_t i = 0; i < n; ++i) {
    const int64_t da = i < n - an ? 1 : a[i - (n - an)];
    const int64_t db = i < n - bn ? 1 : b[i - (n - bn)];
    if (da != db && da != 1 && db != 1) return false;
    out[i] = da == 1 ? db : da;
  }
  *on = n;
  return true;
}

void prepare_add(PreparedCall& call) {
  OperandView& a = call.views[0];
  OperandView& b = call.views[1];
  int32_t ndim = 0;
  int64_t shape[XRT_MAX_DIMS] = {};  // filled up to ndim; zeroed so gcc sees it set
  XRT_REQUIRE(broadcast_shapes(a.ndim, a.shape, b.ndim, b.shape, &ndim, shape), "add: shapes ",
              shape_of(a), " and ", shape_of(b), " do not broadcast");
  broadcast_view(a, ndim, shape);
  broadcast_view(b, ndim, shape);
  set_output(call, ndim, shape);
}

void prepare_matmul(PreparedCall& call) {
  OperandView& a = call.views[0];
  OperandView& b = call.views[1];
  XRT_REQUIRE(a.ndim >= 1 && b.ndim >= 1, "matmul: operands need at least one dimension (a is ",
              shape_of(a), ", b is ", shape_of(b), ")");
  const OperandView a_given = a, b_given = b;  // for messages, before the vector axes change
  // Vectors become a row (a) or a column (b); the axis is dropped again
  // from the result, as numpy does. Inputs are contiguous here.
  const bool a_vector = a.ndim == 1, b_vector = b.ndim == 1;
  if (a_vector) {
    a.ndim = 2;
    a.shape[1] = a.shape[0];
    a.shape[0] = 1;
  }
  if (b_vector) {
    b.ndim = 2;
    b.shape[1] = 1;
  }
  contiguous_strides(a.ndim, a.shape, a.strides);
  contiguous_strides(b.ndim, b.shape, b.strides);
  const int64_t m = a.shape[a.ndim - 2], k = a.shape[a.ndim - 1];
  const int64_t kb = b.shape[b.ndim - 2], n = b.shape[b.ndim - 1];
  XRT_REQUIRE(k == kb, "matmul: inner dimensions differ: a is ", shape_of(a_given), ", b is ",
              shape_of(b_given), " (", k, " != ", kb, ")");
  int32_t batch_ndim = 0;
  int64_t shape[XRT_MAX_DIMS];
  XRT_REQUIRE(broadcast_shapes(a.ndim - 2, a.shape, b.ndim - 2, b.shape, &batch_ndim, shape),
              "matmul: batch dimensions of a ", shape_of(a_given), " and b ", shape_of(b_given),
              " do not broadcast");
  XRT_REQUIRE(batch_ndim + 2 <= XRT_MAX_DIMS, "matmul: result would have more than ", XRT_MAX_DIMS,
              " dimensions");
  shape[batch_ndim] = m;
  shape[batch_ndim + 1] = n;
  set_output(call, batch_ndim + 2, shape);
  // The handed-back tensor drops the vector axes; same memory, same order.
  int32_t out_ndim = 0;
  for (int32_t i = 0; i < batch_ndim; ++i) call.out_shape[0][out_ndim++] = shape[i];
  if (!a_vector) call.out_shape[0][out_ndim++] = m;
  if (!b_vector) call.out_shape[0][out_ndim++] = n;
  call.out_ndim[0] = out_ndim;
}

void prepare_same_shape(PreparedCall& call) {
  set_output(call, call.views[0].ndim, call.views[0].shape);
}

void prepare_softmax(PreparedCall& call) {
  const OperandView& x = call.views[0];
  int64_t axis = call.int_attr("axis");
  XRT_REQUIRE(axis >= -x.ndim && axis < x.ndim, "softmax: axis ", axis,
              " is out of range for a tensor of shape ", shape_of(x));
  if (axis < 0) axis += x.ndim;
  for (size_t i = 0; i < call.num_attrs; ++i)
    if (std::strcmp(call.attrs[i].name, "axis") == 0) call.attrs[i].i = axis;
  prepare_same_shape(call);
}

// A norm's parameter at input `index`: absent, or 1-D with the length n of
// x's last axis.
void check_norm_param(const PreparedCall& call, const char* op, size_t index, const char* name) {
  if (!call.inputs[index]) return;
  const OperandView& x = call.views[0];
  const OperandView& p = call.views[index];
  const int64_t n = x.shape[x.ndim - 1];
  XRT_REQUIRE(p.ndim == 1 && p.shape[0] == n, op, ": ", name, " has shape ", shape_of(p),
              ", expected (", n, ",) to match the last axis of x ", shape_of(x));
}

void check_eps(const PreparedCall& call, const char* op) {
  const double eps = call.float_attr("eps");
  XRT_REQUIRE(std::isfinite(eps) && eps >= 0, op, ": eps must be finite and >= 0, got ", eps);
}

bool same_shape(const OperandView& a, const OperandView& b) {
  bool same = a.ndim == b.ndim;
  for (int32_t i = 0; same && i < a.ndim; ++i) same = a.shape[i] == b.shape[i];
  return same;
}

// Inputs (x, [residual,] weight[, bias]) from `first_param` on.
void check_norm_params(const PreparedCall& call, const char* op, size_t first_param) {
  const OperandView& x = call.views[0];
  XRT_REQUIRE(x.ndim >= 1, op, ": x needs at least one dimension, got shape ", shape_of(x));
  check_norm_param(call, op, first_param, "weight");
  if (first_param + 1 < call.num_inputs) check_norm_param(call, op, first_param + 1, "bias");
  check_eps(call, op);
}

void prepare_layer_norm(PreparedCall& call) {
  check_norm_params(call, "layer_norm", 1);
  prepare_same_shape(call);
}

void prepare_rms_norm(PreparedCall& call) {
  check_norm_params(call, "rms_norm", 1);
  prepare_same_shape(call);
}

// Residual add fused into a norm: inputs (x, residual, weight[, bias]),
// outputs the norm of s = x + residual and s itself, both of x's shape.
void prepare_add_norm(PreparedCall& call, const char* op) {
  check_norm_params(call, op, 2);
  const OperandView& x = call.views[0];
  XRT_REQUIRE(same_shape(call.views[1], x), op, ": residual has shape ",
              shape_of(call.views[1]), ", expected x's shape ", shape_of(x));
  set_output(call, x.ndim, x.shape, 0);
  set_output(call, x.ndim, x.shape, 1);
}

void prepare_add_layer_norm(PreparedCall& call) { prepare_add_norm(call, "add_layer_norm"); }

void prepare_add_rms_norm(PreparedCall& call) { prepare_add_norm(call, "add_rms_norm"); }

// Backward of a norm: inputs (dy, x, weight); dy has x's shape. Outputs are
// dx, then a gradient of the last axis's length per parameter.
void prepare_norm_backward(PreparedCall& call, const char* op, size_t num_param_grads) {
  const OperandView& dy = call.views[0];
  const OperandView& x = call.views[1];
  XRT_REQUIRE(x.ndim >= 1, op, ": x needs at least one dimension, got shape ", shape_of(x));
  XRT_REQUIRE(same_shape(dy, x), op, ": grad has shape ", shape_of(dy), ", expected x's shape ",
              shape_of(x));
  const int64_t n = x.shape[x.ndim - 1];
  if (call.inputs[2]) {
    const OperandView& w = call.views[2];
    XRT_REQUIRE(w.ndim == 1 && w.shape[0] == n, op, ": weight has shape ", shape_of(w),
                ", expected (", n, ",) to match the last axis of x ", shape_of(x));
  }
  // The fused ops' gradient of the sum output, added to dx.
  if (call.num_inputs > 3 && call.inputs[3]) {
    XRT_REQUIRE(same_shape(call.views[3], x), op, ": grad_sum has shape ",
                shape_of(call.views[3]), ", expected the sum's shape ", shape_of(x));
  }
  check_eps(call, op);
  set_output(call, x.ndim, x.shape, 0);
  for (size_t i = 1; i <= num_param_grads; ++i) set_output(call, 1, &n, i);
}

void prepare_layer_norm_backward(PreparedCall& call) {
  prepare_norm_backward(call, "layer_norm_backward", 2);
}

void prepare_rms_norm_backward(PreparedCall& call) {
  prepare_norm_backward(call, "rms_norm_backward", 1);
}

void prepare_add_layer_norm_backward(PreparedCall& call) {
  prepare_norm_backward(call, "add_layer_norm_backward", 2);
}

void prepare_add_rms_norm_backward(PreparedCall& call) {
  prepare_norm_backward(call, "add_rms_norm_backward", 1);
}

// bias_gelu: gelu(x + bias), bias 1-D with the length of x's last axis.
void check_bias(const PreparedCall& call, const char* op, size_t x_index) {
  const OperandView& x = call.views[x_index];
  const OperandView& b = call.views[x_index + 1];
  XRT_REQUIRE(x.ndim >= 1, op, ": x needs at least one dimension, got shape ", shape_of(x));
  const int64_t n = x.shape[x.ndim - 1];
  XRT_REQUIRE(b.ndim == 1 && b.shape[0] == n, op, ": bias has shape ", shape_of(b),
              ", expected (", n, ",) to match the last axis of x ", shape_of(x));
}

void prepare_bias_gelu(PreparedCall& call) {
  check_bias(call, "bias_gelu", 0);
  prepare_same_shape(call);
}

// Inputs (grad, x, bias); outputs dx (x's shape) and dbias.
void prepare_bias_gelu_backward(PreparedCall& call) {
  const char* op = "bias_gelu_backward";
  check_bias(call, op, 1);
  const OperandView& x = call.views[1];
  XRT_REQUIRE(same_shape(call.views[0], x), op, ": grad has shape ", shape_of(call.views[0]),
              ", expected x's shape ", shape_of(x));
  set_output(call, x.ndim, x.shape, 0);
  set_output(call, 1, &x.shape[x.ndim - 1], 1);
}

constexpr uint32_t kNone = 0;
constexpr xrt_attr_t kCausal{"causal", XRT_ATTR_INT, 0, 0};
constexpr xrt_attr_t kScale{"scale", XRT_ATTR_FLOAT, 0, 0};
constexpr xrt_attr_t kWindow{"window_left", XRT_ATTR_INT, -1, 0};
constexpr xrt_attr_t kAlign{"causal_align", XRT_ATTR_INT, 0, 0};
constexpr xrt_attr_t kMaxQ{"max_seqlen_q", XRT_ATTR_INT, -1, 0};
constexpr xrt_attr_t kMaxK{"max_seqlen_k", XRT_ATTR_INT, -1, 0};

const OpSchema kSchemas[] = {
    {"add", 2, {"a", "b"}, 1, kNone, InputLayout::kBroadcast, 0, {}, prepare_add, kNone},
    // allow_tf32: float32 products may round inputs to tf32 on GPUs.
    {"matmul", 2, {"a", "b"}, 1, kNone, InputLayout::kContiguous, 1, {{"allow_tf32", XRT_ATTR_INT, 0, 0}},
     prepare_matmul, kNone},
    {"gelu", 1, {"x"}, 1, kNone, InputLayout::kContiguous, 0, {}, prepare_same_shape, kNone},
    {"softmax", 1, {"x"}, 1, kNone, InputLayout::kContiguous, 1, {{"axis", XRT_ATTR_INT, -1, 0}}, prepare_softmax, kNone},
    {"layer_norm", 3, {"x", "weight", "bias"}, 1, 0b110, InputLayout::kContiguous, 1,
     {{"eps", XRT_ATTR_FLOAT, 0, 1e-5}}, prepare_layer_norm, kNone},
    {"rms_norm", 2, {"x", "weight"}, 1, 0b10, InputLayout::kContiguous, 1, {{"eps", XRT_ATTR_FLOAT, 0, 1e-6}},
     prepare_rms_norm, kNone},
    // Gradients of the norms for a given output gradient; mean and variance
    // are recomputed from x. Outputs: dx, dweight, dbias (layer_norm) or
    // dx, dweight (rms_norm), the weight treated as ones when absent.
    {"layer_norm_backward", 3, {"grad", "x", "weight"}, 3, 0b100, InputLayout::kContiguous, 1,
     {{"eps", XRT_ATTR_FLOAT, 0, 1e-5}}, prepare_layer_norm_backward, kNone},
    {"rms_norm_backward", 3, {"grad", "x", "weight"}, 2, 0b100, InputLayout::kContiguous, 1,
     {{"eps", XRT_ATTR_FLOAT, 0, 1e-6}}, prepare_rms_norm_backward, kNone},
    // A residual add fused into the norm: outputs the norm of s = x +
    // residual and s itself (the residual stream's next value).
    {"add_layer_norm", 4, {"x", "residual", "weight", "bias"}, 2, 0b1100, InputLayout::kContiguous,
     1, {{"eps", XRT_ATTR_FLOAT, 0, 1e-5}}, prepare_add_layer_norm, kNone},
    {"add_rms_norm", 3, {"x", "residual", "weight"}, 2, 0b100, InputLayout::kContiguous, 1,
     {{"eps", XRT_ATTR_FLOAT, 0, 1e-6}}, prepare_add_rms_norm, kNone},
    // Their gradients: the norm's backward at the sum, plus grad_sum (the
    // gradient reaching the sum output directly) when given. Outputs: the
    // gradient of the sum (x's and residual's alike), then the parameters'.
    {"add_layer_norm_backward", 4, {"grad", "sum", "weight", "grad_sum"}, 3, 0b1100,
     InputLayout::kContiguous, 1, {{"eps", XRT_ATTR_FLOAT, 0, 1e-5}},
     prepare_add_layer_norm_backward, kNone},
    {"add_rms_norm_backward", 4, {"grad", "sum", "weight", "grad_sum"}, 2, 0b1100,
     InputLayout::kContiguous, 1, {{"eps", XRT_ATTR_FLOAT, 0, 1e-6}},
     prepare_add_rms_norm_backward, kNone},
    // gelu(x + bias) with bias along the last axis; its backward gives dx
    // and dbias.
    {"bias_gelu", 2, {"x", "bias"}, 1, kNone, InputLayout::kContiguous, 0, {}, prepare_bias_gelu,
     kNone},
    {"bias_gelu_backward", 3, {"grad", "x", "bias"}, 2, kNone, InputLayout::kContiguous, 0, {},
     prepare_bias_gelu_backward, kNone},
    // Masks of every attention op: causal (causal_align 0: query i sees keys
    // j <= i, torch's; 1: j <= i + Lk - Lq, the queries at the end), a
    // window of window_left keys before that diagonal (-1: unlimited), and
    // for the dense ops an attn_mask broadcastable to (B, H, Lq, Lk) (bool,
    // True = attend, or added to the scores) and key_lengths (B,) int32
    // valid keys per batch entry. k and v may have fewer heads than q
    // (grouped-query attention): q head h reads kv head h / (H / Hkv).
    {"attention", 5, {"q", "k", "v", "attn_mask", "key_lengths"}, 1, 0b11000,
     InputLayout::kStrided, 4, {kCausal, kScale, kWindow, kAlign}, prepare_attention, kNone,
     nullptr, 0b10000, 0b01000},
    // attention's output and the natural log-sum-exp of every query's scaled
    // (and masked) scores, which attention_backward takes to skip a forward.
    {"attention_lse", 5, {"q", "k", "v", "attn_mask", "key_lengths"}, 2, 0b11000,
     InputLayout::kStrided, 4, {kCausal, kScale, kWindow, kAlign}, prepare_attention_lse, kNone,
     nullptr, 0b10000, 0b01000},
    // Gradients of attention for a given output gradient: dq, dk, dv. With
    // attention_lse's output and lse the weights come from them; without,
    // they are recomputed from q and k.
    {"attention_backward", 8,
     {"grad", "q", "k", "v", "output", "lse", "attn_mask", "key_lengths"}, 3, 0b11110000,
     InputLayout::kStrided, 4, {kCausal, kScale, kWindow, kAlign}, prepare_attention_backward,
     0b100000, nullptr, 0b10000000, 0b01000000},
    // Packed sequences: q (total_q, H, D), k and v (total_k, Hkv, D), sequence
    // b at rows cu_seqlens[b]..cu_seqlens[b+1] (int32, batch + 1 entries from
    // 0); max_seqlen_* bound every length. The _lse variant's lse is
    // (H, total_q).
    {"attention_varlen", 5, {"q", "k", "v", "cu_seqlens_q", "cu_seqlens_k"}, 1, kNone,
     InputLayout::kContiguous, 6, {kCausal, kScale, kWindow, kAlign, kMaxQ, kMaxK},
     prepare_attention_varlen, kNone, nullptr, 0b11000, kNone},
    {"attention_varlen_lse", 5, {"q", "k", "v", "cu_seqlens_q", "cu_seqlens_k"}, 2, kNone,
     InputLayout::kContiguous, 6, {kCausal, kScale, kWindow, kAlign, kMaxQ, kMaxK},
     prepare_attention_varlen_lse, kNone, nullptr, 0b11000, kNone},
    {"attention_varlen_backward", 8,
     {"grad", "q", "k", "v", "cu_seqlens_q", "cu_seqlens_k", "output", "lse"}, 3, 0b11000000,
     InputLayout::kContiguous, 6, {kCausal, kScale, kWindow, kAlign, kMaxQ, kMaxK},
     prepare_attention_varlen_backward, 0b10000000, nullptr, 0b110000, kNone},
    // New queries q (B, Lq, H, D) at the end of each cached sequence against
    // its first cache_seqlens[b] keys: a contiguous cache (B, capacity, Hkv,
    // D), or a paged one (num_blocks, block_size, Hkv, D) with block_table
    // (B, max_blocks) int32. causal (default on) is bottom-right aligned.
    {"attention_decode", 5, {"q", "k_cache", "v_cache", "cache_seqlens", "block_table"}, 1,
     0b10000, InputLayout::kContiguous, 3,
     {{"causal", XRT_ATTR_INT, 1, 0}, kScale, kWindow}, prepare_attention_decode, kNone, nullptr,
     0b11000, kNone},
    // Writes k and v (B, L, Hkv, D) into the caches (laid out as
    // attention_decode's) at positions cache_seqlens[b]..+L, in place; the
    // caches must be contiguous. Returns cache_seqlens + L.
    {"kv_cache_append", 6, {"k_cache", "v_cache", "k", "v", "cache_seqlens", "block_table"}, 1,
     0b100000, InputLayout::kContiguous, 0, {}, prepare_kv_cache_append, kNone, nullptr,
     0b110000, kNone},
};

}  // namespace

const OpSchema* find_builtin_op(const char* name) {
  for (const OpSchema& schema : kSchemas)
    if (std::strcmp(schema.name, name) == 0) return &schema;
  return nullptr;
}

std::string builtin_op_names() {
  std::string names;
  for (const OpSchema& schema : kSchemas) {
    if (!names.empty()) names += ", ";
    names += schema.name;
  }
  return names;
}

}  // namespace xrt
