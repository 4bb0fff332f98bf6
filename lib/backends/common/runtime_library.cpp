#include "runtime_library.h"

#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace xrt::plugin {

namespace {

// The folder of the plugin this code is linked into.
std::string plugin_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&plugin_folder), &info) == 0 || !info.dli_fname) return "";
  char resolved[PATH_MAX];
  const std::string self = realpath(info.dli_fname, resolved) ? resolved : info.dli_fname;
  const size_t slash = self.rfind('/');
  // No folder in the name: nothing beside the plugin to search (the working
  // directory never is).
  return slash == std::string::npos ? std::string() : self.substr(0, slash);
}

}  // namespace

std::vector<std::string> versioned_files(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      const std::string name = entry->d_name;
      if (name.compare(0, prefix.size(), prefix) == 0) found.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(found.rbegin(), found.rend());
  if (found.empty()) found.push_back(dir + "/" + prefix + "*");
  return found;
}

std::vector<std::string> library_candidates(const LibrarySearch& search) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv(search.env_var); env && *env) candidates.emplace_back(env);
  if (const std::string here = plugin_folder(); !here.empty()) {
    for (std::string& path :
         versioned_files(here + "/../../../" + search.wheel_folder, search.prefix))
      candidates.push_back(std::move(path));
  }
  for (const char* name : search.system_names) candidates.emplace_back(name);
  return candidates;
}

void* open_library(const std::string& path, std::vector<std::string>& attempts) {
  if (path.find('*') != std::string::npos) {
    attempts.push_back(path + ": no such file");
    return nullptr;
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    attempts.push_back(why ? why : path + ": cannot be opened");
  }
  return handle;
}

std::string join_attempts(const std::vector<std::string>& attempts) {
  std::string text;
  for (size_t i = 0; i < attempts.size(); ++i) text += (i ? "; " : "") + attempts[i];
  return text;
}

}  // namespace xrt::plugin
