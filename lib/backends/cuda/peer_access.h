// Direct GPU-to-GPU copies: peer access between two GPUs is switched on the
// first time a copy joins them, where the hardware allows it. Without it the
// driver stages such copies through host memory, which stays correct.
#pragma once

namespace xrt::cuda {

// Lets `device` read and write `peer`'s memory directly when the GPUs can.
// Called with any device current; safe from many threads; cheap after the
// first call for a pair.
void enable_peer_access(int device, int peer);

}  // namespace xrt::cuda
