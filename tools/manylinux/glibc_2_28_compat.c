/* Two symbols that gcc's libstdc++ (built against a newer glibc) refers to
 * and glibc 2.28 does not have, defined inside each C++ library the
 * manylinux wheel carries (hidden: never exported, never seen by other
 * libraries). */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* glibc 2.32 sets this while a process has one thread, letting shared_ptr
 * skip atomic operations. Zero means "maybe several threads": always atomic,
 * which is what older glibc gave. */
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;

/* glibc 2.36; std::random_device("arc4random") uses it. getentropy (glibc
 * 2.25) reads the same kernel source. */
__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value;
  if (getentropy(&value, sizeof value) != 0) abort();
  return value;
}
