// Every op the runtime runs: the built-in ones and those plugins bring.
// Built-in ops are found without taking a lock, so dispatching them costs
// what it did before plugins could add ops.
#pragma once

#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "op_schemas.h"

namespace xrt {

class OpRegistry {
 public:
  // The op called name, or nullptr.
  const OpSchema* find(const char* name) const;
  // "add, matmul, ..., myplugin.scale" for error messages.
  std::string names() const;
  // Throws naming the op and who defines it when one of schemas is taken.
  void check_unused(const std::vector<OpSchema>& schemas, const std::string& path) const;
  // Adds a plugin's ops (checked with check_unused first).
  void add(const std::vector<OpSchema>& schemas, const std::string& backend);

 private:
  struct PluginOp {
    const OpSchema* schema;  // allocated once, never freed: dispatch keeps pointers
    std::string backend;
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, PluginOp> plugin_ops_;
  std::vector<std::string> plugin_op_order_;  // load order, for names()
};

}  // namespace xrt
