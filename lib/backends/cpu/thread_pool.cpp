#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace xrt::cpu {
namespace {

// True on pool workers and on a caller while it runs a job: nested
// parallel_for calls then run inline instead of waiting on the pool.
thread_local bool t_in_parallel = false;

struct Job {
  Job(RangeFn f, int64_t b, int64_t e, int64_t c)
      : fn(f), begin(b), end(e), chunk(c), num_chunks((e - b + c - 1) / c) {}

  void run() noexcept {
    for (;;) {
      const int64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= num_chunks || failed.load(std::memory_order_relaxed)) return;
      const int64_t b = begin + i * chunk;
      try {
        fn(b, std::min(end, b + chunk));
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  }

  RangeFn fn;
  const int64_t begin, end, chunk, num_chunks;
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  int active = 0;  // workers inside run(); guarded by Pool::mu_
};

// One job at a time; the submitting thread works on it too, so a job
// finishes even if no worker ever picks it up. The pool is never destroyed
// and its workers are detached: they sleep on the condition variable at exit
// instead of racing static destructors or callers still running then.
class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool();
    return *pool;
  }

  static int hardware_threads() {
    static const int n = std::max(1u, std::thread::hardware_concurrency());
    return n;
  }

  // Returns false without running anything when another caller holds the pool.
  bool run(Job& job) {
    std::unique_lock<std::mutex> submit(submit_, std::try_to_lock);
    if (!submit.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      start_workers();
      job_ = &job;
      ++generation_;
    }
    work_cv_.notify_all();
    t_in_parallel = true;
    job.run();
    t_in_parallel = false;
    std::unique_lock<std::mutex> lock(mu_);
    job_ = nullptr;  // late wakers must not join a finished job
    done_cv_.wait(lock, [&] { return job.active == 0; });
    return true;
  }

 private:
  Pool() = default;

  void start_workers() {
    if (started_) return;
    started_ = true;
    const int workers = hardware_threads() - 1;
    try {
      for (int i = 0; i < workers; ++i) std::thread([this] { worker_loop(); }).detach();
    } catch (const std::system_error&) {
      // Fewer workers than cores: the caller still finishes every job.
    }
  }

  void worker_loop() {
    t_in_parallel = true;
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return job_ != nullptr && generation_ != seen; });
      seen = generation_;
      Job* job = job_;
      ++job->active;
      lock.unlock();
      job->run();
      lock.lock();
      if (--job->active == 0) done_cv_.notify_all();
    }
  }

  std::mutex submit_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  Job* job_ = nullptr;
  uint64_t generation_ = 0;
  bool started_ = false;
};

}  // namespace

int max_threads() { return Pool::hardware_threads(); }

namespace detail {

void parallel_run(int64_t begin, int64_t end, int64_t grain, RangeFn fn) {
  const int threads = Pool::hardware_threads();
  if (threads == 1 || t_in_parallel) {
    fn(begin, end);
    return;
  }
  // A few chunks per thread balance uneven work without tiny chunks.
  const int64_t n = end - begin;
  const int64_t target = int64_t{4} * threads;
  const int64_t chunk = std::max(grain, (n + target - 1) / target);
  Job job(fn, begin, end, chunk);
  if (!Pool::instance().run(job)) {
    fn(begin, end);
    return;
  }
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace detail
}  // namespace xrt::cpu
