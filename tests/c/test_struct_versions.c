/* Versioning that holds: structs are read and written only up to the
 * caller's struct_size. Frozen copies of the structs as API version 2 laid
 * them out stand for a program built against that older header; a larger
 * struct stands for a newer one; and a plugin built against plugin ABI 1.1
 * (argv[1]) keeps everything its tables have. */
#include <stdlib.h>

#include "check.h"

/* xrt_device_info_t as API version 2 laid it out (before kind_name). */
typedef struct {
  size_t struct_size;
  xrt_device_kind_t kind;
  int32_t index;
  const char* name;
  const char* description;
  uint64_t total_memory;
  int32_t compute_units;
  int32_t compute_capability;
} device_info_v2;

/* xrt_device_info_t as API version 4 laid it out (before host_memory). */
typedef struct {
  device_info_v2 v2;
  const char* kind_name;
} device_info_v4;

#define GUARD 0xA5A5A5A5A5A5A5A5ULL

static void test_api4_device_info(xrt_device_t* cpu) {
  struct {
    device_info_v4 info;
    uint64_t guard; /* where host_memory would be written */
  } older;
  memset(&older, 0, sizeof older);
  older.info.v2.struct_size = sizeof older.info;
  older.guard = GUARD;
  CHECK_OK(xrt_device_info(cpu, (xrt_device_info_t*)&older.info));
  CHECK(older.info.kind_name && strcmp(older.info.kind_name, "cpu") == 0);
  CHECK(older.guard == GUARD);
}

static void test_older_device_info(xrt_device_t* cpu) {
  struct {
    device_info_v2 info;
    uint64_t guard; /* where a newer field would be written */
  } older;
  memset(&older, 0, sizeof older);
  older.info.struct_size = sizeof older.info;
  older.guard = GUARD;
  CHECK_OK(xrt_device_info(cpu, (xrt_device_info_t*)&older.info));
  CHECK(older.info.name && strcmp(older.info.name, "cpu") == 0);
  CHECK(older.info.kind == XRT_DEVICE_CPU && older.info.compute_units >= 1);
  CHECK(older.guard == GUARD);
}

static void test_newer_device_info(xrt_device_t* cpu) {
  struct {
    xrt_device_info_t info;
    unsigned char tail[64]; /* fields of a later version this library lacks */
  } newer;
  memset(&newer, 0, sizeof newer);
  memset(newer.tail, 0xA5, sizeof newer.tail);
  newer.info.struct_size = sizeof newer;
  CHECK_OK(xrt_device_info(cpu, &newer.info));
  CHECK(newer.info.kind_name && strcmp(newer.info.kind_name, "cpu") == 0);
  int untouched = 1;
  for (size_t i = 0; i < sizeof newer.tail; ++i) untouched &= newer.tail[i] == 0xA5;
  CHECK(untouched);
}

static void test_too_small(xrt_device_t* cpu) {
  xrt_device_info_t info = {0};
  CHECK_ERROR(xrt_device_info(cpu, &info), XRT_ERROR_INVALID_ARGUMENT,
              "xrt_device_info_t.struct_size is 0");
  info.struct_size = sizeof(device_info_v2) - 1;
  CHECK_ERROR(xrt_device_info(cpu, &info), XRT_ERROR_INVALID_ARGUMENT, "xrt_device_info_t");

  xrt_memory_stats_t stats = {0};
  CHECK_ERROR(xrt_memory_stats(cpu, &stats), XRT_ERROR_INVALID_ARGUMENT,
              "xrt_memory_stats_t.struct_size is 0");
  xrt_backend_info_t backend = {0};
  CHECK_ERROR(xrt_backend_info(0, &backend), XRT_ERROR_INVALID_ARGUMENT,
              "xrt_backend_info_t.struct_size is 0");

  int64_t shape[1] = {4};
  xrt_tensor_t* t = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, shape, &t));
  xrt_tensor_info_t tinfo = {0};
  tinfo.struct_size = 8;
  CHECK_ERROR(xrt_tensor_info(t, &tinfo), XRT_ERROR_INVALID_ARGUMENT,
              "xrt_tensor_info_t.struct_size is 8");
  struct {
    xrt_tensor_info_t info;
    uint64_t tail;
  } bigger;
  memset(&bigger, 0, sizeof bigger);
  bigger.info.struct_size = sizeof bigger;
  bigger.tail = GUARD;
  CHECK_OK(xrt_tensor_info(t, &bigger.info));
  CHECK(bigger.info.numel == 4 && bigger.tail == GUARD);
  xrt_tensor_release(t);
}

/* The ABI 1.1 plugin: its details and collect_spans are read, its sessions
 * run, and value descriptions fill a struct of the caller's size. */
static void test_abi11_plugin(const char* path, xrt_device_t* cpu) {
  CHECK_OK(xrt_plugin_load(path));
  int32_t count = 0;
  CHECK_OK(xrt_backend_count(&count));
  int found = 0;
  for (int32_t i = 0; i < count; ++i) {
    xrt_backend_info_t info = {sizeof info};
    CHECK_OK(xrt_backend_info(i, &info));
    if (strcmp(info.name, "abi11") != 0) continue;
    found = 1;
    CHECK(info.available && info.runs_models);
    CHECK(strcmp(info.details, "abi 1.1 details") == 0);
  }
  CHECK(found);

  const char model[] = "any bytes";
  xrt_session_t* session = NULL;
  CHECK_OK(xrt_session_create(NULL, model, sizeof model, "abi11", cpu, NULL, 0, &session));
  if (!session) return;
  xrt_value_info_t value = {sizeof value};
  CHECK_OK(xrt_session_input_info(session, 0, &value));
  CHECK(strcmp(value.name, "x") == 0 && value.ndim == 1 && value.shape[0] == -1);
  CHECK(strcmp(value.dim_names[0], "n") == 0);

  int64_t shape[1] = {3};
  xrt_tensor_t *x = NULL, *y = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 1, shape, &x));
  float* xs = NULL;
  CHECK_OK(xrt_tensor_data(x, (void**)&xs));
  for (int i = 0; i < 3; ++i) xs[i] = (float)i + 0.5f;
  const char* in_names[] = {"x"};
  const xrt_tensor_t* ins[] = {x};
  CHECK_OK(xrt_session_run(session, in_names, ins, 1, NULL, 1, &y));
  float* ys = NULL;
  CHECK_OK(xrt_tensor_data(y, (void**)&ys));
  CHECK(ys && ys[0] == 1.0f && ys[2] == 5.0f);

  /* run_into: a plugin that predates caller-given outputs (ABI 1.9) makes
   * its own, and the runtime copies it in, once its shape is the given. */
  xrt_tensor_t *given = NULL, *longer = NULL;
  const int64_t four[1] = {4};
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, shape, &given));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, four, &longer));
  xrt_tensor_t* into[1] = {given};
  CHECK_OK(xrt_session_run_into(session, NULL, in_names, ins, 1, NULL, 1, into));
  float* gs = NULL;
  CHECK_OK(xrt_tensor_data(given, (void**)&gs));
  CHECK(into[0] == given && gs && gs[0] == 1.0f && gs[1] == 3.0f && gs[2] == 5.0f);
  into[0] = longer;
  CHECK_ERROR(xrt_session_run_into(session, NULL, in_names, ins, 1, NULL, 1, into),
              XRT_ERROR_INVALID_ARGUMENT, "output 'y' was given with shape (4,), the run gave "
              "float32 (3,)");
  CHECK(into[0] == longer);
  xrt_tensor_release(longer);
  xrt_tensor_release(given);
  xrt_tensor_release(x);
  xrt_tensor_release(y);

  /* collect_spans runs at release while the profiler records. */
  size_t before = 0, after = 0;
  CHECK_OK(xrt_profiler_start());
  CHECK_OK(xrt_profiler_event_count(&before));
  xrt_session_release(session);
  CHECK_OK(xrt_profiler_event_count(&after));
  CHECK_OK(xrt_profiler_stop());
  CHECK(after == before + 1);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ABI11_PLUGIN\n", argv[0]);
    return 2;
  }
  CHECK(xrt_api_version() == XRT_API_VERSION);
  xrt_device_t* cpu = NULL;
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  test_older_device_info(cpu);
  test_newer_device_info(cpu);
  test_api4_device_info(cpu);
  test_too_small(cpu);
  test_abi11_plugin(argv[1], cpu);
  return check_report("struct_versions");
}
