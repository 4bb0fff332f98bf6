// DLPack import and export, versioned (1.x) and legacy, zero copy.
#pragma once

#include "tensor.h"
#include "xpuruntime/xpuruntime_dlpack.h"

namespace xrt {

DLManagedTensorVersioned* export_dlpack(xrt_tensor* t);
DLManagedTensor* export_dlpack_legacy(xrt_tensor* t);
// On success the tensor owns `managed`; on failure the caller still does.
xrt_tensor* import_dlpack(DLManagedTensorVersioned* managed);
xrt_tensor* import_dlpack_legacy(DLManagedTensor* managed);

}  // namespace xrt
