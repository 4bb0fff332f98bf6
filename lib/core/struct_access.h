// Structs and tables cross the boundary with their struct_size first and
// grow only by appending fields (see xpuruntime.h, "Versions"). Each side
// reads and writes only the fields inside the other side's struct_size: an
// older caller or plugin (a smaller struct) keeps working, and a newer,
// larger one's unknown tail is left alone.
#pragma once

#include <cstddef>
#include <type_traits>

#include "error.h"
#include "xpuruntime/xpuruntime_plugin.h"

// Whether `field` of the struct `s` points at lies inside its struct_size.
#define XRT_HAS_FIELD(s, field)                                                          \
  ((s)->struct_size >=                                                                   \
   offsetof(std::remove_cv_t<std::remove_pointer_t<decltype(s)>>, field) + sizeof((s)->field))

// Writes `value` into the caller's struct when the field is inside its size.
#define XRT_SET_FIELD(s, field, value)          \
  do {                                          \
    if (XRT_HAS_FIELD(s, field)) (s)->field = (value); \
  } while (0)

// The end of `field`: a struct's first released size is the end of its last
// field in that release.
#define XRT_FIELD_END(type, field) (offsetof(type, field) + sizeof(static_cast<type*>(nullptr)->field))

namespace xrt {

// The first released layout of each struct a caller passes in: API 1.0
// (XRT_API_VERSION 2). Fields appended since are written only when the
// caller's struct reaches them.
constexpr size_t kFirstDeviceInfoSize = XRT_FIELD_END(xrt_device_info_t, compute_capability);
constexpr size_t kFirstMemoryStatsSize = XRT_FIELD_END(xrt_memory_stats_t, num_device_allocs);
constexpr size_t kFirstTensorInfoSize = XRT_FIELD_END(xrt_tensor_info_t, read_only);
constexpr size_t kFirstValueInfoSize = XRT_FIELD_END(xrt_value_info_t, dim_names);
constexpr size_t kFirstBackendInfoSize = XRT_FIELD_END(xrt_backend_info_t, details);
// Plugin tables: the fields every plugin must have had since ABI 1.0.
constexpr size_t kFirstDeviceApiSize = XRT_FIELD_END(xrt_device_api_t, fill_zero);
// Op schemas a plugin brings: the ABI 1.5 entry.
constexpr size_t kFirstOpSchemaSize = XRT_FIELD_END(xrt_op_schema_t, infer);

// A caller's struct must reach at least the struct's first released layout.
inline void check_struct_size(size_t given, size_t first_size, const char* type) {
  XRT_REQUIRE(given >= first_size, type, ".struct_size is ", given, ", expected at least ",
              first_size, " (the size of its first version; set it to sizeof(", type, "))");
}

}  // namespace xrt
