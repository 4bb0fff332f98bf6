// Opens a plugin library and checks its table before anything is used:
// the file must exist and not be a folder, dlopen must succeed, the entry
// symbol must exist, and the table must speak this host's ABI major.
#pragma once

#include <string>
#include <vector>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt {

// Throws xrt::Error naming the path and the reason. The library stays
// loaded for the life of the process on success.
const xrt_plugin_api_t* open_plugin(const std::string& path);

// The table's session section, or NULL when it has none (ABI 1.0 tables
// end before the field).
const xrt_session_api_t* plugin_sessions(const xrt_plugin_api_t* api);

// The session section's details() text, or NULL.
const char* plugin_details(const xrt_plugin_api_t* api);
// The session table's details() text, or NULL (no table, an older table
// without the field, or no function).
const char* session_details(const xrt_session_api_t* sessions);
// The plugin's device tables: `devices` (ABI 1.2) then `device_tables`
// (ABI 1.6); empty when it brings none.
std::vector<const xrt_device_api_t*> plugin_device_tables(const xrt_plugin_api_t* api);
// Kernel #i of the table, read with the entry size the plugin declares
// (entries before ABI 1.4 end before flags, which reads as 0).
xrt_kernel_def_t plugin_kernel(const xrt_plugin_api_t* api, size_t i);
// Hands the runtime's services to a plugin that takes them (ABI 1.3).
void plugin_attach_host(const xrt_plugin_api_t* api, const xrt_host_api_t* host);

// Backend name for a plugin file: "libxrt_cuda.so" -> "cuda".
std::string plugin_name_from_path(const std::string& path);

// The folder holding libxpuruntime.so, plus "/plugins".
std::string package_plugin_folder();

}  // namespace xrt
