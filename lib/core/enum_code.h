// Enum-typed values that come from outside the library (C callers, plugin
// tables, DLPack structs) may hold any integer: C lets a caller store any int
// in an enum, while C++ makes loading a value outside the enum's range
// undefined. Such values are read here as the integer they hold, so they can
// be range-checked before anything uses them as the enum.
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
