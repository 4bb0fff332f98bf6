/* The C API hammered from 8 threads: each round creates tensors, runs ops,
 * checks the result and releases everything. No crash, no wrong answer,
 * and every byte handed out is back in the pool at the end. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

#define THREADS 8

static xrt_device_t* cpu;
static int rounds = 10000;

static void* worker(void* arg) {
  const int seed = (int)(intptr_t)arg;
  long failures = 0;
  for (int r = 0; r < rounds; ++r) {
    const int64_t shape[2] = {1 + (r + seed) % 7, 1 + r % 5};
    xrt_tensor_t *a = NULL, *b = NULL, *sum = NULL, *sm = NULL;
    if (xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &a) != XRT_OK ||
        xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &b) != XRT_OK) {
      ++failures;
    } else {
      float *pa, *pb;
      xrt_tensor_data(a, (void**)&pa);
      xrt_tensor_data(b, (void**)&pb);
      const int64_t n = shape[0] * shape[1];
      for (int64_t i = 0; i < n; ++i) {
        pa[i] = (float)(seed + i);
        pb[i] = (float)r;
      }
      if (xrt_add(a, b, NULL, &sum) != XRT_OK || xrt_softmax(sum, -1, NULL, &sm) != XRT_OK) {
        ++failures;
      } else {
        float* ps;
        xrt_tensor_data(sum, (void**)&ps);
        for (int64_t i = 0; i < n; ++i) failures += ps[i] != (float)(seed + i) + (float)r;
      }
    }
    xrt_tensor_release(a);
    xrt_tensor_release(b);
    xrt_tensor_release(sum);
    xrt_tensor_release(sm);
    /* A failing call from this thread must not disturb the others. */
    xrt_device_t* none = NULL;
    if (r % 1000 == 0 && xrt_device_by_name("tpu:0", &none) != XRT_ERROR_NOT_FOUND) ++failures;
  }
  return (void*)failures;
}

int main(void) {
  const char* env = getenv("XRT_TEST_ROUNDS");
  if (env) rounds = atoi(env);
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; ++i)
    CHECK(pthread_create(&threads[i], NULL, worker, (void*)(intptr_t)i) == 0);
  for (int i = 0; i < THREADS; ++i) {
    void* failures = NULL;
    pthread_join(threads[i], &failures);
    CHECK(failures == NULL);
  }
  xrt_memory_stats_t stats = {sizeof stats};
  CHECK_OK(xrt_memory_stats(cpu, &stats));
  CHECK(stats.allocated_bytes == 0);
  CHECK(stats.num_allocs == stats.num_frees);
  CHECK(stats.num_allocs >= (uint64_t)THREADS * (uint64_t)rounds * 4);
  return check_report("threads");
}
