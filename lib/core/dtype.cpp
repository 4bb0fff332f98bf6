#include "dtype.h"

#include "backends/common/dtype_table.h"
#include "enum_code.h"
#include "error.h"

namespace xrt {

bool dtype_valid(const xrt_dtype_t& dtype) { return dtypes::known(enum_code(dtype)); }

xrt_dtype_t checked_dtype(const xrt_dtype_t& dtype, const char* what) {
  XRT_REQUIRE(dtype_valid(dtype), what, ": dtype code ", enum_code(dtype),
              " is out of range (expected 0..", XRT_DTYPE_COUNT - 1, ")");
  return dtype;
}

size_t dtype_size(xrt_dtype_t dtype) { return dtypes::size_of(dtype); }

const char* dtype_name(xrt_dtype_t dtype) { return dtypes::name_of(dtype); }

}  // namespace xrt
