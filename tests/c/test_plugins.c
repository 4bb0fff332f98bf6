/* Run with XRT_PLUGIN_PATH naming the test plugins' folder: the good one
 * registers an int32 add the dispatcher then uses; each broken one is listed
 * as unavailable with its reason while the runtime keeps working. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, symlink */

#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static const xrt_backend_info_t* find_backend(const char* name, xrt_backend_info_t* info) {
  int32_t count = 0;
  xrt_backend_count(&count);
  for (int32_t i = 0; i < count; ++i) {
    info->struct_size = sizeof *info;
    if (xrt_backend_info(i, info) == XRT_OK && strcmp(info->name, name) == 0) return info;
  }
  return NULL;
}

static void expect_unavailable(const char* name, const char* reason_part) {
  xrt_backend_info_t info;
  const xrt_backend_info_t* found = find_backend(name, &info);
  CHECK(found != NULL);
  if (!found) return;
  CHECK(!found->available && !found->builtin);
  CHECK(strstr(found->reason, reason_part) != NULL);
  if (!strstr(found->reason, reason_part))
    fprintf(stderr, "backend %s: reason \"%s\" lacks \"%s\"\n", name, found->reason, reason_part);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s TEST_PLUGIN_DIR\n", argv[0]);
    return 2;
  }
  const char* dir = argv[1];
  xrt_backend_info_t info;
  const xrt_backend_info_t* cpu_backend = find_backend("cpu", &info);
  CHECK(cpu_backend && cpu_backend->available && cpu_backend->builtin);

  const xrt_backend_info_t* good = find_backend("testadd", &info);
  CHECK(good && good->available && strcmp(good->version, "1.2.3") == 0);
  expect_unavailable("wrongabi", "ABI 2.0");
  expect_unavailable("noentry", "does not export xrt_plugin_get_api");
  expect_unavailable("notalib", "not a loadable library");

  /* The session plugins load even when the runtime below them cannot be
   * found (meson points them at files that do not exist); the reason says
   * what to install. A plugin disabled at build time is not listed. */
  if (find_backend("onnxruntime", &info)) expect_unavailable("onnxruntime", "pip install onnxruntime");
  if (find_backend("openvino", &info)) expect_unavailable("openvino", "pip install xpuruntime[openvino]");
  const xrt_backend_info_t* ort = find_backend("onnxruntime", &info);
  CHECK(ort && ort->runs_models == 1);

  /* The plugin's kernel serves int32 add, with broadcasting. */
  xrt_device_t* cpu = NULL;
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  const int64_t as[2] = {2, 3}, bs[1] = {3};
  int32_t a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30};
  xrt_tensor_t *ta = NULL, *tb = NULL, *out = NULL;
  CHECK_OK(xrt_tensor_wrap(cpu, XRT_INT32, 2, as, NULL, a, NULL, NULL, &ta));
  CHECK_OK(xrt_tensor_wrap(cpu, XRT_INT32, 1, bs, NULL, b, NULL, NULL, &tb));
  CHECK_OK(xrt_profiler_start());
  CHECK_OK(xrt_add(ta, tb, NULL, &out));
  CHECK_OK(xrt_profiler_stop());
  int32_t* sum = NULL;
  CHECK_OK(xrt_tensor_data(out, (void**)&sum));
  CHECK(sum && sum[0] == 11 && sum[5] == 36);
  size_t length = 0;
  char summary[1024];
  CHECK_OK(xrt_profiler_summary(summary, sizeof summary, &length));
  const char* trace = "test_plugins_trace.json";
  CHECK_OK(xrt_profiler_export(trace));
  FILE* f = fopen(trace, "rb");
  char buf[4096] = {0};
  if (f) {
    fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
  }
  CHECK(strstr(buf, "\"impl\": \"testadd.add_int32\"") != NULL);
  xrt_tensor_release(out);

  /* The table's second entry, read with the plugin's (pre-1.4) entry size,
   * and impl lists: unknown names are skipped, none known is NOT_FOUND. */
  const xrt_tensor_t* pair[2] = {ta, tb};
  CHECK_OK(xrt_op_run_impl("add", "testadd.add_int32_second", pair, 2, NULL, 0, NULL, &out, 1));
  CHECK_OK(xrt_tensor_data(out, (void**)&sum));
  CHECK(sum && sum[0] == 11 && sum[5] == 36);
  xrt_tensor_release(out);
  CHECK_OK(xrt_op_run_impl("add", "nope.add,testadd.add_int32_second", pair, 2, NULL, 0, NULL,
                           &out, 1));
  xrt_tensor_release(out);
  CHECK_ERROR(xrt_op_run_impl("add", "nope.add,nope.other", pair, 2, NULL, 0, NULL, &out, 1),
              XRT_ERROR_NOT_FOUND, "testadd.add_int32_second");

  /* Explicit loads: a directory, a missing file, a broken file again, and
   * the good one a second time (a no-op). */
  CHECK_ERROR(xrt_plugin_load(dir), XRT_ERROR_INVALID_ARGUMENT, "is a directory");
  char path[4096];
  snprintf(path, sizeof path, "%s/libxrt_missing.so", dir);
  CHECK_ERROR(xrt_plugin_load(path), XRT_ERROR_NOT_FOUND, "does not exist");
  snprintf(path, sizeof path, "%s/libxrt_wrongabi.so", dir);
  CHECK_ERROR(xrt_plugin_load(path), XRT_ERROR_UNSUPPORTED, "ABI 2.0");
  snprintf(path, sizeof path, "%s/libxrt_testadd.so", dir);
  CHECK_OK(xrt_plugin_load(path));
  CHECK_ERROR(xrt_plugin_load(NULL), XRT_ERROR_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(xrt_plugin_load(""), XRT_ERROR_INVALID_ARGUMENT, "plugin path is empty");

  /* A symlink loop is reported as what it is, not as a missing file. */
  char scratch[] = "/tmp/xrt-plugins-XXXXXX";
  if (mkdtemp(scratch)) {
    char loop[4096];
    snprintf(loop, sizeof loop, "%s/libxrt_loop.so", scratch);
    CHECK(symlink(loop, loop) == 0);
    CHECK_ERROR(xrt_plugin_load(loop), XRT_ERROR_IO, "symbolic links");
    unlink(loop);
    rmdir(scratch);
  } else {
    CHECK(!"mkdtemp failed");
  }
  expect_unavailable("missing", "does not exist");

  /* Float ops still run on the built-in backend. */
  xrt_tensor_t *x = NULL, *y = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, as, &x));
  CHECK_OK(xrt_add(x, x, NULL, &y));
  xrt_tensor_release(x);
  xrt_tensor_release(y);
  xrt_tensor_release(ta);
  xrt_tensor_release(tb);
  return check_report("plugins");
}
