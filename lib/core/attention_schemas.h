// Shape rules of the attention ops: dense (attention, attention_lse,
// attention_backward), packed variable-length (attention_varlen*), and
// decoding against a KV cache (attention_decode, kv_cache_append).
#pragma once

#include "op_schemas.h"

namespace xrt {

void prepare_attention(PreparedCall& call);
void prepare_attention_lse(PreparedCall& call);
void prepare_attention_backward(PreparedCall& call);
void prepare_attention_varlen(PreparedCall& call);
void prepare_attention_varlen_lse(PreparedCall& call);
void prepare_attention_varlen_backward(PreparedCall& call);
void prepare_attention_decode(PreparedCall& call);
void prepare_kv_cache_append(PreparedCall& call);

}  // namespace xrt
