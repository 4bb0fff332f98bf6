#include "op_registry.h"

#include <mutex>

#include "error.h"

namespace xrt {

const OpSchema* OpRegistry::find(const char* name) const {
  if (const OpSchema* builtin = find_builtin_op(name)) return builtin;
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = plugin_ops_.find(name);
  return it == plugin_ops_.end() ? nullptr : it->second.schema;
}

std::string OpRegistry::names() const {
  std::string names = builtin_op_names();
  std::shared_lock<std::shared_mutex> lock(mutex_);
  for (const std::string& name : plugin_op_order_) names += ", " + name;
  return names;
}

void OpRegistry::check_unused(const std::vector<OpSchema>& schemas,
                              const std::string& path) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  for (const OpSchema& schema : schemas) {
    if (find_builtin_op(schema.name))
      fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' defines op '", schema.name,
           "', which is a built-in op");
    auto it = plugin_ops_.find(schema.name);
    if (it != plugin_ops_.end())
      fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' defines op '", schema.name,
           "', which backend '", it->second.backend, "' already defines");
  }
}

void OpRegistry::add(const std::vector<OpSchema>& schemas, const std::string& backend) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  for (const OpSchema& schema : schemas) {
    plugin_ops_.emplace(schema.name, PluginOp{new OpSchema(schema), backend});
    plugin_op_order_.push_back(schema.name);
  }
}

}  // namespace xrt
