/* Values a C caller can pass that lie outside what the library accepts:
 * enum codes out of range and DLPack fields that would wrap pointers or
 * offsets. Each is refused with a typed error naming the value; none may
 * reach a table index or pointer arithmetic (the sanitizer build runs this). */
#include <stdint.h>

#include "check.h"

static xrt_device_t* cpu;

static void test_bad_dtype_codes(void) {
  const int codes[2] = {-1, 9999};
  const char* texts[2] = {"dtype code -1", "dtype code 9999"};
  const int64_t shape[1] = {4};
  float data[4] = {0};
  for (int i = 0; i < 2; ++i) {
    const xrt_dtype_t bad = (xrt_dtype_t)codes[i];
    size_t size = 0;
    const char* name = NULL;
    xrt_tensor_t* t = NULL;
    CHECK_ERROR(xrt_dtype_size(bad, &size), XRT_ERROR_INVALID_ARGUMENT, texts[i]);
    CHECK_ERROR(xrt_dtype_name(bad, &name), XRT_ERROR_INVALID_ARGUMENT, texts[i]);
    CHECK_ERROR(xrt_tensor_create(cpu, bad, 1, shape, &t), XRT_ERROR_INVALID_ARGUMENT, texts[i]);
    CHECK_ERROR(xrt_tensor_zeros(cpu, bad, 1, shape, &t), XRT_ERROR_INVALID_ARGUMENT, texts[i]);
    CHECK_ERROR(xrt_tensor_create_pinned(bad, 1, shape, &t), XRT_ERROR_INVALID_ARGUMENT,
                texts[i]);
    CHECK_ERROR(xrt_tensor_wrap(cpu, bad, 1, shape, NULL, data, NULL, NULL, &t),
                XRT_ERROR_INVALID_ARGUMENT, texts[i]);
    CHECK(size == 0 && name == NULL && t == NULL);
  }
  CHECK_ERROR(xrt_dtype_size(XRT_DTYPE_COUNT, &(size_t){0}), XRT_ERROR_INVALID_ARGUMENT,
              "expected 0..");
}

static void test_bad_status_codes(void) {
  CHECK(strcmp(xrt_status_name((xrt_status_t)-1), "XRT_ERROR_UNKNOWN") == 0);
  CHECK(strcmp(xrt_status_name((xrt_status_t)9999), "XRT_ERROR_UNKNOWN") == 0);
}

static void test_bad_attr_type_codes(void) {
  const int64_t shape[2] = {2, 3};
  xrt_tensor_t *x = NULL, *weight = NULL, *bias = NULL, *out = NULL;
  const int64_t last[1] = {3};
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, shape, &x));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, last, &weight));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, last, &bias));
  const xrt_tensor_t* one[1] = {x};
  const xrt_tensor_t* three[3] = {x, weight, bias};
  /* An integer attribute (softmax's axis) and a float one (layer_norm's eps). */
  const xrt_attr_t bad_int[1] = {{"axis", (xrt_attr_type_t)-1, 0, 0.0}};
  CHECK_ERROR(xrt_op_run("softmax", one, 1, bad_int, 1, NULL, &out), XRT_ERROR_INVALID_ARGUMENT,
              "'axis' has type code -1 (expected XRT_ATTR_INT (0) or XRT_ATTR_FLOAT (1))");
  const xrt_attr_t bad_float[1] = {{"eps", (xrt_attr_type_t)9999, 0, 1e-5}};
  CHECK_ERROR(xrt_op_run("layer_norm", three, 3, bad_float, 1, NULL, &out),
              XRT_ERROR_INVALID_ARGUMENT, "'eps' has type code 9999");
  CHECK(out == NULL);
  xrt_tensor_release(x);
  xrt_tensor_release(weight);
  xrt_tensor_release(bias);
}

static void test_bad_dlpack_fields(void) {
  const int64_t shape[2] = {2, 3};
  xrt_tensor_t *t = NULL, *back = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &t));
  DLManagedTensorVersioned* managed = NULL;
  CHECK_OK(xrt_tensor_to_dlpack(t, &managed));
  DLTensor* dl = &managed->dl_tensor;

  /* Device types no DLPack version defines. */
  dl->device.device_type = (DLDeviceType)9999;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_UNSUPPORTED, "device type 9999");
  dl->device.device_type = (DLDeviceType)-1;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_UNSUPPORTED, "device type -1");
  dl->device.device_type = kDLCPU;

  /* A byte_offset that wraps the data pointer past the address space. */
  dl->byte_offset = UINT64_MAX;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_INVALID_ARGUMENT,
              "byte_offset 18446744073709551615");
  dl->byte_offset = (uint64_t)(UINTPTR_MAX - (uintptr_t)dl->data) + 1;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_INVALID_ARGUMENT, "wraps");
  dl->byte_offset = 0;

  /* Strides whose offsets overflow int64, or that reach below address 0. */
  dl->strides[0] = INT64_MAX;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_INVALID_ARGUMENT,
              "strides (9223372036854775807, 1)");
  dl->strides[0] = -(int64_t)((uintptr_t)dl->data / 4) - 1;
  CHECK_ERROR(xrt_tensor_from_dlpack(managed, &back), XRT_ERROR_INVALID_ARGUMENT,
              "beyond the address space");
  dl->strides[0] = 3;
  CHECK(back == NULL);

  /* Refused imports left ownership with the caller: the valid one now works. */
  CHECK_OK(xrt_tensor_from_dlpack(managed, &back));
  xrt_tensor_release(back);
  back = NULL;

  /* The same stride check guards xrt_tensor_wrap. */
  float data[6] = {0};
  const int64_t huge[2] = {INT64_MAX / 2, 1};
  CHECK_ERROR(xrt_tensor_wrap(cpu, XRT_FLOAT32, 2, shape, huge, data, NULL, NULL, &back),
              XRT_ERROR_INVALID_ARGUMENT, "int64 cannot hold");
  CHECK(back == NULL);
  xrt_tensor_release(t);
}

int main(void) {
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  test_bad_dtype_codes();
  test_bad_status_codes();
  test_bad_attr_type_codes();
  test_bad_dlpack_fields();
  return check_report("boundary");
}
