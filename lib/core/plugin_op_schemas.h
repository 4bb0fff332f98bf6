// The ops a plugin brings (plugin ABI 1.5), read from its table and checked
// against the rules in xpuruntime_plugin.h before anything is registered.
#pragma once

#include <string>
#include <vector>

#include "op_schemas.h"

namespace xrt {

// The table's op schemas as OpSchema (none before ABI 1.5). Throws naming
// the plugin, the op and the rule it breaks; names already taken by other
// ops are OpRegistry::check_unused's to find.
std::vector<OpSchema> plugin_op_schemas(const xrt_plugin_api_t* api, const std::string& path);

}  // namespace xrt
