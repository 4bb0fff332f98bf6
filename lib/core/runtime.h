// The process-wide runtime: devices, kernel registry and backends. Created
// on first use and never destroyed, so tensors and threads that outlive
// static teardown still find it.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device.h"
#include "tensor.h"
#include "kernel_registry.h"
#include "op_registry.h"
#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt {

struct Backend {
  std::string name;
  std::string version;
  std::string path;
  std::string reason;  // empty when available
  bool builtin = false;
  xrt_status_t load_status = XRT_OK;
  const xrt_session_api_t* sessions = nullptr;  // NULL: runs no models
};

class Runtime {
 public:
  static Runtime& get();

  size_t device_count();
  xrt_device* device_at(size_t index);
  xrt_device* device_by_name(const char* name);
  // A "cpu" tensor in page-locked memory from the first backend that has it.
  xrt_tensor* create_pinned_tensor(xrt_dtype_t dtype, int32_t ndim, const int64_t* shape);
  KernelRegistry& registry() { return registry_; }
  const OpRegistry& ops() const { return ops_; }

  size_t backend_count();
  // Entries are never changed or removed, so references stay valid.
  const Backend& backend(size_t index);
  // The backend named `name`, checked to be available and to run models.
  const Backend& session_backend(const char* name);
  // Loads a plugin file, listing it as a backend whatever the outcome.
  // Throws with the reason when it cannot be used.
  void load_plugin(const std::string& path);

 private:
  Runtime();
  void register_kernels(const xrt_plugin_api_t* api, const std::string& backend);
  // Adds the devices of the plugin at `path`, all or none: throws when a
  // table says it has none, names a malformed kind, or brings a kind that
  // is already there.
  void add_plugin_devices(const std::vector<const xrt_device_api_t*>& tables,
                          const std::string& backend, const std::string& path);
  void scan_plugin_folders();

  // Guarded by backends_mutex_; entries are never removed, so device
  // pointers stay valid.
  std::deque<std::unique_ptr<xrt_device>> devices_;
  const xrt_device_api_t* pinned_host_ = nullptr;
  KernelRegistry registry_;
  OpRegistry ops_;
  std::mutex backends_mutex_;
  std::deque<Backend> backends_;
};

}  // namespace xrt
