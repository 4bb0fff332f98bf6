#include "dtype.h"

#include "enum_code.h"
#include "error.h"

namespace xrt {
namespace {

struct DtypeEntry {
  size_t size;
  const char* name;
};

// Indexed by xrt_dtype_t.
constexpr DtypeEntry kDtypes[XRT_DTYPE_COUNT] = {
    {1, "bool"},    {1, "uint8"},    {1, "int8"},    {2, "int16"},   {4, "int32"},
    {8, "int64"},   {2, "float16"},  {2, "bfloat16"}, {4, "float32"}, {8, "float64"},
};

}  // namespace

bool dtype_valid(const xrt_dtype_t& dtype) {
  const int32_t code = enum_code(dtype);
  return code >= 0 && code < XRT_DTYPE_COUNT;
}

xrt_dtype_t checked_dtype(const xrt_dtype_t& dtype, const char* what) {
  require(dtype_valid(dtype), what, ": dtype code ", enum_code(dtype),
          " is out of range (expected 0..", XRT_DTYPE_COUNT - 1, ")");
  return dtype;
}

size_t dtype_size(xrt_dtype_t dtype) { return kDtypes[dtype].size; }

const char* dtype_name(xrt_dtype_t dtype) { return kDtypes[dtype].name; }

}  // namespace xrt
