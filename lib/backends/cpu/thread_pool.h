// parallel_for over an index range on a process-wide pool of worker threads.
#ifndef XRT_CPU_THREAD_POOL_H_
#define XRT_CPU_THREAD_POOL_H_

#include <cstdint>

namespace xrt::cpu {

// Non-owning reference to a callable invoked as fn(begin, end); avoids the
// allocation a std::function might make.
class RangeFn {
 public:
  template <class F>
  RangeFn(const F& f)  // NOLINT: implicit on purpose
      : obj_(&f), call_([](const void* o, int64_t b, int64_t e) {
          (*static_cast<const F*>(o))(b, e);
        }) {}
  void operator()(int64_t b, int64_t e) const { call_(obj_, b, e); }

 private:
  const void* obj_;
  void (*call_)(const void*, int64_t, int64_t);
};

// Threads a parallel_for may use, the calling thread included.
int max_threads();

namespace detail {
void parallel_run(int64_t begin, int64_t end, int64_t grain, RangeFn fn);
}

// Calls fn(b, e) on disjoint subranges covering [begin, end), each at least
// `grain` long except the last. Runs inline when the range fits in one grain,
// when called from inside another parallel_for, or when the pool is serving
// another caller. Exceptions thrown by fn are rethrown here (the first one).
template <class F>
inline void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& fn) {
  if (end <= begin) return;
  if (grain < 1) grain = 1;
  if (end - begin <= grain) {
    fn(begin, end);
    return;
  }
  detail::parallel_run(begin, end, grain, RangeFn(fn));
}

}  // namespace xrt::cpu

#endif  // XRT_CPU_THREAD_POOL_H_
