#include "engine_cache_key.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace xrt::ort {
namespace {

// 64-bit FNV-1a taken a word at a time, the high half folded back after
// each multiply so every input bit reaches every key bit: dependency-free
// and fast enough to key a large model at every session creation (backend
// auto's cache); the key names a cache folder, it does not defend against
// crafted collisions.
struct Digest {
  uint64_t state = 14695981039346656037ull;
  void mix(uint64_t word) {
    state ^= word;
    state *= 1099511628211ull;
    state ^= state >> 32;
  }
  void add(const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    size_t i = 0;
    for (; i + sizeof(uint64_t) <= size; i += sizeof(uint64_t)) {
      uint64_t word;
      std::memcpy(&word, bytes + i, sizeof word);
      mix(word);
    }
    for (; i < size; ++i) mix(bytes[i]);
  }
  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  void add_field(const std::string& text) {
    const uint64_t size = text.size();
    add(&size, sizeof size);
    add(text.data(), text.size());
  }
};

}  // namespace

std::string engine_cache_key(const EngineCacheInputs& inputs) {
  Digest digest;
  const uint64_t model_size = inputs.model_size;
  digest.add(&model_size, sizeof model_size);
  digest.add(inputs.model, inputs.model_size);
  auto options = inputs.engine_options;
  std::sort(options.begin(), options.end());
  for (const auto& [key, value] : options) {
    digest.add_field(key);
    digest.add_field(value);
  }
  digest.add_field(inputs.tensorrt_version);
  digest.add_field(inputs.gpu);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(digest.state));
  return hex;
}

}  // namespace xrt::ort
