// Enum-typed values that come from outside the library (C callers, plugin
// tables, DLPack structs) may hold any integer: C lets a caller store any int
// in an enum. The public enums (and DLPack's device type) are int32 in C++,
// so such a value is well defined; it is read here as the integer it holds,
// so every range check compares integers before anything uses it as the enum.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace xrt {

// The integer stored in `value`, read without loading it as the enum. C
// enums are int-sized on every ABI this library supports.
template <typename Enum>
int32_t enum_code(const Enum& value) {
  static_assert(std::is_enum_v<Enum> && sizeof(Enum) == sizeof(int32_t));
  int32_t code;
  std::memcpy(&code, &value, sizeof code);
  return code;
}

}  // namespace xrt
