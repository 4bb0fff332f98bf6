#include "plugin_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "enum_code.h"
#include "error.h"
#include "struct_access.h"

namespace xrt {

namespace {

// The last field a table must reach for this host to read it.
constexpr size_t kMinApiSize = offsetof(xrt_plugin_api_t, num_kernels) + sizeof(size_t);
constexpr size_t kMinKernelSize = offsetof(xrt_kernel_def_t, run) + sizeof(xrt_kernel_run_fn);

void check_table(const xrt_plugin_api_t* api, const std::string& path) {
  if (!api)
    fail(XRT_ERROR_UNSUPPORTED, "plugin '", path, "' cannot serve plugin ABI ",
         XRT_PLUGIN_ABI_MAJOR, " (", XRT_PLUGIN_ENTRY_SYMBOL, " returned NULL)");
  if (api->struct_size < kMinApiSize)
    fail(XRT_ERROR_UNSUPPORTED, "plugin '", path, "' has a table of ", api->struct_size,
         " bytes, expected at least ", kMinApiSize);
  if (api->abi_major != XRT_PLUGIN_ABI_MAJOR)
    fail(XRT_ERROR_UNSUPPORTED, "plugin '", path, "' was built for plugin ABI ", api->abi_major,
         ".", api->abi_minor, ", this runtime speaks ABI ", XRT_PLUGIN_ABI_MAJOR, ".",
         XRT_PLUGIN_ABI_MINOR);
  if (!api->name || !*api->name) fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' has no name");
  if (api->num_kernels && !api->kernels)
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' lists ", api->num_kernels,
         " kernels but no kernel array");
  if (api->num_kernels && api->kernels[0].struct_size < kMinKernelSize)
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "': kernel #0 has a table of ",
         api->kernels[0].struct_size, " bytes, expected at least ", kMinKernelSize);
  for (size_t i = 0; i < api->num_kernels; ++i) {
    const xrt_kernel_def_t k = plugin_kernel(api, i);
    if (k.struct_size != api->kernels[0].struct_size || !k.op || !k.name || !k.run)
      fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "': kernel #", i,
           " is incomplete (op, name and run are required, and every entry has kernel #0's "
           "struct_size)");
  }
}

constexpr size_t kMinSessionApiSize =
    offsetof(xrt_session_api_t, run) + sizeof(void*);

void check_sessions(const xrt_plugin_api_t* api, const std::string& path) {
  const xrt_session_api_t* s = plugin_sessions(api);
  if (!s) return;
  if (s->struct_size < kMinSessionApiSize || !s->create || !s->destroy || !s->input_count ||
      !s->output_count || !s->input_info || !s->output_info || !s->run)
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path,
         "' has an incomplete session table (every function up to run is required)");
}

void check_device_table(const xrt_device_api_t* d, const std::string& path) {
  if (!d) fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' lists a NULL device table");
  if (d->struct_size < kFirstDeviceApiSize || !d->last_error || !d->device_count ||
      !d->device_props)
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' has an incomplete device table (",
         d->struct_size, " bytes, at least ", kFirstDeviceApiSize,
         "; last_error, device_count and device_props are required)");
  // Host-memory devices are served by the host's own table.
  if (XRT_HAS_FIELD(d, flags) && (d->flags & XRT_DEVICE_HOST_MEMORY)) return;
  if (!d->alloc || !d->free || !d->memory_stats || !d->empty_cache || !d->reset_peak ||
      !d->stream_create || !d->stream_destroy || !d->stream_synchronize ||
      !d->stream_wait_event || !d->event_create || !d->event_destroy || !d->event_record ||
      !d->event_synchronize || !d->event_query || !d->event_elapsed_ms || !d->copy ||
      !d->copy_strided || !d->fill_zero)
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path,
         "' has an incomplete device table (every function but unavailable_reason and the "
         "page-locked host pair is required, unless the table has XRT_DEVICE_HOST_MEMORY)");
  const bool named = XRT_HAS_FIELD(d, kind_name) && d->kind_name;
  if (!named && enum_code(d->kind) == XRT_DEVICE_CPU)
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' cannot add cpu devices");
}

void check_devices(const xrt_plugin_api_t* api, const std::string& path) {
  if (XRT_HAS_FIELD(api, num_device_tables) && api->num_device_tables && !api->device_tables)
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' lists ", api->num_device_tables,
         " device tables but no array");
  for (const xrt_device_api_t* d : plugin_device_tables(api)) check_device_table(d, path);
}

}  // namespace

xrt_kernel_def_t plugin_kernel(const xrt_plugin_api_t* api, size_t i) {
  const size_t stride = api->kernels[0].struct_size;
  xrt_kernel_def_t def{};
  std::memcpy(&def, reinterpret_cast<const unsigned char*>(api->kernels) + i * stride,
              std::min(stride, sizeof def));
  return def;
}

const xrt_session_api_t* plugin_sessions(const xrt_plugin_api_t* api) {
  return XRT_HAS_FIELD(api, sessions) ? api->sessions : nullptr;
}

const char* session_details(const xrt_session_api_t* s) {
  if (!s || !XRT_HAS_FIELD(s, details) || !s->details) return nullptr;
  return s->details();
}

const char* plugin_details(const xrt_plugin_api_t* api) {
  return session_details(plugin_sessions(api));
}

std::vector<const xrt_device_api_t*> plugin_device_tables(const xrt_plugin_api_t* api) {
  std::vector<const xrt_device_api_t*> tables;
  if (XRT_HAS_FIELD(api, devices) && api->devices) tables.push_back(api->devices);
  if (XRT_HAS_FIELD(api, num_device_tables) && api->device_tables)
    for (size_t i = 0; i < api->num_device_tables; ++i) tables.push_back(api->device_tables[i]);
  return tables;
}

void plugin_attach_host(const xrt_plugin_api_t* api, const xrt_host_api_t* host) {
  if (XRT_HAS_FIELD(api, attach_host) && api->attach_host) api->attach_host(host);
}

std::string plugin_name_from_path(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (name.rfind("lib", 0) == 0) name = name.substr(3);
  if (name.rfind("xrt_", 0) == 0) name = name.substr(4);
  const auto dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

std::string package_plugin_folder() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&package_plugin_folder), &info) || !info.dli_fname)
    return "";
  const std::string lib = info.dli_fname;
  const auto slash = lib.find_last_of('/');
  // Without a folder in the name there is no package folder to scan; the
  // working directory is never searched.
  if (slash == std::string::npos) return "";
  return lib.substr(0, slash) + "/plugins";
}

const xrt_plugin_api_t* open_plugin(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT) fail(XRT_ERROR_NOT_FOUND, "plugin '", path, "' does not exist");
    fail(XRT_ERROR_IO, "plugin '", path, "' cannot be read: ", std::strerror(error));
  }
  if (S_ISDIR(st.st_mode))
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin path '", path,
         "' is a directory, expected a shared library");
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' is not a loadable library: ",
         why ? why : "unknown reason");
  }
  auto get_api = reinterpret_cast<xrt_plugin_get_api_fn>(dlsym(handle, XRT_PLUGIN_ENTRY_SYMBOL));
  if (!get_api) {
    dlclose(handle);
    fail(XRT_ERROR_INVALID_ARGUMENT, "plugin '", path, "' does not export ",
         XRT_PLUGIN_ENTRY_SYMBOL);
  }
  const xrt_plugin_api_t* api = get_api(XRT_PLUGIN_ABI_MAJOR);
  try {
    check_table(api, path);
    check_sessions(api, path);
    check_devices(api, path);
  } catch (...) {
    dlclose(handle);
    throw;
  }
  return api;
}

}  // namespace xrt
