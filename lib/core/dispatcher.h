// Runs an op: validates operands against the op's schema, shapes the output,
// picks a kernel from the registry, allocates the output from the device's
// pool and records the call in the profiler.
#pragma once

#include <cstddef>

#include "xpuruntime/xpuruntime.h"

struct xrt_stream;

namespace xrt {

// Writes the op's num_outputs new tensors to outputs; num_outputs must be
// the op's output count. impl: NULL for the registry's choice, or the name
// of the kernel that must run the call.
void run_op(const char* op, const char* impl, const xrt_tensor_t* const* inputs,
            size_t num_inputs, const xrt_attr_t* attrs, size_t num_attrs, xrt_stream* stream,
            xrt_tensor_t** outputs, size_t num_outputs);

}  // namespace xrt
