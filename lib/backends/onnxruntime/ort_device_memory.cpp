#include "ort_device_memory.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <utility>

namespace xrt::ort {
namespace {

std::atomic<const xrt_host_api_t*> g_host{nullptr};

// ORT's external allocator has no context argument, so the device number is
// baked into each function.
constexpr int32_t kMaxDevices = 16;

template <int32_t Device>
void* alloc_on(size_t nbytes) {
  void* ptr = nullptr;
  const xrt_host_api_t* host = g_host.load(std::memory_order_acquire);
  if (host->memory_alloc(XRT_DEVICE_CUDA, Device, nbytes, &ptr) != XRT_OK) return nullptr;
  return ptr;
}

template <int32_t Device>
void free_on(void* ptr) {
  g_host.load(std::memory_order_acquire)->memory_free(XRT_DEVICE_CUDA, Device, ptr);
}

struct Pair {
  void* (*alloc)(size_t);
  void (*free)(void*);
};

template <int32_t... Devices>
constexpr std::array<Pair, sizeof...(Devices)> make_pairs(
    std::integer_sequence<int32_t, Devices...>) {
  return {Pair{alloc_on<Devices>, free_on<Devices>}...};
}

constexpr auto kPairs = make_pairs(std::make_integer_sequence<int32_t, kMaxDevices>{});

std::string address_text(const void* fn) {
  return std::to_string(reinterpret_cast<uintptr_t>(fn));
}

}  // namespace

void attach_host(const xrt_host_api_t* host) {
  if (host && host->struct_size >= sizeof(xrt_host_api_t)) {
    g_host.store(host, std::memory_order_release);
  }
}

bool pool_allocator_options(int32_t device, std::string* alloc, std::string* free) {
  if (!g_host.load(std::memory_order_acquire) || device < 0 || device >= kMaxDevices) {
    return false;
  }
  *alloc = address_text(reinterpret_cast<const void*>(kPairs[device].alloc));
  *free = address_text(reinterpret_cast<const void*>(kPairs[device].free));
  return true;
}

}  // namespace xrt::ort
