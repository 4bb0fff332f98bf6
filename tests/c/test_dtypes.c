/* The dtypes of API version 4 (uint16/32/64, float8): sizes, names, and
 * that tensors of each are created, wrapped, copied (contiguous and
 * strided) and passed through DLPack both ways bit for bit; ops without a
 * kernel for them say so. */
#include <stdlib.h>

#include "check.h"

static xrt_device_t* cpu;

typedef struct {
  xrt_dtype_t dtype;
  int code;
  size_t size;
  const char* name;
  uint8_t dl_code;
} NewDtype;

static const NewDtype kNew[] = {
    {XRT_UINT16, 10, 2, "uint16", kDLUInt},
    {XRT_UINT32, 11, 4, "uint32", kDLUInt},
    {XRT_UINT64, 12, 8, "uint64", kDLUInt},
    {XRT_FLOAT8_E4M3FN, 13, 1, "float8_e4m3fn", kDLFloat8_e4m3fn},
    {XRT_FLOAT8_E5M2, 14, 1, "float8_e5m2", kDLFloat8_e5m2},
    {XRT_FLOAT8_E4M3FNUZ, 15, 1, "float8_e4m3fnuz", kDLFloat8_e4m3fnuz},
    {XRT_FLOAT8_E5M2FNUZ, 16, 1, "float8_e5m2fnuz", kDLFloat8_e5m2fnuz},
};
enum { kNewCount = sizeof kNew / sizeof kNew[0] };

/* Every byte pattern, NaNs and negative zeros included, from a fixed seed. */
static void fill_random(unsigned char* bytes, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    bytes[i] = (unsigned char)(seed >> 16);
  }
}

static void test_versions(void) {
  CHECK(XRT_API_VERSION == 7);
  CHECK(xrt_api_version() == XRT_API_VERSION);
  CHECK(XRT_DTYPE_COUNT == 17);
}

static void test_sizes_and_names(const NewDtype* d) {
  size_t size = 0;
  const char* name = NULL;
  CHECK((int)d->dtype == d->code);
  CHECK_OK(xrt_dtype_size(d->dtype, &size));
  CHECK(size == d->size);
  CHECK_OK(xrt_dtype_name(d->dtype, &name));
  CHECK(name && strcmp(name, d->name) == 0);
}

static void test_out_of_range_codes(void) {
  size_t size = 0;
  const int64_t shape[1] = {4};
  xrt_tensor_t* bad = NULL;
  CHECK_ERROR(xrt_dtype_size(XRT_DTYPE_COUNT, &size), XRT_ERROR_INVALID_ARGUMENT,
              "dtype code 17 is out of range (expected 0..16)");
  CHECK_ERROR(xrt_tensor_zeros(cpu, (xrt_dtype_t)17, 1, shape, &bad), XRT_ERROR_INVALID_ARGUMENT,
              "dtype code 17");
  CHECK(bad == NULL);
}

static void test_create_and_zeros(const NewDtype* d) {
  const int64_t shape[2] = {3, 5};
  xrt_tensor_t* t = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, d->dtype, 2, shape, &t));
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(t, &info));
  CHECK(info.dtype == d->dtype && info.numel == 15 && info.nbytes == 15 * d->size);
  const unsigned char* bytes = info.data;
  size_t nonzero = 0;
  for (size_t i = 0; i < info.nbytes; ++i) nonzero += bytes[i] != 0;
  CHECK(nonzero == 0);
  xrt_tensor_release(t);
  t = NULL;
  CHECK_OK(xrt_tensor_create(cpu, d->dtype, 2, shape, &t));
  xrt_tensor_release(t);
}

/* A (rows, cols) row-major buffer seen transposed, copied to a contiguous
 * tensor: element (i, j) of the copy is element (j, i) of the buffer. */
static void test_wrap_and_strided_copy(const NewDtype* d) {
  enum { kRows = 3, kCols = 7 };
  const size_t item = d->size;
  unsigned char* buffer = malloc(kRows * kCols * item);
  fill_random(buffer, kRows * kCols * item, (unsigned)d->code);
  const int64_t shape[2] = {kCols, kRows};
  const int64_t strides[2] = {1, kCols};
  xrt_tensor_t* view = NULL;
  CHECK_OK(xrt_tensor_wrap(cpu, d->dtype, 2, shape, strides, buffer, NULL, NULL, &view));
  xrt_tensor_t* packed = NULL;
  CHECK_OK(xrt_tensor_contiguous(view, &packed));
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(packed, &info));
  CHECK(info.contiguous && info.dtype == d->dtype);
  const unsigned char* out = info.data;
  int mismatches = 0;
  for (int i = 0; i < kCols; ++i)
    for (int j = 0; j < kRows; ++j)
      mismatches += memcmp(out + (i * kRows + j) * item, buffer + (j * kCols + i) * item, item) != 0;
  CHECK(mismatches == 0);

  /* Contiguous copy back into a fresh tensor: the same bytes. */
  xrt_tensor_t* again = NULL;
  CHECK_OK(xrt_tensor_create(cpu, d->dtype, 2, shape, &again));
  CHECK_OK(xrt_tensor_copy(again, packed, NULL));
  void* data = NULL;
  CHECK_OK(xrt_tensor_data(again, &data));
  CHECK(memcmp(data, info.data, info.nbytes) == 0);

  /* Another dtype of the same size is refused, naming both. */
  xrt_tensor_t* other = NULL;
  const xrt_dtype_t same_size = d->size == 1 ? XRT_UINT8 : d->size == 2 ? XRT_INT16
                                : d->size == 4 ? XRT_INT32 : XRT_INT64;
  CHECK_OK(xrt_tensor_create(cpu, same_size, 2, shape, &other));
  CHECK_ERROR(xrt_tensor_copy(other, packed, NULL), XRT_ERROR_INVALID_ARGUMENT, d->name);
  xrt_tensor_release(other);
  xrt_tensor_release(again);
  xrt_tensor_release(packed);
  xrt_tensor_release(view);
  free(buffer);
}

static void test_dlpack_round_trip(const NewDtype* d) {
  const int64_t shape[1] = {9};
  xrt_tensor_t* t = NULL;
  CHECK_OK(xrt_tensor_create(cpu, d->dtype, 1, shape, &t));
  void* data = NULL;
  CHECK_OK(xrt_tensor_data(t, &data));
  fill_random(data, 9 * d->size, 7u + (unsigned)d->code);

  DLManagedTensorVersioned* managed = NULL;
  CHECK_OK(xrt_tensor_to_dlpack(t, &managed));
  CHECK(managed->dl_tensor.dtype.code == d->dl_code);
  CHECK(managed->dl_tensor.dtype.bits == d->size * 8);
  CHECK(managed->dl_tensor.dtype.lanes == 1);
  xrt_tensor_t* back = NULL;
  CHECK_OK(xrt_tensor_from_dlpack(managed, &back));
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(back, &info));
  CHECK(info.dtype == d->dtype && info.data == data && info.numel == 9);
  xrt_tensor_release(back);

  DLManagedTensor* legacy = NULL;
  CHECK_OK(xrt_tensor_to_dlpack_legacy(t, &legacy));
  CHECK(legacy->dl_tensor.dtype.code == d->dl_code && legacy->dl_tensor.dtype.bits == d->size * 8);
  CHECK_OK(xrt_tensor_from_dlpack_legacy(legacy, &back));
  CHECK_OK(xrt_tensor_info(back, &info));
  CHECK(info.dtype == d->dtype && info.data == data);
  xrt_tensor_release(back);
  xrt_tensor_release(t);
}

/* DLPack types without an xrt dtype are refused by name, and the caller
 * keeps the managed tensor. */
static void test_dlpack_unknown_types(void) {
  static int64_t shape[1] = {2};
  static unsigned char bytes[2];
  const struct {
    DLDataType type;
    const char* text;
  } cases[] = {
      {{kDLFloat8_e3m4, 8, 1}, "DLPack dtype float8_e3m4 (code 7, 8 bits)"},
      {{kDLFloat8_e4m3b11fnuz, 8, 1}, "float8_e4m3b11fnuz (code 9, 8 bits)"},
      {{kDLUInt, 4, 1}, "uint4 (code 1, 4 bits)"},
      {{kDLFloat8_e4m3fn, 16, 1}, "float8_e4m3fn (code 10, 16 bits)"},
      {{42, 8, 1}, "unknown (code 42, 8 bits)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    DLManagedTensor managed = {{bytes, {kDLCPU, 0}, 1, cases[i].type, shape, NULL, 0}};
    xrt_tensor_t* out = NULL;
    CHECK_ERROR(xrt_tensor_from_dlpack_legacy(&managed, &out), XRT_ERROR_UNSUPPORTED,
                cases[i].text);
    CHECK(out == NULL);
  }
}

/* No CPU kernel computes these dtypes: the dispatcher names op, device and
 * dtype. */
static void test_ops_unsupported(const NewDtype* d) {
  const int64_t shape[1] = {4};
  xrt_tensor_t* a = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, d->dtype, 1, shape, &a));
  xrt_tensor_t* out = NULL;
  char text[64];
  snprintf(text, sizeof text, "on cpu with dtype %s", d->name);
  CHECK_ERROR(xrt_add(a, a, NULL, &out), XRT_ERROR_UNSUPPORTED, text);
  CHECK_ERROR(xrt_add(a, a, NULL, &out), XRT_ERROR_UNSUPPORTED, "'add'");
  CHECK_ERROR(xrt_gelu(a, NULL, &out), XRT_ERROR_UNSUPPORTED, text);
  CHECK(out == NULL);
  xrt_tensor_release(a);
}

int main(void) {
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  test_versions();
  test_out_of_range_codes();
  test_dlpack_unknown_types();
  for (int i = 0; i < kNewCount; ++i) {
    test_sizes_and_names(&kNew[i]);
    test_create_and_zeros(&kNew[i]);
    test_wrap_and_strided_copy(&kNew[i]);
    test_dlpack_round_trip(&kNew[i]);
    test_ops_unsupported(&kNew[i]);
  }
  return check_report("dtypes");
}
