// Files the runtime writes for users (profiler traces) appear whole or not
// at all: a crash or a full disk never leaves a torn file at the path.
#pragma once

#include <string>

namespace xrt {

// Writes `contents` to a temporary file beside `path`, then renames it onto
// `path`. Fails with XRT_ERROR_IO naming the path and the system's reason;
// the temporary file is removed on every failure.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace xrt
