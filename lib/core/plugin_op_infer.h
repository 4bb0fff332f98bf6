// Shapes a call of a plugin's op: runs the op's shape rule (its infer, or
// the element-wise rule when it has none) and checks what the rule gives
// before any output is allocated.
#pragma once

#include "op_schemas.h"

namespace xrt {

// What OpSchema::prepare does for built-in ops. Throws the rule's status and
// message when it rejects the call, and XRT_ERROR_BACKEND when it gives an
// output the runtime cannot allocate.
void prepare_plugin_op(const OpSchema& schema, PreparedCall& call);

}  // namespace xrt
