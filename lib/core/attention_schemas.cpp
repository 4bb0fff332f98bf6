#include "attention_schemas.h"

#include <array>
#include <cmath>

#include "error.h"

namespace xrt {
namespace {

std::string shape_of(const OperandView& v) { return shape_string(v.ndim, v.shape); }

bool has_shape(const OperandView& view, int32_t ndim, const int64_t* shape) {
  if (view.ndim != ndim) return false;
  for (int32_t i = 0; i < ndim; ++i) {
    if (view.shape[i] != shape[i]) return false;
  }
  return true;
}

// q heads must be a whole multiple of the kv heads (grouped-query attention).
void check_heads(const char* op, int64_t heads, int64_t heads_kv, const std::string& shapes) {
  XRT_REQUIRE(heads_kv > 0 && heads % heads_kv == 0, op, ": q has ", heads,
              " heads, which is not a multiple of k and v's ", heads_kv, " heads: ", shapes);
}

// Settles the scale (0 or less: 1/sqrt(head_dim)) and checks the mask
// attributes every attention op shares.
void check_attrs(PreparedCall& call, const char* op, int64_t head_dim) {
  const double scale = call.float_attr("scale");
  XRT_REQUIRE(std::isfinite(scale), op, ": scale must be finite (or <= 0 for 1/sqrt(head_dim)), "
              "got ", scale);
  if (scale <= 0) call.set_float_attr("scale", 1.0 / std::sqrt(static_cast<double>(head_dim)));
  const int64_t window = call.int_attr("window_left");
  XRT_REQUIRE(window >= -1, op, ": window_left must be -1 (no window) or >= 0, got ", window);
}

void check_align(const PreparedCall& call, const char* op) {
  const int64_t align = call.int_attr("causal_align");
  XRT_REQUIRE(align == 0 || align == 1, op, ": causal_align must be 0 (top_left) or 1 "
              "(bottom_right), got ", align);
}

// q, k, v at views[first..first+2]: checks them and settles the scale.
// Returns the output shape (B, H, Lq, Dv).
std::array<int64_t, 4> check_attention_operands(PreparedCall& call, size_t first,
                                                const char* op) {
  const OperandView& q = call.views[first];
  const OperandView& k = call.views[first + 1];
  const OperandView& v = call.views[first + 2];
  // For messages only: built when a check fails, not on every call.
  const auto shapes = [&] {
    return cat("q ", shape_of(q), ", k ", shape_of(k), ", v ", shape_of(v));
  };
  XRT_REQUIRE(q.ndim == 4 && k.ndim == 4 && v.ndim == 4, op,
              ": q, k and v must be (batch, heads, seq, head_dim); got ", shapes());
  XRT_REQUIRE(q.shape[0] == k.shape[0] && k.shape[0] == v.shape[0], op,
              ": batch sizes differ: ", shapes());
  XRT_REQUIRE(k.shape[1] == v.shape[1], op, ": head counts of k and v differ: ", shapes());
  if (k.shape[1] == 0 || q.shape[1] % k.shape[1] != 0)
    check_heads(op, q.shape[1], k.shape[1], shapes());
  XRT_REQUIRE(q.shape[3] == k.shape[3], op, ": head_dim of q and k differ: ", shapes());
  XRT_REQUIRE(k.shape[2] == v.shape[2], op, ": sequence lengths of k and v differ: ", shapes());
  XRT_REQUIRE(q.shape[3] > 0, op, ": head_dim is 0: ", shapes());
  check_attrs(call, op, q.shape[3]);
  check_align(call, op);
  return {q.shape[0], q.shape[1], q.shape[2], v.shape[3]};
}

// attn_mask (views[mask]) broadcast to (B, H, Lq, Lk), key_lengths
// (views[mask + 1]) of shape (B,).
void check_dense_masks(PreparedCall& call, size_t mask, const char* op,
                       const std::array<int64_t, 4>& out, int64_t lk) {
  const int64_t full[4] = {out[0], out[1], out[2], lk};
  if (call.inputs[mask]) {
    OperandView& m = call.views[mask];
    bool fits = m.ndim <= 4;
    for (int32_t i = 0; fits && i < m.ndim; ++i) {
      const int64_t want = full[4 - m.ndim + i];
      fits = m.shape[i] == want || m.shape[i] == 1;
    }
    XRT_REQUIRE(fits, op, ": attn_mask has shape ", shape_of(m), ", which does not broadcast to ",
                shape_string(4, full), " (batch, heads, Lq, Lk)");
    broadcast_view(m, 4, full);
  }
  if (call.inputs[mask + 1]) {
    const OperandView& n = call.views[mask + 1];
    XRT_REQUIRE(has_shape(n, 1, full), op, ": key_lengths has shape ", shape_of(n),
                ", expected (", out[0], ",) (one length per batch entry)");
  }
}

// Output index in the axis order of `like` (attention's layout rule):
// (B, L, H, D) memory when like's head stride is below its sequence stride
// and both axes are longer than 1, else contiguous.
void follow_axis_order(PreparedCall& call, size_t index, const OperandView& like) {
  OperandView& out = call.out_view[index];
  if (like.shape[1] < 2 || like.shape[2] < 2 || like.strides[1] >= like.strides[2]) return;
  out.strides[3] = 1;
  out.strides[1] = out.shape[3];
  out.strides[2] = out.shape[1] * out.shape[3];
  out.strides[0] = out.shape[2] * out.strides[2];
}

std::array<int64_t, 4> prepare_dense_forward(PreparedCall& call, const char* op) {
  const std::array<int64_t, 4> out = check_attention_operands(call, 0, op);
  check_dense_masks(call, 3, op, out, call.views[1].shape[2]);
  set_output(call, 4, out.data(), 0);
  follow_axis_order(call, 0, call.views[0]);
  return out;
}

// Packed q, k, v at views[first..first+2], cu_seqlens at views[first+3..+4]:
// returns (total_q, H, Dv).
std::array<int64_t, 3> check_varlen_operands(PreparedCall& call, size_t first, const char* op) {
  const OperandView& q = call.views[first];
  const OperandView& k = call.views[first + 1];
  const OperandView& v = call.views[first + 2];
  const OperandView& cq = call.views[first + 3];
  const OperandView& ck = call.views[first + 4];
  const auto shapes = [&] {
    return cat("q ", shape_of(q), ", k ", shape_of(k), ", v ", shape_of(v));
  };
  XRT_REQUIRE(q.ndim == 3 && k.ndim == 3 && v.ndim == 3, op,
              ": q, k and v must be (total_tokens, heads, head_dim); got ", shapes());
  XRT_REQUIRE(k.shape[0] == v.shape[0], op, ": token counts of k and v differ: ", shapes());
  XRT_REQUIRE(k.shape[1] == v.shape[1], op, ": head counts of k and v differ: ", shapes());
  if (k.shape[1] == 0 || q.shape[1] % k.shape[1] != 0)
    check_heads(op, q.shape[1], k.shape[1], shapes());
  XRT_REQUIRE(q.shape[2] == k.shape[2], op, ": head_dim of q and k differ: ", shapes());
  XRT_REQUIRE(q.shape[2] > 0, op, ": head_dim is 0: ", shapes());
  XRT_REQUIRE(cq.ndim == 1 && cq.shape[0] >= 1, op, ": cu_seqlens_q has shape ", shape_of(cq),
              ", expected (batch + 1,) with at least one entry");
  XRT_REQUIRE(has_shape(ck, 1, cq.shape), op, ": cu_seqlens_k has shape ", shape_of(ck),
              ", expected cu_seqlens_q's ", shape_of(cq));
  check_attrs(call, op, q.shape[2]);
  check_align(call, op);
  for (const char* name : {"max_seqlen_q", "max_seqlen_k"}) {
    const int64_t max_len = call.int_attr(name);
    XRT_REQUIRE(max_len >= -1, op, ": ", name, " must be >= 0 (or -1: not given), got ", max_len);
  }
  return {q.shape[0], q.shape[1], v.shape[2]};
}

// A KV cache pair at views[first], views[first + 1] for batch, heads and
// head_dim of the new rows; cache_seqlens at views[table - 1], block_table
// at views[table] (absent: contiguous cache). Returns the heads of the cache.
int64_t check_cache(PreparedCall& call, size_t first, size_t table, int64_t batch,
                    int64_t head_dim, const char* op) {
  const OperandView& kc = call.views[first];
  const OperandView& vc = call.views[first + 1];
  const auto shapes = [&] {
    return cat("k_cache ", shape_of(kc), ", v_cache ", shape_of(vc));
  };
  XRT_REQUIRE(kc.ndim == 4 && vc.ndim == 4, op, ": the caches must be 4-D, got ", shapes());
  XRT_REQUIRE(kc.shape[0] == vc.shape[0] && kc.shape[1] == vc.shape[1] &&
                  kc.shape[2] == vc.shape[2],
              op, ": k_cache and v_cache differ in all but head_dim: ", shapes());
  XRT_REQUIRE(kc.shape[3] == head_dim, op, ": k_cache has head_dim ", kc.shape[3], ", expected ",
              head_dim, ": ", shapes());
  if (call.inputs[table]) {
    const OperandView& t = call.views[table];
    XRT_REQUIRE(t.ndim == 2 && t.shape[0] == batch, op, ": block_table has shape ", shape_of(t),
                ", expected (", batch, ", max_blocks)");
    XRT_REQUIRE(kc.shape[1] > 0, op, ": the paged cache has block_size 0: ", shapes());
  } else {
    XRT_REQUIRE(kc.shape[0] == batch, op, ": a contiguous cache needs one row per batch entry (",
                batch, "), got ", shapes(), " (give block_table for a paged cache)");
  }
  const OperandView& lens = call.views[table - 1];  // cache_seqlens
  XRT_REQUIRE(has_shape(lens, 1, &batch), op, ": cache_seqlens has shape ", shape_of(lens),
              ", expected (", batch, ",)");
  return kc.shape[2];
}

}  // namespace

void prepare_attention(PreparedCall& call) { prepare_dense_forward(call, "attention"); }

// Outputs (B, H, Lq, Dv) and the float32 log-sum-exp of each query's scaled
// scores, (B, H, Lq).
void prepare_attention_lse(PreparedCall& call) {
  const std::array<int64_t, 4> out = prepare_dense_forward(call, "attention_lse");
  set_output(call, 3, out.data(), 1);
  call.out_dtype[1] = XRT_FLOAT32;
}

// Inputs (grad, q, k, v[, output, lse][, attn_mask][, key_lengths]), grad
// and output shaped like attention's output, lse like attention_lse's;
// outputs dq, dk, dv shaped like q, k, v.
void prepare_attention_backward(PreparedCall& call) {
  const char* op = "attention_backward";
  const std::array<int64_t, 4> out = check_attention_operands(call, 1, op);
  check_dense_masks(call, 6, op, out, call.views[2].shape[2]);
  const std::string want = shape_string(4, out.data());
  XRT_REQUIRE(has_shape(call.views[0], 4, out.data()), op, ": grad has shape ",
              shape_of(call.views[0]), ", expected ", want, " (the attention output's)");
  const bool has_output = call.inputs[4] != nullptr, has_lse = call.inputs[5] != nullptr;
  XRT_REQUIRE(has_output == has_lse, op, ": give output and lse together (got ",
              has_output ? "output" : "lse", " alone)");
  if (has_output) {
    XRT_REQUIRE(has_shape(call.views[4], 4, out.data()), op, ": output has shape ",
                shape_of(call.views[4]), ", expected ", want);
    XRT_REQUIRE(has_shape(call.views[5], 3, out.data()), op, ": lse has shape ",
                shape_of(call.views[5]), ", expected ", shape_string(3, out.data()));
  }
  for (size_t i = 0; i < 3; ++i) {
    set_output(call, 4, call.views[i + 1].shape, i);
    follow_axis_order(call, i, call.views[i + 1]);
  }
}

void prepare_attention_varlen(PreparedCall& call) {
  const std::array<int64_t, 3> out = check_varlen_operands(call, 0, "attention_varlen");
  set_output(call, 3, out.data());
}

// Also the float32 log-sum-exp of each query, (H, total_q).
void prepare_attention_varlen_lse(PreparedCall& call) {
  const std::array<int64_t, 3> out = check_varlen_operands(call, 0, "attention_varlen_lse");
  set_output(call, 3, out.data(), 0);
  const int64_t lse[2] = {out[1], out[0]};
  set_output(call, 2, lse, 1);
  call.out_dtype[1] = XRT_FLOAT32;
}

void prepare_attention_varlen_backward(PreparedCall& call) {
  const char* op = "attention_varlen_backward";
  const std::array<int64_t, 3> out = check_varlen_operands(call, 1, op);
  const std::string want = shape_string(3, out.data());
  XRT_REQUIRE(has_shape(call.views[0], 3, out.data()), op, ": grad has shape ",
              shape_of(call.views[0]), ", expected ", want, " (the attention output's)");
  const bool has_output = call.inputs[6] != nullptr, has_lse = call.inputs[7] != nullptr;
  XRT_REQUIRE(has_output == has_lse, op, ": give output and lse together (got ",
              has_output ? "output" : "lse", " alone)");
  if (has_output) {
    const int64_t lse[2] = {out[1], out[0]};
    XRT_REQUIRE(has_shape(call.views[6], 3, out.data()), op, ": output has shape ",
                shape_of(call.views[6]), ", expected ", want);
    XRT_REQUIRE(has_shape(call.views[7], 2, lse), op, ": lse has shape ",
                shape_of(call.views[7]), ", expected ", shape_string(2, lse));
  }
  for (size_t i = 0; i < 3; ++i) set_output(call, 3, call.views[i + 1].shape, i);
}

void prepare_attention_decode(PreparedCall& call) {
  const char* op = "attention_decode";
  const OperandView& q = call.views[0];
  XRT_REQUIRE(q.ndim == 4, op, ": q must be (batch, q_len, heads, head_dim), got ", shape_of(q));
  XRT_REQUIRE(q.shape[3] > 0, op, ": head_dim is 0: q ", shape_of(q));
  const int64_t heads_kv = check_cache(call, 1, 4, q.shape[0], q.shape[3], op);
  if (heads_kv == 0 || q.shape[2] % heads_kv != 0)
    check_heads(op, q.shape[2], heads_kv, cat("q ", shape_of(q), ", k_cache ",
                                              shape_of(call.views[1])));
  check_attrs(call, op, q.shape[3]);
  const int64_t out[4] = {q.shape[0], q.shape[1], q.shape[2], call.views[2].shape[3]};
  set_output(call, 4, out);
}

void prepare_kv_cache_append(PreparedCall& call) {
  const char* op = "kv_cache_append";
  const OperandView& k = call.views[2];
  const OperandView& v = call.views[3];
  XRT_REQUIRE(k.ndim == 4 && v.ndim == 4 && k.shape[0] == v.shape[0] && k.shape[1] == v.shape[1] &&
                  k.shape[2] == v.shape[2],
              op, ": k and v must be (batch, new_len, heads_kv, head_dim) alike, got k ",
              shape_of(k), ", v ", shape_of(v));
  const int64_t heads_kv = check_cache(call, 0, 5, k.shape[0], k.shape[3], op);
  XRT_REQUIRE(heads_kv == k.shape[2] && call.views[1].shape[3] == v.shape[3], op,
              ": k ", shape_of(k), " and v ", shape_of(v), " do not match the caches' heads "
              "and head_dim: k_cache ", shape_of(call.views[0]), ", v_cache ",
              shape_of(call.views[1]));
  for (size_t i = 0; i < 2; ++i) {
    XRT_REQUIRE(!call.temps[i].get(), op, ": ", i ? "v_cache" : "k_cache",
                " must be contiguous and aligned: it is written in place");
  }
  set_output(call, 1, &k.shape[0]);
  call.out_dtype[0] = XRT_INT32;
}

}  // namespace xrt
