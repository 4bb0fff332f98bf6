// Size and name of every xrt_dtype_t code: the one table the core, the
// built-in CPU backend and the plugins read. Header-only, so plugins share
// it without linking the core; a code appended to the enum without a row
// here fails the build.
#ifndef XRT_BACKENDS_COMMON_DTYPE_TABLE_H_
#define XRT_BACKENDS_COMMON_DTYPE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "xpuruntime/xpuruntime.h"

namespace xrt::dtypes {

struct Row {
  xrt_dtype_t dtype;
  size_t size;       // bytes per element
  const char* name;  // as numpy and ml_dtypes spell it
};

// Indexed by code.
inline constexpr Row kTable[] = {
    {XRT_BOOL, 1, "bool"},
    {XRT_UINT8, 1, "uint8"},
    {XRT_INT8, 1, "int8"},
    {XRT_INT16, 2, "int16"},
    {XRT_INT32, 4, "int32"},
    {XRT_INT64, 8, "int64"},
    {XRT_FLOAT16, 2, "float16"},
    {XRT_BFLOAT16, 2, "bfloat16"},
    {XRT_FLOAT32, 4, "float32"},
    {XRT_FLOAT64, 8, "float64"},
    {XRT_UINT16, 2, "uint16"},
    {XRT_UINT32, 4, "uint32"},
    {XRT_UINT64, 8, "uint64"},
    {XRT_FLOAT8_E4M3FN, 1, "float8_e4m3fn"},
    {XRT_FLOAT8_E5M2, 1, "float8_e5m2"},
    {XRT_FLOAT8_E4M3FNUZ, 1, "float8_e4m3fnuz"},
    {XRT_FLOAT8_E5M2FNUZ, 1, "float8_e5m2fnuz"},
};

static_assert(std::size(kTable) == XRT_DTYPE_COUNT, "every dtype code needs a row");
// Kernels list their dtypes in a uint32_t mask of XRT_DTYPE_BIT(code).
static_assert(XRT_DTYPE_COUNT <= 32, "dtype codes past 31 need a wider kernel dtype_mask");

constexpr bool rows_in_code_order() {
  for (size_t i = 0; i < std::size(kTable); ++i)
    if (static_cast<size_t>(kTable[i].dtype) != i) return false;
  return true;
}
static_assert(rows_in_code_order(), "kTable is indexed by code");

// Callers pass the code as an integer: a value from outside the library
// may be any int, which must not be loaded as the enum (see enum_code.h).
constexpr bool known(int32_t code) { return code >= 0 && code < XRT_DTYPE_COUNT; }

// 0 for an unknown code.
constexpr size_t size_of(int32_t code) { return known(code) ? kTable[code].size : 0; }

// "unknown" for an unknown code.
constexpr const char* name_of(int32_t code) { return known(code) ? kTable[code].name : "unknown"; }

}  // namespace xrt::dtypes

#endif  // XRT_BACKENDS_COMMON_DTYPE_TABLE_H_
