/* Per-call costs of the C API on one device (argv[1], default "cpu"): a
 * pooled alloc+free pair, a tensor create+release, and a one-element add
 * through the dispatcher (on a GPU: the cost of queueing it). Prints one
 * "name value unit" line per figure (median of repeated batches). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <xpuruntime/xpuruntime.h>

#define BATCHES 31
#define PER_BATCH 200000

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double median(double* v, int n) {
  qsort(v, (size_t)n, sizeof *v, compare);
  return v[n / 2];
}

static void fail(const char* what) {
  fprintf(stderr, "%s failed: %s\n", what, xrt_last_error());
  exit(1);
}

int main(int argc, char** argv) {
  xrt_device_t* cpu = NULL;
  if (xrt_device_by_name(argc > 1 ? argv[1] : "cpu", &cpu) != XRT_OK) fail("xrt_device_by_name");
  double per_call[BATCHES];

  for (int b = 0; b < BATCHES; ++b) {
    const double t0 = now_ns();
    for (int i = 0; i < PER_BATCH; ++i) {
      void* p = NULL;
      if (xrt_memory_alloc(cpu, 4096, &p) != XRT_OK) fail("xrt_memory_alloc");
      xrt_memory_free(cpu, p);
    }
    per_call[b] = (now_ns() - t0) / PER_BATCH;
  }
  printf("alloc_free_pair_c %.1f ns\n", median(per_call, BATCHES));

  const int64_t shape[1] = {1};
  for (int b = 0; b < BATCHES; ++b) {
    const double t0 = now_ns();
    for (int i = 0; i < PER_BATCH; ++i) {
      xrt_tensor_t* t = NULL;
      if (xrt_tensor_create(cpu, XRT_FLOAT32, 1, shape, &t) != XRT_OK) fail("xrt_tensor_create");
      xrt_tensor_release(t);
    }
    per_call[b] = (now_ns() - t0) / PER_BATCH;
  }
  printf("tensor_create_release_c %.1f ns\n", median(per_call, BATCHES));

  xrt_tensor_t *x = NULL, *y = NULL;
  if (xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, shape, &x) != XRT_OK) fail("xrt_tensor_zeros");
  if (xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, shape, &y) != XRT_OK) fail("xrt_tensor_zeros");
  for (int b = 0; b < BATCHES; ++b) {
    const double t0 = now_ns();
    for (int i = 0; i < PER_BATCH / 4; ++i) {
      xrt_tensor_t* z = NULL;
      if (xrt_add(x, y, NULL, &z) != XRT_OK) fail("xrt_add");
      xrt_tensor_release(z);
    }
    per_call[b] = (now_ns() - t0) / (PER_BATCH / 4);
  }
  printf("add_one_element_c %.1f ns\n", median(per_call, BATCHES));
  xrt_tensor_release(x);
  xrt_tensor_release(y);
  if (xrt_device_synchronize(cpu) != XRT_OK) fail("xrt_device_synchronize");
  return 0;
}
