// ORT's profile file into runtime spans.
#pragma once

#include <cstdint>
#include <string>

#include "xpuruntime_plugin.h"

namespace xrt::ort {

// Reads the Chrome-trace JSON ORT writes (one event object per line, "ts"
// and "dur" in microseconds from start_unix_ns) and records every complete
// event with its op and execution provider.
void forward_profile(const std::string& path, int64_t start_unix_ns, const xrt_span_sink_t* sink);

}  // namespace xrt::ort
