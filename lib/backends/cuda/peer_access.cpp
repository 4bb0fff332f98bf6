#include "peer_access.h"

#include <mutex>
#include <set>
#include <utility>

#include "cuda_status.h"

namespace xrt::cuda {

void enable_peer_access(int device, int peer) {
  static std::mutex mutex;
  static std::set<std::pair<int, int>> tried;  // pairs asked once, whatever the answer
  std::lock_guard<std::mutex> lock(mutex);
  if (!tried.insert({device, peer}).second) return;
  int can = 0;
  if (cudaDeviceCanAccessPeer(&can, device, peer) != cudaSuccess || !can) {
    cudaGetLastError();
    return;
  }
  DeviceGuard guard(device);
  // Already enabled (by torch, say) is as good as enabled here; any other
  // failure leaves the staged path, so the sticky error is cleared either way.
  if (cudaDeviceEnablePeerAccess(peer, 0) != cudaSuccess) cudaGetLastError();
}

}  // namespace xrt::cuda
