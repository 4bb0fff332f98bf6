// prepare_cache_folder: nested folders are made, and each way a folder can
// be unusable is reported (never thrown, never a crash), so the session can
// build without its cache. The TensorRT engine cache runs only on a GPU;
// its folder handling is this function.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "cache_folder.h"
#include "unit_check.h"

using xrt::plugin::prepare_cache_folder;

using unit::check;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

int main() {
  const char* tmp = std::getenv("TMPDIR");
  std::string scratch = std::string(tmp && *tmp ? tmp : "/tmp") + "/xrt-cache-folder-XXXXXX";
  if (!mkdtemp(scratch.data())) return 2;
  const std::string root = scratch;

  check(prepare_cache_folder(root + "/a/b/c").empty(), "nested folders are created");
  struct stat st {};
  check(stat((root + "/a/b/c").c_str(), &st) == 0 && S_ISDIR(st.st_mode), "the folder exists");
  check(prepare_cache_folder(root + "/a/b/c").empty(), "an existing folder is usable");

  std::ofstream(root + "/file") << "not a folder";
  std::string why = prepare_cache_folder(root + "/file");
  check(contains(why, "/file' is not a folder"), "a file in the folder's place", why);
  why = prepare_cache_folder(root + "/file/key");
  check(contains(why, "cannot create '" + root + "/file/key'") && contains(why, "ot a directory"),
        "a file in a parent's place", why);
  check(contains(prepare_cache_folder(""), "no folder"), "an empty name");

  // Root writes through permission bits; the check must not be fooled
  // either way, so it is only asserted where the bits bind.
  const std::string locked = root + "/locked";
  mkdir(locked.c_str(), 0500);
  why = prepare_cache_folder(locked);
  if (geteuid() != 0)
    check(contains(why, "cannot write in '" + locked + "'"), "a folder without write access", why);
  else
    check(why.empty(), "root may write anywhere", why);
  why = prepare_cache_folder(locked + "/key");
  if (geteuid() != 0) check(contains(why, "cannot create"), "under a locked folder", why);

  for (const char* made : {"/locked/key", "/locked", "/a/b/c", "/a/b", "/a"})
    rmdir((root + made).c_str());
  unlink((root + "/file").c_str());
  rmdir(root.c_str());
  return unit::report("cache_folder");
}
