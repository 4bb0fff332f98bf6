// Runtime calls on torch tensors: DLPack both ways, torch's current
// stream, typed errors.
#include "runtime_call.h"

#include <ATen/DLConvertor.h>
#include <c10/util/Exception.h>
#include <torch/csrc/Exceptions.h>

#include <mutex>

namespace xrt_torch {
namespace {

// status code -> xpuruntime.errors class, as the Python layer maps them.
PyObject* g_error_classes = nullptr;

}  // namespace

[[noreturn]] void raise_error(xrt_status_t status, const std::string& message) {
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* key = PyLong_FromLong(status);
  PyObject* cls = key && g_error_classes ? PyDict_GetItemWithError(g_error_classes, key) : nullptr;
  Py_XDECREF(key);
  if (!PyErr_Occurred()) PyErr_SetString(cls ? cls : PyExc_RuntimeError, message.c_str());
  python_error error;
  error.persist();
  PyGILState_Release(gil);
  throw error;
}

[[noreturn]] void invalid(const std::string& message) {
  raise_error(XRT_ERROR_INVALID_ARGUMENT, message);
}

namespace {

// torch's DLPack C exchange API: its current_work_stream.
const DLPackExchangeAPI* g_exchange = nullptr;

// xrt_stream_t wrappers of torch's streams by (device, native handle). A
// wrapper is only a handle, so one per stream serves every call; a full
// cache starts over (programs that make streams without end).
struct WrappedStream {
  int32_t device_id;
  void* native;
  xrt_stream_t* stream;
};
constexpr size_t kMaxStreams = 32;
constexpr int32_t kMaxDevices = 64;
std::mutex g_streams_mutex;
std::vector<WrappedStream> g_streams;
std::array<xrt_device_t*, kMaxDevices> g_cuda_devices{};

// A retained stream for torch's current stream on `device`; null (no
// stream) for the CPU.
xrt_stream_t* current_stream(DLDevice device) {
  if (device.device_type != kDLCUDA) return nullptr;
  void* native = nullptr;
  TORCH_CHECK(g_exchange->current_work_stream(kDLCUDA, device.device_id, &native) == 0,
              "torch's current_work_stream failed for cuda:", device.device_id);
  xrt_status_t status = XRT_OK;
  std::string message;
  {
    std::lock_guard<std::mutex> lock(g_streams_mutex);
    for (const WrappedStream& wrapped : g_streams) {
      if (wrapped.device_id == device.device_id && wrapped.native == native) {
        xrt_stream_retain(wrapped.stream);
        return wrapped.stream;
      }
    }
    TORCH_CHECK(0 <= device.device_id && device.device_id < kMaxDevices, "CUDA device index ",
                device.device_id, " is out of range");
    xrt_device_t*& handle = g_cuda_devices[device.device_id];
    if (handle == nullptr) {
      status = xrt_device_by_name(("cuda:" + std::to_string(device.device_id)).c_str(), &handle);
    }
    xrt_stream_t* stream = nullptr;
    if (status == XRT_OK) status = xrt_stream_wrap(handle, native, &stream);
    if (status == XRT_OK) {
      if (g_streams.size() == kMaxStreams) {
        for (const WrappedStream& wrapped : g_streams) xrt_stream_release(wrapped.stream);
        g_streams.clear();
      }
      g_streams.push_back({device.device_id, native, stream});
      xrt_stream_retain(stream);
      return stream;
    }
    message = xrt_last_error();
  }
  // Raised outside the lock: raising takes the GIL.
  raise_error(status, message.empty() ? xrt_status_name(status) : message);
}

}  // namespace

void set_runtime_bridge(const DLPackExchangeAPI* exchange, PyObject* error_classes) {
  Py_INCREF(error_classes);
  g_error_classes = error_classes;
  g_exchange = exchange;
}

RuntimeCall::~RuntimeCall() {
  for (size_t i = 0; i < num_inputs_; ++i) xrt_tensor_release(inputs_[i]);
  xrt_stream_release(stream_);
}

void RuntimeCall::input(const Tensor& tensor) {
  TORCH_INTERNAL_ASSERT(num_inputs_ < inputs_.size());
  DLManagedTensorVersioned* managed = at::toDLPackVersioned(tensor);
  if (!has_device_) {
    device_ = managed->dl_tensor.device;
    has_device_ = true;
  }
  xrt_tensor_t* handle = nullptr;
  xrt_status_t status = xrt_tensor_from_dlpack(managed, &handle);
  if (status != XRT_OK) {
    std::string message = xrt_last_error();
    managed->deleter(managed);  // ownership stays here on failure
    raise_error(status, message);
  }
  inputs_[num_inputs_++] = handle;
}

void RuntimeCall::input(const OptTensor& tensor) {
  if (tensor.has_value()) {
    input(*tensor);
    return;
  }
  TORCH_INTERNAL_ASSERT(num_inputs_ < inputs_.size());
  inputs_[num_inputs_++] = nullptr;
}

void RuntimeCall::attr(const char* name, int64_t value) {
  attr_slot(name, XRT_ATTR_INT).i = value;
}

void RuntimeCall::attr(const char* name, double value) {
  attr_slot(name, XRT_ATTR_FLOAT).f = value;
}

xrt_attr_t& RuntimeCall::attr_slot(const char* name, xrt_attr_type_t type) {
  TORCH_INTERNAL_ASSERT(num_attrs_ < attrs_.size());
  xrt_attr_t& slot = attrs_[num_attrs_++];
  slot = xrt_attr_t{name, type, 0, 0.0};
  return slot;
}

std::vector<Tensor> RuntimeCall::run(size_t num_outputs) {
  TORCH_INTERNAL_ASSERT(num_outputs <= kMaxOutputs);
  if (!has_device_) invalid(std::string(op_) + ": every input is None");
  stream_ = current_stream(device_);
  std::array<xrt_tensor_t*, kMaxOutputs> outputs{};
  xrt_status_t status = XRT_OK;
  {
    // Nothing here needs Python; a caller holding the GIL lets others run.
    PyThreadState* saved = PyGILState_Check() ? PyEval_SaveThread() : nullptr;
    const xrt_tensor_t* const* inputs = inputs_.data();
    status = xrt_op_run_outputs(op_, inputs, num_inputs_, attrs_.data(), num_attrs_, stream_,
                                outputs.data(), num_outputs);
    std::string message = status == XRT_OK ? std::string() : xrt_last_error();
    if (saved != nullptr) PyEval_RestoreThread(saved);
    if (status != XRT_OK) {
      raise_error(status, message.empty() ? xrt_status_name(status) : message);
    }
  }
  std::vector<Tensor> results;
  results.reserve(num_outputs);
  for (size_t i = 0; i < num_outputs; ++i) {
    DLManagedTensorVersioned* managed = nullptr;
    status = xrt_tensor_to_dlpack(outputs[i], &managed);
    xrt_tensor_release(outputs[i]);  // the managed tensor holds its own reference
    if (status != XRT_OK) {
      std::string message = xrt_last_error();
      for (size_t j = i + 1; j < num_outputs; ++j) xrt_tensor_release(outputs[j]);
      raise_error(status, message);
    }
    results.push_back(at::fromDLPackVersioned(managed));
  }
  return results;
}

}  // namespace xrt_torch
