#include "runtime.h"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "error.h"
#include "host_services.h"
#include "plugin_loader.h"
#include "plugin_op_schemas.h"
#include "struct_access.h"

namespace xrt {

Runtime& Runtime::get() {
  static Runtime* runtime = new Runtime();
  return *runtime;
}

Runtime::Runtime() {
  devices_.push_back(make_host_device());
  const xrt_plugin_api_t* cpu = xrt_cpu_backend_api();
  Backend builtin;
  builtin.name = cpu->name;
  builtin.version = cpu->version;
  builtin.builtin = true;
  backends_.push_back(builtin);
  register_kernels(cpu, cpu->name);
  scan_plugin_folders();
}

size_t Runtime::device_count() {
  std::lock_guard<std::mutex> lock(backends_mutex_);
  return devices_.size();
}

xrt_device* Runtime::device_at(size_t index) {
  std::lock_guard<std::mutex> lock(backends_mutex_);
  XRT_REQUIRE(index < devices_.size(), "device ordinal ", index, " is out of range (",
              devices_.size(), " devices)");
  return devices_[index].get();
}

namespace {

// "npu:1" -> ("npu", "1"); "npu" -> ("npu", "0").
std::pair<std::string, std::string> split_device_name(const std::string& name) {
  const auto colon = name.find(':');
  if (colon == std::string::npos) return {name, "0"};
  return {name.substr(0, colon), name.substr(colon + 1)};
}

}  // namespace

xrt_device* Runtime::device_by_name(const char* name) {
  XRT_REQUIRE(name != nullptr, "device name is NULL");
  std::lock_guard<std::mutex> lock(backends_mutex_);
  const auto [kind, index] = split_device_name(name);
  std::string kinds, of_kind;
  for (const auto& device : devices_) {
    if (device->kind_name == kind) {
      // The host device is "cpu", also reached as "cpu:0".
      if (device->name == name || std::to_string(device->index) == index) return device.get();
      of_kind += (of_kind.empty() ? "" : ", ") + device->name;
    } else if (kinds.find("'" + device->kind_name + "'") == std::string::npos) {
      kinds += (kinds.empty() ? "'" : ", '") + device->kind_name + "'";
    }
  }
  if (!of_kind.empty())
    fail(XRT_ERROR_NOT_FOUND, "no device named '", name, "' (", kind, " devices: ", of_kind, ")");
  // Say why a backend's devices are missing, e.g. no GPU driver.
  std::string why;
  for (const Backend& b : backends_)
    if (b.name == kind && !b.reason.empty()) why = "; backend '" + b.name + "': " + b.reason;
  fail(XRT_ERROR_NOT_FOUND, "no device named '", name, "': no loaded backend brings device kind '",
       kind, "' (available kinds: ", kinds, why, ")");
}

void Runtime::register_kernels(const xrt_plugin_api_t* api, const std::string& backend) {
  for (size_t i = 0; i < api->num_kernels; ++i) {
    const xrt_kernel_def_t def = plugin_kernel(api, i);
    const xrt_device_kind_t kind =
        plugin_device_kind(def.kind_name, def.device_kind, cat("kernel '", def.name, "'"));
    registry_.add(Kernel{def.op, def.name, backend, kind, def.dtype_mask, def.priority,
                         def.supports, def.run, def.flags});
  }
}

size_t Runtime::backend_count() {
  std::lock_guard<std::mutex> lock(backends_mutex_);
  return backends_.size();
}

const Backend& Runtime::backend(size_t index) {
  std::lock_guard<std::mutex> lock(backends_mutex_);
  XRT_REQUIRE(index < backends_.size(), "backend index ", index, " is out of range (", backends_.size(),
              " backends)");
  return backends_[index];
}

void Runtime::load_plugin(const std::string& path) {
  // The built-in backend is listed with an empty path; "" names no plugin.
  XRT_REQUIRE(!path.empty(), "plugin path is empty, expected the path of a shared library");
  std::lock_guard<std::mutex> lock(backends_mutex_);
  for (const Backend& b : backends_) {
    if (b.path != path) continue;
    if (b.reason.empty()) return;  // already loaded
    fail(b.load_status, b.reason);
  }
  Backend entry;
  entry.name = plugin_name_from_path(path);
  entry.path = path;
  try {
    const xrt_plugin_api_t* api = open_plugin(path);
    for (const Backend& b : backends_)
      if (b.name == api->name && b.reason.empty())
        fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' provides backend '", api->name,
             "', which is already loaded", b.path.empty() ? "" : " from '" + b.path + "'");
    // Nothing is registered until every check has passed.
    const std::vector<OpSchema> ops = plugin_op_schemas(api, path);
    ops_.check_unused(ops, path);
    for (size_t i = 0; i < api->num_kernels; ++i) {
      const xrt_kernel_def_t def = plugin_kernel(api, i);
      plugin_device_kind(def.kind_name, def.device_kind,
                         cat("plugin '", path, "': kernel '", def.name, "'"));
      const bool own_op = std::any_of(ops.begin(), ops.end(), [&](const OpSchema& schema) {
        return std::strcmp(schema.name, def.op) == 0;
      });
      if (!own_op && !ops_.find(def.op))
        fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "': kernel '", def.name,
             "' is for unknown op '", def.op, "' (known ops: ", ops_.names(), ")");
    }
    entry.name = api->name;
    entry.version = api->version ? api->version : "";
    entry.sessions = plugin_sessions(api);
    plugin_attach_host(api, host_services());
    // A plugin whose runtime below is missing still loads, and says so.
    const char* details = plugin_details(api);
    const std::string unavailable = "unavailable: ";
    if (details && std::string(details).rfind(unavailable, 0) == 0)
      fail(XRT_ERROR_BACKEND, details + unavailable.size());
    add_plugin_devices(plugin_device_tables(api), entry.name, path);
    ops_.add(ops, entry.name);
    register_kernels(api, entry.name);
    backends_.push_back(entry);
  } catch (const Error& e) {
    entry.reason = e.what();
    entry.load_status = e.status();
    backends_.push_back(entry);
    throw;
  }
}

void Runtime::add_plugin_devices(const std::vector<const xrt_device_api_t*>& tables,
                                 const std::string& backend, const std::string& path) {
  // Every table is checked before any device is listed.
  std::vector<std::unique_ptr<xrt_device>> added;
  for (const xrt_device_api_t* api : tables) {
    const xrt_device_kind_t kind =
        plugin_device_kind(XRT_HAS_FIELD(api, kind_name) ? api->kind_name : nullptr, api->kind,
                           cat("plugin '", path, "': device table"));
    const char* name = device_kind_name(kind);
    for (const auto& device : devices_)
      if (device->kind == kind)
        fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' brings device kind '", name,
             "', which backend '", device->backend, "' already provides");
    for (const auto& device : added)
      if (device->kind == kind)
        fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' brings device kind '", name,
             "' in two device tables");
    const char* reason = api->unavailable_reason ? api->unavailable_reason() : nullptr;
    if (reason) fail(XRT_ERROR_BACKEND, reason);
    const int32_t count = api->device_count();
    if (count <= 0) fail(XRT_ERROR_BACKEND, "no ", name, " device is present");
    for (int32_t i = 0; i < count; ++i) added.push_back(make_plugin_device(api, kind, i, backend));
  }
  for (auto& device : added) devices_.push_back(std::move(device));
  for (const xrt_device_api_t* api : tables)
    if (!pinned_host_ && XRT_HAS_FIELD(api, host_free) && api->host_alloc && api->host_free)
      pinned_host_ = api;
}

namespace {
void free_pinned(void* data, void* api) {
  static_cast<const xrt_device_api_t*>(api)->host_free(data);
}
}  // namespace

xrt_tensor* Runtime::create_pinned_tensor(xrt_dtype_t dtype, int32_t ndim, const int64_t* shape) {
  const xrt_device_api_t* api = nullptr;
  {
    std::lock_guard<std::mutex> lock(backends_mutex_);
    api = pinned_host_;
  }
  if (!api)
    fail(XRT_ERROR_UNSUPPORTED,
         "no loaded backend provides page-locked host memory (the CUDA backend does)");
  xrt_device* host = device_at(0);
  // Sized first so a bad shape fails before memory is taken.
  const size_t nbytes = checked_nbytes(dtype, ndim, shape);
  void* data = nullptr;
  const xrt_status_t status = api->host_alloc(nbytes, &data);
  if (status != XRT_OK)
    fail(status, "page-locked allocation of ", nbytes, " bytes failed: ",
         api->last_error ? api->last_error() : "");
  try {
    return tensor_wrap(host, dtype, ndim, shape, nullptr, data, free_pinned,
                       const_cast<xrt_device_api_t*>(api));
  } catch (...) {
    api->host_free(data);
    throw;
  }
}

const Backend& Runtime::session_backend(const char* name) {
  std::lock_guard<std::mutex> lock(backends_mutex_);
  auto runs_models = [](const Backend& b) { return b.sessions && b.reason.empty(); };
  std::string models;
  for (const Backend& b : backends_) {
    if (runs_models(b)) models += (models.empty() ? "" : ", ") + b.name;
    if (b.name != name) continue;
    if (!b.reason.empty())
      fail(XRT_ERROR_BACKEND, "backend '", b.name, "' is unavailable: ", b.reason);
    if (!b.sessions) fail(XRT_ERROR_UNSUPPORTED, "backend '", b.name, "' does not run models");
    return b;
  }
  fail(XRT_ERROR_NOT_FOUND, "no backend named '", name, "' (backends that run models: ",
       models.empty() ? "none" : models, ")");
}

namespace {

std::vector<std::string> split_path_list(const char* list) {
  std::vector<std::string> out;
  std::string item;
  for (const char* p = list; ; ++p) {
    if (*p == ':' || *p == '\0') {
      if (!item.empty()) out.push_back(item);
      item.clear();
      if (!*p) break;
    } else {
      item += *p;
    }
  }
  return out;
}

bool is_directory(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir) closedir(dir);
  return dir != nullptr;
}

// Plugin files in a folder: libxrt_*.so, in name order.
std::vector<std::string> plugin_files(const std::string& folder) {
  std::vector<std::string> files;
  DIR* dir = opendir(folder.c_str());
  if (!dir) return files;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind("libxrt_", 0) == 0 && name.size() > 3 &&
        name.compare(name.size() - 3, 3, ".so") == 0)
      files.push_back(folder + "/" + name);
  }
  closedir(dir);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

void Runtime::scan_plugin_folders() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("XRT_PLUGIN_PATH")) {
    for (const std::string& entry : split_path_list(env)) {
      if (is_directory(entry)) {
        for (const std::string& file : plugin_files(entry)) candidates.push_back(file);
      } else {
        candidates.push_back(entry);  // a file, or a missing one to report
      }
    }
  }
  for (const std::string& file : plugin_files(package_plugin_folder())) candidates.push_back(file);
  for (const std::string& path : candidates) {
    try {
      load_plugin(path);
    } catch (const Error&) {
      // Listed with its reason by xrt_backend_info; the rest keeps working.
    }
  }
}

}  // namespace xrt
