// Reading a whole file the runtime was given (a model, its weights) to key
// a cache. std::ifstream opens a directory and then throws from inside its
// read (libstdc++'s filebuf), so these use stdio and say why instead.
#pragma once

#include <string>

namespace xrt::plugin {

// Reads the regular file at `path` into `bytes`. Returns "" on success,
// else why it could not ("it is a directory", the system's reason), with
// `bytes` left empty.
std::string read_whole_file(const char* path, std::string* bytes);

}  // namespace xrt::plugin
