# Declarations of the C API in include/xpuruntime/ (xpuruntime.h and the
# DLPack structs it uses). Every function is callable without the GIL.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "xpuruntime/xpuruntime_dlpack.h" nogil:
    ctypedef struct DLPackVersion:
        uint32_t major
        uint32_t minor

    ctypedef enum DLDeviceType:
        kDLCPU
        kDLCUDA

    ctypedef struct DLDevice:
        DLDeviceType device_type
        int32_t device_id

    ctypedef enum DLDataTypeCode:
        kDLInt
        kDLUInt
        kDLFloat
        kDLBfloat
        kDLComplex
        kDLBool
        kDLFloat8_e4m3fn
        kDLFloat8_e4m3fnuz
        kDLFloat8_e5m2
        kDLFloat8_e5m2fnuz

    ctypedef struct DLDataType:
        uint8_t code
        uint8_t bits
        uint16_t lanes

    ctypedef struct DLTensor:
        void* data
        DLDevice device
        int32_t ndim
        DLDataType dtype
        int64_t* shape
        int64_t* strides
        uint64_t byte_offset

    ctypedef struct DLManagedTensor:
        DLTensor dl_tensor
        void* manager_ctx
        void (*deleter)(DLManagedTensor* self) noexcept nogil

    ctypedef struct DLManagedTensorVersioned:
        DLPackVersion version
        void* manager_ctx
        void (*deleter)(DLManagedTensorVersioned* self) noexcept nogil
        uint64_t flags
        DLTensor dl_tensor

    # DLPack's C exchange API (1.2): a producer's table of conversions
    # without Python objects per call; Python objects pass as void*, each
    # returns 0 or -1 with a Python exception set.
    ctypedef struct DLPackExchangeAPIHeader:
        DLPackVersion version

    ctypedef struct DLPackExchangeAPI:
        DLPackExchangeAPIHeader header
        int (*managed_tensor_from_py_object_no_sync)(void* py_object,
                                                     DLManagedTensorVersioned** out) noexcept
        int (*managed_tensor_to_py_object_no_sync)(DLManagedTensorVersioned* tensor,
                                                   void** out_py_object) noexcept
        int (*current_work_stream)(DLDeviceType device_type, int32_t device_id,
                                   void** out_current_stream) noexcept

    uint64_t DLPACK_FLAG_BITMASK_READ_ONLY
    uint64_t DLPACK_FLAG_BITMASK_IS_COPIED
    int DLPACK_MAJOR_VERSION
    int DLPACK_MINOR_VERSION


cdef extern from "xpuruntime/xpuruntime.h" nogil:
    enum: XRT_MAX_DIMS

    ctypedef enum xrt_status_t:
        XRT_OK
        XRT_ERROR_INVALID_ARGUMENT
        XRT_ERROR_OUT_OF_MEMORY
        XRT_ERROR_NOT_FOUND
        XRT_ERROR_UNSUPPORTED
        XRT_ERROR_BACKEND
        XRT_ERROR_IO
        XRT_ERROR_INTERNAL

    const char* xrt_version()
    int32_t xrt_api_version()
    const char* xrt_last_error()
    const char* xrt_status_name(xrt_status_t status)

    ctypedef enum xrt_dtype_t:
        XRT_BOOL
        XRT_UINT8
        XRT_INT8
        XRT_INT16
        XRT_INT32
        XRT_INT64
        XRT_FLOAT16
        XRT_BFLOAT16
        XRT_FLOAT32
        XRT_FLOAT64
        XRT_UINT16
        XRT_UINT32
        XRT_UINT64
        XRT_FLOAT8_E4M3FN
        XRT_FLOAT8_E5M2
        XRT_FLOAT8_E4M3FNUZ
        XRT_FLOAT8_E5M2FNUZ
        XRT_DTYPE_COUNT

    # Devices
    ctypedef struct xrt_device_t:
        pass

    ctypedef enum xrt_device_kind_t:
        XRT_DEVICE_CPU
        XRT_DEVICE_CUDA

    ctypedef struct xrt_device_info_t:
        size_t struct_size
        xrt_device_kind_t kind
        int32_t index
        const char* name
        const char* description
        uint64_t total_memory
        int32_t compute_units
        int32_t compute_capability
        const char* kind_name
        int32_t host_memory

    xrt_status_t xrt_device_count(int32_t* count)
    xrt_status_t xrt_device_get(int32_t ordinal, xrt_device_t** out)
    xrt_status_t xrt_device_by_name(const char* name, xrt_device_t** out)
    xrt_status_t xrt_device_info(const xrt_device_t* device, xrt_device_info_t* info)

    # Streams and events
    ctypedef struct xrt_stream_t:
        pass

    ctypedef struct xrt_event_t:
        pass

    xrt_status_t xrt_stream_create(xrt_device_t* device, xrt_stream_t** out)
    xrt_status_t xrt_stream_retain(xrt_stream_t* stream)
    void xrt_stream_release(xrt_stream_t* stream)
    xrt_status_t xrt_stream_synchronize(xrt_stream_t* stream)
    xrt_status_t xrt_stream_wrap(xrt_device_t* device, void* native, xrt_stream_t** out)
    xrt_status_t xrt_stream_native(const xrt_stream_t* stream, void** out)
    xrt_status_t xrt_stream_wait_event(xrt_stream_t* stream, xrt_event_t* event)
    xrt_status_t xrt_device_synchronize(xrt_device_t* device)

    xrt_status_t xrt_event_create(xrt_device_t* device, xrt_event_t** out)
    void xrt_event_release(xrt_event_t* event)
    xrt_status_t xrt_event_record(xrt_event_t* event, xrt_stream_t* stream)
    xrt_status_t xrt_event_synchronize(xrt_event_t* event)
    xrt_status_t xrt_event_query(xrt_event_t* event, int32_t* done)
    xrt_status_t xrt_event_elapsed_time(xrt_event_t* start, xrt_event_t* end, float* ms)

    # Memory
    ctypedef struct xrt_memory_stats_t:
        size_t struct_size
        uint64_t allocated_bytes
        uint64_t reserved_bytes
        uint64_t peak_allocated_bytes
        uint64_t peak_reserved_bytes
        uint64_t num_allocs
        uint64_t num_frees
        uint64_t num_cache_hits
        uint64_t num_device_allocs

    xrt_status_t xrt_memory_stats(xrt_device_t* device, xrt_memory_stats_t* stats)
    xrt_status_t xrt_memory_empty_cache(xrt_device_t* device)
    xrt_status_t xrt_memory_reset_peak(xrt_device_t* device)

    # Tensors
    ctypedef struct xrt_tensor_t:
        pass

    ctypedef struct xrt_tensor_info_t:
        size_t struct_size
        xrt_dtype_t dtype
        int32_t ndim
        const int64_t* shape
        const int64_t* strides
        void* data
        xrt_device_t* device
        int64_t numel
        uint64_t nbytes
        int32_t contiguous
        int32_t read_only

    ctypedef void (*xrt_deleter_t)(void* data, void* context) noexcept nogil

    xrt_status_t xrt_tensor_create(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                                   const int64_t* shape, xrt_tensor_t** out)
    xrt_status_t xrt_tensor_zeros(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                                  const int64_t* shape, xrt_tensor_t** out)
    xrt_status_t xrt_tensor_create_pinned(xrt_dtype_t dtype, int32_t ndim, const int64_t* shape,
                                          xrt_tensor_t** out)
    xrt_status_t xrt_tensor_wrap(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                                 const int64_t* shape, const int64_t* strides, void* data,
                                 xrt_deleter_t deleter, void* context, xrt_tensor_t** out)
    xrt_status_t xrt_tensor_retain(xrt_tensor_t* tensor)
    void xrt_tensor_release(xrt_tensor_t* tensor)
    xrt_status_t xrt_tensor_info(const xrt_tensor_t* tensor, xrt_tensor_info_t* info)
    xrt_status_t xrt_tensor_copy(xrt_tensor_t* dst, const xrt_tensor_t* src,
                                 xrt_stream_t* stream)
    xrt_status_t xrt_tensor_to(const xrt_tensor_t* src, xrt_device_t* device,
                               xrt_stream_t* stream, xrt_tensor_t** out)

    xrt_status_t xrt_tensor_to_dlpack(xrt_tensor_t* tensor, DLManagedTensorVersioned** out)
    xrt_status_t xrt_tensor_to_dlpack_legacy(xrt_tensor_t* tensor, DLManagedTensor** out)
    xrt_status_t xrt_tensor_from_dlpack(DLManagedTensorVersioned* managed, xrt_tensor_t** out)
    xrt_status_t xrt_tensor_from_dlpack_legacy(DLManagedTensor* managed, xrt_tensor_t** out)

    # Ops
    xrt_status_t xrt_matmul(const xrt_tensor_t* a, const xrt_tensor_t* b,
                            xrt_stream_t* stream, xrt_tensor_t** out)
    xrt_status_t xrt_add(const xrt_tensor_t* a, const xrt_tensor_t* b,
                         xrt_stream_t* stream, xrt_tensor_t** out)
    xrt_status_t xrt_gelu(const xrt_tensor_t* x, xrt_stream_t* stream, xrt_tensor_t** out)
    xrt_status_t xrt_softmax(const xrt_tensor_t* x, int32_t axis, xrt_stream_t* stream,
                             xrt_tensor_t** out)
    xrt_status_t xrt_layer_norm(const xrt_tensor_t* x, const xrt_tensor_t* weight,
                                const xrt_tensor_t* bias, double eps, xrt_stream_t* stream,
                                xrt_tensor_t** out)
    xrt_status_t xrt_rms_norm(const xrt_tensor_t* x, const xrt_tensor_t* weight, double eps,
                              xrt_stream_t* stream, xrt_tensor_t** out)
    xrt_status_t xrt_attention(const xrt_tensor_t* q, const xrt_tensor_t* k,
                               const xrt_tensor_t* v, int32_t causal, double scale,
                               xrt_stream_t* stream, xrt_tensor_t** out)

    ctypedef enum xrt_attr_type_t:
        XRT_ATTR_INT
        XRT_ATTR_FLOAT

    ctypedef struct xrt_attr_t:
        const char* name
        xrt_attr_type_t type
        int64_t i
        double f

    xrt_status_t xrt_op_run(const char* op, const xrt_tensor_t* const* inputs,
                            size_t num_inputs, const xrt_attr_t* attrs, size_t num_attrs,
                            xrt_stream_t* stream, xrt_tensor_t** out)
    xrt_status_t xrt_op_run_outputs(const char* op, const xrt_tensor_t* const* inputs,
                                    size_t num_inputs, const xrt_attr_t* attrs, size_t num_attrs,
                                    xrt_stream_t* stream, xrt_tensor_t** outputs,
                                    size_t num_outputs)
    xrt_status_t xrt_op_run_impl(const char* op, const char* impl,
                                 const xrt_tensor_t* const* inputs, size_t num_inputs,
                                 const xrt_attr_t* attrs, size_t num_attrs,
                                 xrt_stream_t* stream, xrt_tensor_t** outputs, size_t num_outputs)

    # Model sessions
    ctypedef struct xrt_session_t:
        pass

    ctypedef struct xrt_run_options_t:
        pass

    ctypedef struct xrt_option_t:
        const char* key
        const char* value

    ctypedef enum xrt_value_kind_t:
        XRT_VALUE_TENSOR
        XRT_VALUE_STRINGS
        XRT_VALUE_SEQUENCE
        XRT_VALUE_MAP
        XRT_VALUE_OPTIONAL

    ctypedef struct xrt_value_info_t:
        size_t struct_size
        const char* name
        xrt_dtype_t dtype
        int32_t ndim
        const int64_t* shape
        const char* const* dim_names
        xrt_value_kind_t kind
        const char* type

    ctypedef struct xrt_value_t:
        size_t struct_size
        xrt_value_kind_t kind
        xrt_tensor_t* tensor
        int32_t ndim
        const int64_t* shape
        const char* const* strings
        const size_t* lengths
        const xrt_value_t* const* items
        size_t num_items

    void xrt_value_release(xrt_value_t* value)
    xrt_status_t xrt_session_run_values(
        xrt_session_t* session, xrt_run_options_t* run_options, const char* const* input_names,
        const xrt_value_t* const* inputs, size_t num_inputs, const char* const* output_names,
        size_t num_outputs, xrt_value_t** outputs)

    xrt_status_t xrt_session_create(const char* model_path, const void* model_data,
                                    size_t model_size, const char* backend,
                                    xrt_device_t* device, const xrt_option_t* options,
                                    size_t num_options, xrt_session_t** out)
    xrt_status_t xrt_session_retain(xrt_session_t* session)
    void xrt_session_release(xrt_session_t* session)
    xrt_status_t xrt_session_backend(const xrt_session_t* session, const char** name)
    xrt_status_t xrt_session_device(const xrt_session_t* session, xrt_device_t** out)
    xrt_status_t xrt_session_property(const xrt_session_t* session, const char* key,
                                      const char** value)
    xrt_status_t xrt_run_options_create(xrt_run_options_t** out)
    void xrt_run_options_release(xrt_run_options_t* options)
    xrt_status_t xrt_run_options_set_terminate(xrt_run_options_t* options, int32_t terminate)
    xrt_status_t xrt_session_run_with_options(
        xrt_session_t* session, xrt_run_options_t* run_options, const char* const* input_names,
        const xrt_tensor_t* const* inputs, size_t num_inputs, const char* const* output_names,
        size_t num_outputs, xrt_tensor_t** outputs)
    xrt_status_t xrt_session_run_into(
        xrt_session_t* session, xrt_run_options_t* run_options, const char* const* input_names,
        const xrt_tensor_t* const* inputs, size_t num_inputs, const char* const* output_names,
        size_t num_outputs, xrt_tensor_t** outputs)
    xrt_status_t xrt_session_end_profiling(xrt_session_t* session, const char* path)
    xrt_status_t xrt_session_input_count(const xrt_session_t* session, size_t* count)
    xrt_status_t xrt_session_output_count(const xrt_session_t* session, size_t* count)
    xrt_status_t xrt_session_input_info(const xrt_session_t* session, size_t index,
                                        xrt_value_info_t* info)
    xrt_status_t xrt_session_output_info(const xrt_session_t* session, size_t index,
                                         xrt_value_info_t* info)
    xrt_status_t xrt_session_run(xrt_session_t* session, const char* const* input_names,
                                 const xrt_tensor_t* const* inputs, size_t num_inputs,
                                 const char* const* output_names, size_t num_outputs,
                                 xrt_tensor_t** outputs)

    # Backends
    ctypedef struct xrt_backend_info_t:
        size_t struct_size
        const char* name
        const char* version
        const char* path
        const char* reason
        int32_t available
        int32_t builtin
        int32_t runs_models
        const char* details

    xrt_status_t xrt_backend_count(int32_t* count)
    xrt_status_t xrt_backend_info(int32_t index, xrt_backend_info_t* info)

    # Profiler
    xrt_status_t xrt_profiler_start()
    xrt_status_t xrt_profiler_stop()
    xrt_status_t xrt_profiler_export(const char* path)
    xrt_status_t xrt_profiler_summary(char* buf, size_t capacity, size_t* length)


cdef extern from "xpuruntime/xpuruntime_plugin.h" nogil:
    # The most inputs, outputs and attributes an op has.
    enum: XRT_OP_MAX_INPUTS
    enum: XRT_OP_MAX_OUTPUTS
    enum: XRT_OP_MAX_ATTRS
