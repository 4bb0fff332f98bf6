// Device kinds by name, with the integer codes handed out for them.
#include <deque>
#include <mutex>

#include "device.h"
#include "enum_code.h"
#include "error.h"

namespace xrt {
namespace {

// Longest kind name a plugin may bring.
constexpr size_t kMaxKindName = 31;

struct KindTable {
  std::mutex mutex;
  std::deque<std::string> names{"cpu", "cuda"};  // index = code
};

KindTable& kinds() {
  static KindTable* table = new KindTable();  // outlives static teardown
  return *table;
}

bool valid_kind_name(const char* name) {
  if (!name || !(*name >= 'a' && *name <= 'z')) return false;
  size_t length = 0;
  for (const char* p = name; *p; ++p, ++length) {
    const bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (!ok || length >= kMaxKindName) return false;
  }
  return true;
}

}  // namespace

xrt_device_kind_t device_kind_code(const std::string& name) {
  KindTable& table = kinds();
  std::lock_guard<std::mutex> lock(table.mutex);
  for (size_t code = 0; code < table.names.size(); ++code)
    if (table.names[code] == name) return static_cast<xrt_device_kind_t>(code);
  table.names.push_back(name);
  return static_cast<xrt_device_kind_t>(table.names.size() - 1);
}

int32_t find_device_kind(const std::string& name) {
  KindTable& table = kinds();
  std::lock_guard<std::mutex> lock(table.mutex);
  for (size_t code = 0; code < table.names.size(); ++code)
    if (table.names[code] == name) return static_cast<int32_t>(code);
  return -1;
}

const char* device_kind_name(xrt_device_kind_t kind) {
  const int32_t code = enum_code(kind);
  KindTable& table = kinds();
  std::lock_guard<std::mutex> lock(table.mutex);
  if (code < 0 || static_cast<size_t>(code) >= table.names.size()) return "unknown";
  return table.names[static_cast<size_t>(code)].c_str();
}

xrt_device_kind_t plugin_device_kind(const char* kind_name, const xrt_device_kind_t& kind,
                                     const std::string& what) {
  if (kind_name) {
    XRT_REQUIRE(valid_kind_name(kind_name), what, ": device kind name '", kind_name,
                "' is malformed (expected 1 to ", kMaxKindName,
                " lower-case letters, digits or '_', starting with a letter, e.g. \"npu\")");
    return device_kind_code(kind_name);
  }
  const int32_t code = enum_code(kind);
  XRT_REQUIRE(code == XRT_DEVICE_CPU || code == XRT_DEVICE_CUDA, what, ": device kind code ", code,
              " is out of range (expected ", XRT_DEVICE_CPU, " cpu or ", XRT_DEVICE_CUDA,
              " cuda, or a kind_name for any other kind)");
  return kind;
}

}  // namespace xrt
