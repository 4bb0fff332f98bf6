// The subset of OpenVINO's C API (openvino/c/*.h) this plugin uses, declared
// here so the build needs nothing from OpenVINO: the library is dlopen'ed and
// these are the types of the functions looked up in it. Layouts match the
// wheel's headers (2024.x-2026.x).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xrt::ov {

extern "C" {
struct ov_core_t;
struct ov_model_t;
struct ov_compiled_model_t;
struct ov_infer_request_t;
struct ov_tensor_t;
struct ov_output_const_port_t;

typedef int ov_status_e;  // OK = 0, errors negative
typedef int ov_element_type_e;

struct ov_shape_t {
  int64_t rank;
  int64_t* dims;
};
struct ov_dimension_t {
  int64_t min;
  int64_t max;  // -1: unbounded (dynamic)
};
typedef ov_dimension_t ov_rank_t;
struct ov_partial_shape_t {
  ov_rank_t rank;
  ov_dimension_t* dims;
};
struct ov_version_t {
  const char* buildNumber;
  const char* description;
};
struct ov_available_devices_t {
  char** devices;
  size_t size;
};
struct ov_profiling_info_t {
  int status;          // 0 not run, 1 optimized out, 2 executed
  int64_t real_time;   // microseconds
  int64_t cpu_time;
  const char* node_name;
  const char* exec_type;  // the kernel that ran, e.g. "jit_avx512_f32"
  const char* node_type;  // the model's op, e.g. "MatMul"
};
struct ov_profiling_info_list_t {
  ov_profiling_info_t* profiling_infos;
  size_t size;
};
}  // extern "C"

enum : int { kProfileExecuted = 2 };

// ov_element_type_e values.
enum : int {
  kElemDynamic = 0, kElemBoolean = 1, kElemBf16 = 2, kElemF16 = 3, kElemF32 = 4, kElemF64 = 5,
  kElemI4 = 6, kElemI8 = 7, kElemI16 = 8, kElemI32 = 9, kElemI64 = 10, kElemU8 = 16,
  kElemU16 = 17, kElemU32 = 18, kElemU64 = 19, kElemF8E4M3 = 21, kElemF8E5M2 = 22,
  kElemString = 23,
};
// Stands for a dtype OpenVINO has no element type for.
enum : int { kElemNone = -1 };

// ov_status_e values that map to particular xrt statuses.
enum : int {
  kOk = 0, kNotImplemented = -2, kNetworkNotLoaded = -3, kParameterMismatch = -4,
  kNotFound = -5, kOutOfBounds = -6, kNetworkNotRead = -12, kInvalidCParam = -14,
};

struct Functions {
  const char* (*get_error_info)(ov_status_e);
  const char* (*get_last_err_msg)();
  void (*free)(const char*);
  ov_status_e (*get_openvino_version)(ov_version_t*);
  void (*version_free)(ov_version_t*);
  ov_status_e (*core_create)(ov_core_t**);
  void (*core_free)(ov_core_t*);
  ov_status_e (*core_get_available_devices)(const ov_core_t*, ov_available_devices_t*);
  void (*available_devices_free)(ov_available_devices_t*);
  ov_status_e (*core_read_model)(const ov_core_t*, const char*, const char*, ov_model_t**);
  ov_status_e (*core_read_model_from_memory_buffer)(const ov_core_t*, const char*, size_t,
                                                    const ov_tensor_t*, ov_model_t**);
  ov_status_e (*core_get_property)(const ov_core_t*, const char*, const char*, char**);
  ov_status_e (*core_compile_model)(const ov_core_t*, const ov_model_t*, const char*, size_t,
                                    ov_compiled_model_t**, ...);
  void (*model_free)(ov_model_t*);
  ov_status_e (*model_const_input_by_index)(const ov_model_t*, size_t, ov_output_const_port_t**);
  ov_status_e (*model_const_output_by_index)(const ov_model_t*, size_t,
                                             ov_output_const_port_t**);
  ov_status_e (*compiled_model_inputs_size)(const ov_compiled_model_t*, size_t*);
  ov_status_e (*compiled_model_outputs_size)(const ov_compiled_model_t*, size_t*);
  ov_status_e (*compiled_model_input_by_index)(const ov_compiled_model_t*, size_t,
                                               ov_output_const_port_t**);
  ov_status_e (*compiled_model_output_by_index)(const ov_compiled_model_t*, size_t,
                                                ov_output_const_port_t**);
  ov_status_e (*compiled_model_create_infer_request)(const ov_compiled_model_t*,
                                                     ov_infer_request_t**);
  void (*compiled_model_free)(ov_compiled_model_t*);
  ov_status_e (*compiled_model_get_property)(const ov_compiled_model_t*, const char*, char**);
  ov_status_e (*port_get_any_name)(const ov_output_const_port_t*, char**);
  ov_status_e (*port_get_partial_shape)(const ov_output_const_port_t*, ov_partial_shape_t*);
  ov_status_e (*port_get_element_type)(const ov_output_const_port_t*, ov_element_type_e*);
  void (*output_const_port_free)(ov_output_const_port_t*);
  void (*partial_shape_free)(ov_partial_shape_t*);
  ov_status_e (*tensor_create_from_host_ptr)(ov_element_type_e, ov_shape_t, void*,
                                             ov_tensor_t**);
  ov_status_e (*tensor_create)(ov_element_type_e, ov_shape_t, ov_tensor_t**);
  ov_status_e (*tensor_get_shape)(const ov_tensor_t*, ov_shape_t*);
  ov_status_e (*tensor_get_element_type)(const ov_tensor_t*, ov_element_type_e*);
  ov_status_e (*tensor_data)(const ov_tensor_t*, void**);
  void (*tensor_free)(ov_tensor_t*);
  ov_status_e (*shape_free)(ov_shape_t*);
  ov_status_e (*infer_request_set_input_tensor_by_index)(ov_infer_request_t*, size_t,
                                                         const ov_tensor_t*);
  ov_status_e (*infer_request_infer)(ov_infer_request_t*);
  ov_status_e (*infer_request_get_output_tensor_by_index)(const ov_infer_request_t*, size_t,
                                                          ov_tensor_t**);
  void (*infer_request_free)(ov_infer_request_t*);
  ov_status_e (*infer_request_get_profiling_info)(const ov_infer_request_t*,
                                                  ov_profiling_info_list_t*);
  void (*profiling_info_list_free)(ov_profiling_info_list_t*);
};

}  // namespace xrt::ov
