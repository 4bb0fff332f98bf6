#include "ort_device_memory.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "ort_library.h"

namespace xrt::ort {
namespace {

std::atomic<const xrt_host_api_t*> g_host{nullptr};

// The ORT-facing table first (a standard-layout struct), so the pointer ORT
// passes back is also the allocator's.
struct PoolAllocator {
  OrtAllocatorTable table;
  int32_t device;
  OrtMemoryInfo* info;  // lives as long as the allocator: forever
};

void* pool_alloc(OrtAllocatorTable* self, size_t size) {
  auto* pool = reinterpret_cast<PoolAllocator*>(self);
  void* ptr = nullptr;
  const xrt_host_api_t* host = g_host.load(std::memory_order_acquire);
  if (host->memory_alloc(XRT_DEVICE_CUDA, pool->device, size, &ptr) != XRT_OK) return nullptr;
  return ptr;
}

void pool_free(OrtAllocatorTable* self, void* ptr) {
  auto* pool = reinterpret_cast<PoolAllocator*>(self);
  g_host.load(std::memory_order_acquire)->memory_free(XRT_DEVICE_CUDA, pool->device, ptr);
}

const OrtMemoryInfo* pool_info(const OrtAllocatorTable* self) {
  return reinterpret_cast<const PoolAllocator*>(self)->info;
}

}  // namespace

void attach_host(const xrt_host_api_t* host) {
  if (host && host->struct_size >= sizeof(xrt_host_api_t)) {
    g_host.store(host, std::memory_order_release);
  }
}

bool has_pool_allocator() { return g_host.load(std::memory_order_acquire) != nullptr; }

xrt_status_t share_pool_allocator(int32_t device, char* error, size_t capacity) {
  // Registered allocators must outlive every session, so they are never freed.
  static std::mutex mutex;
  static std::map<int32_t, std::unique_ptr<PoolAllocator>> registered;
  std::lock_guard<std::mutex> lock(mutex);
  if (registered.count(device)) return XRT_OK;
  const OrtEnv* env = nullptr;
  if (xrt_status_t s = environment(&env, error, capacity); s != XRT_OK) return s;
  const Functions& f = api();
  OrtMemoryInfo* info = nullptr;
  if (xrt_status_t s = take(f.CreateMemoryInfo("Cuda", kDeviceAllocator, device, kMemTypeDefault,
                                               &info),
                            error, capacity);
      s != XRT_OK) {
    return s;
  }
  auto pool = std::make_unique<PoolAllocator>();
  pool->table = OrtAllocatorTable{kAllocatorVersion, pool_alloc, pool_free, pool_info};
  pool->device = device;
  pool->info = info;
  // The environment is this plugin's own; ORT's call takes it as mutable.
  if (xrt_status_t s = take(f.RegisterAllocator(const_cast<OrtEnv*>(env), &pool->table), error,
                            capacity);
      s != XRT_OK) {
    f.ReleaseMemoryInfo(info);
    return s;
  }
  registered.emplace(device, std::move(pool));
  return XRT_OK;
}

}  // namespace xrt::ort
