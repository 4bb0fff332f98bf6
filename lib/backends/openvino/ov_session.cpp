#include "ov_session.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "cache_folder.h"
#include "dtype_table.h"
#include "engine_cache_key.h"
#include "file_read.h"
#include "log_severity.h"
#include "ov_devices.h"
#include "ov_options.h"

using xrt::plugin::ValueInfo;

// One node of one run, as OpenVINO's per-request profile reports it.
struct NodeSpan {
  std::string name, node_type, exec_type;
  int64_t start_unix_ns, duration_ns;
  int64_t real_time_us;  // as OpenVINO reported it
};

struct xrt_plugin_session {
  xrt::ov::Owned<xrt::ov::ov_compiled_model_t> compiled;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::mutex pool_mutex;
  std::vector<xrt::ov::Owned<xrt::ov::ov_infer_request_t>> idle;  // requests not in a run
  std::string device;
  std::string log_level;  // OpenVINO's LOG_LEVEL of the compiled model, read back; "" if none
  std::string weights;  // an IR's weights given as a file with XML bytes; the model may share them
  bool profiling = false;
  std::mutex spans_mutex;
  std::vector<NodeSpan> spans;  // until collect_spans hands them over
};

namespace xrt::ov {
namespace {

struct DtypeMap {
  xrt_dtype_t dtype;
  int element;
};

// Indexed by xrt_dtype_t; sizes come from dtypes::kTable. OpenVINO's f8e4m3
// is E4M3FN (no infinities); it has no FNUZ types, so no model port can
// have one and inputs (checked against the ports) never do.
constexpr DtypeMap kDtypes[] = {
    {XRT_BOOL, kElemBoolean},
    {XRT_UINT8, kElemU8},
    {XRT_INT8, kElemI8},
    {XRT_INT16, kElemI16},
    {XRT_INT32, kElemI32},
    {XRT_INT64, kElemI64},
    {XRT_FLOAT16, kElemF16},
    {XRT_BFLOAT16, kElemBf16},
    {XRT_FLOAT32, kElemF32},
    {XRT_FLOAT64, kElemF64},
    {XRT_UINT16, kElemU16},
    {XRT_UINT32, kElemU32},
    {XRT_UINT64, kElemU64},
    {XRT_FLOAT8_E4M3FN, kElemF8E4M3},
    {XRT_FLOAT8_E5M2, kElemF8E5M2},
    {XRT_FLOAT8_E4M3FNUZ, kElemNone},
    {XRT_FLOAT8_E5M2FNUZ, kElemNone},
};
static_assert(std::size(kDtypes) == XRT_DTYPE_COUNT, "every dtype needs a row");

bool dtype_of(int element, xrt_dtype_t* out) {
  for (const DtypeMap& d : kDtypes) {
    if (d.element == element && element != kElemNone) {
      *out = d.dtype;
      return true;
    }
  }
  return false;
}

// The dtype a model needs that OpenVINO lacks, found in the message its
// ONNX reader gives ("Unsupported data type FLOAT8E4M3FNUZ"): such a model
// is valid, just not runnable here. nullptr for any other failure.
const char* missing_dtype(const char* message) {
  static constexpr struct {
    const char* onnx;
    xrt_dtype_t dtype;
  } kMissing[] = {
      {"Unsupported data type FLOAT8E4M3FNUZ", XRT_FLOAT8_E4M3FNUZ},
      {"Unsupported data type FLOAT8E5M2FNUZ", XRT_FLOAT8_E5M2FNUZ},
  };
  for (const auto& m : kMissing)
    if (std::strstr(message, m.onnx)) return dtypes::name_of(m.dtype);
  return nullptr;
}

// Names come from the model as read (compiling may rename a port's tensors).
void name_of(const ov_model_t* source, bool input, size_t index, std::string* name) {
  const Functions& f = api();
  ov_output_const_port_t* raw = nullptr;
  ov_status_e st = input ? f.model_const_input_by_index(source, index, &raw)
                         : f.model_const_output_by_index(source, index, &raw);
  if (st != kOk || !raw) return;
  Owned<ov_output_const_port_t> port(raw);
  char* text = nullptr;
  if (f.port_get_any_name(raw, &text) == kOk && text) {
    *name = text;
    f.free(text);
  }
}

xrt_status_t describe(const ov_compiled_model_t* model, const ov_model_t* source, bool input,
                      size_t index, ValueInfo* value, char* error, size_t capacity) {
  const Functions& f = api();
  const char* role = input ? "input" : "output";
  ov_output_const_port_t* raw = nullptr;
  ov_status_e st = input ? f.compiled_model_input_by_index(model, index, &raw)
                         : f.compiled_model_output_by_index(model, index, &raw);
  if (xrt_status_t s = take(st, error, capacity); s != XRT_OK) return s;
  Owned<ov_output_const_port_t> port(raw);
  char* name = nullptr;
  if (f.port_get_any_name(raw, &name) == kOk && name) {
    value->name = name;
    f.free(name);
  } else {
    value->name = std::string(role) + std::to_string(index);  // a port without names
  }
  name_of(source, input, index, &value->name);
  ov_element_type_e element = 0;
  if (xrt_status_t s = take(f.port_get_element_type(raw, &element), error, capacity);
      s != XRT_OK) {
    return s;
  }
  if (element == kElemString) {
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "openvino: %s '%s' has type tensor(string); the OpenVINO backend runs tensors "
                "of numbers only (the onnxruntime backend runs strings, sequences, maps and "
                "optionals)",
                role, value->name.c_str());
  }
  if (!dtype_of(element, &value->dtype)) {
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "openvino: %s '%s' has element type %d, which xpuruntime tensors cannot hold",
                role, value->name.c_str(), element);
  }
  ov_partial_shape_t shape{};
  if (xrt_status_t s = take(f.port_get_partial_shape(raw, &shape), error, capacity);
      s != XRT_OK) {
    return s;
  }
  xrt_status_t result = XRT_OK;
  if (shape.rank.min != shape.rank.max || shape.rank.max < 0) {
    result = fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "openvino: %s '%s' has a dynamic rank", role, value->name.c_str());
  } else if (shape.rank.max > XRT_MAX_DIMS) {
    result = fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "openvino: %s '%s' has %lld dimensions; at most %d are supported", role,
                  value->name.c_str(), static_cast<long long>(shape.rank.max), XRT_MAX_DIMS);
  } else {
    for (int64_t d = 0; d < shape.rank.max; ++d) {
      const ov_dimension_t& dim = shape.dims[d];
      value->shape.push_back(dim.min == dim.max && dim.min >= 0 ? dim.min : -1);
      value->dim_names.emplace_back();
    }
    value->seal();
  }
  f.partial_shape_free(&shape);
  return result;
}

xrt_status_t describe_all(xrt_plugin_session* s, const ov_model_t* source, char* error,
                          size_t capacity) {
  const Functions& f = api();
  size_t num_inputs = 0, num_outputs = 0;
  ov_status_e st = f.compiled_model_inputs_size(s->compiled.get(), &num_inputs);
  if (st == kOk) st = f.compiled_model_outputs_size(s->compiled.get(), &num_outputs);
  if (xrt_status_t r = take(st, error, capacity); r != XRT_OK) return r;
  s->inputs.resize(num_inputs);
  s->outputs.resize(num_outputs);
  for (size_t i = 0; i < num_inputs; ++i) {
    if (xrt_status_t r = describe(s->compiled.get(), source, true, i, &s->inputs[i], error, capacity);
        r != XRT_OK) {
      return r;
    }
  }
  for (size_t i = 0; i < num_outputs; ++i) {
    if (xrt_status_t r = describe(s->compiled.get(), source, false, i, &s->outputs[i], error, capacity);
        r != XRT_OK) {
      return r;
    }
  }
  return XRT_OK;
}

// <cache_dir>/<key>: a digest of the model, the properties, OpenVINO's version
// and the device, so a changed model or setting never picks up a stale blob.
// The key covers the model and, for IR, its weights.
std::string keyed_cache_dir(const SessionConfig& config, const char* path, const void* data,
                            size_t size, const std::string& weights) {
  std::string bytes;
  if (path) {
    plugin::read_whole_file(path, &bytes);  // unreadable: OpenVINO's compile says why
  } else {
    bytes.assign(static_cast<const char*>(data), size);
  }
  bytes += weights;
  data = bytes.data();
  size = bytes.size();
  xrt::ort::EngineCacheInputs inputs;
  inputs.model = data;
  inputs.model_size = size;
  inputs.engine_options = config.properties;
  inputs.tensorrt_version = std::string("openvino ") + version();
  inputs.gpu = config.device;
  return config.cache_dir + "/" + xrt::ort::engine_cache_key(inputs);
}

// OpenVINO's LOG_LEVEL for the runtime's one severity knob. OpenVINO has no
// fatal level; its fatal failures come back as errors anyway.
const char* ov_log_level(int severity) {
  static constexpr const char* kLevels[] = {"LOG_TRACE", "LOG_INFO", "LOG_WARNING", "LOG_ERROR",
                                            "LOG_NONE"};
  return kLevels[severity];
}

// A device plugin that does not list LOG_LEVEL fails a compile that sets it.
bool takes_log_level(const std::string& device) {
  const Functions& f = api();
  char ignored[256];
  const ov_core_t* c = core(ignored, sizeof ignored);
  char* supported = nullptr;
  if (!c || f.core_get_property(c, device.c_str(), "SUPPORTED_PROPERTIES", &supported) != kOk ||
      !supported)
    return false;
  const bool takes = std::strstr(supported, "LOG_LEVEL") != nullptr;
  f.free(supported);
  return takes;
}

xrt_status_t compile(const ov_model_t* model, const SessionConfig& config,
                     const std::vector<std::pair<std::string, std::string>>& props,
                     ov_compiled_model_t** out, char* error, size_t capacity) {
  const Functions& f = api();
  const ov_core_t* c = core(error, capacity);
  if (!c) return XRT_ERROR_BACKEND;
  // The C API takes properties as varargs; every option maps to at most one
  // pair, so seven pairs hold them all.
  constexpr size_t kMaxPairs = 7;
  if (props.size() > kMaxPairs) {
    return fail(XRT_ERROR_INTERNAL, error, capacity, "openvino: %zu compile properties, at most %zu",
                props.size(), kMaxPairs);
  }
  std::array<const char*, 2 * kMaxPairs> a{};
  for (size_t i = 0; i < props.size(); ++i) {
    a[2 * i] = props[i].first.c_str();
    a[2 * i + 1] = props[i].second.c_str();
  }
  return take(f.core_compile_model(c, model, config.device.c_str(), 2 * props.size(), out, a[0],
                                   a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
                                   a[11], a[12], a[13]),
              error, capacity);
}

int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// OpenVINO reports how long each node ran, not when: the executed nodes are
// laid out one after another from the run's start, in the order reported.
// Their times can add up to more than the run took (nodes overlap on the
// CPU's threads), so the layout is then scaled to fit the run; each span
// keeps OpenVINO's own figure in its real_time_us argument.
void record_profile(xrt_plugin_session* s, const ov_infer_request_t* request, int64_t start,
                    int64_t end) {
  const Functions& f = api();
  ov_profiling_info_list_t list{};
  if (f.infer_request_get_profiling_info(request, &list) != kOk) return;
  int64_t total_us = 0;
  for (size_t i = 0; i < list.size; ++i)
    if (list.profiling_infos[i].status == kProfileExecuted) total_us += list.profiling_infos[i].real_time;
  const double run_ns = static_cast<double>(end - start);
  const double scale = total_us * 1000.0 > run_ns ? run_ns / (total_us * 1000.0) : 1.0;
  std::vector<NodeSpan> run;
  double cursor = static_cast<double>(start);
  for (size_t i = 0; i < list.size; ++i) {
    const ov_profiling_info_t& node = list.profiling_infos[i];
    if (node.status != kProfileExecuted) continue;
    const double duration = node.real_time * 1000.0 * scale;
    run.push_back({node.node_name ? node.node_name : "", node.node_type ? node.node_type : "",
                   node.exec_type ? node.exec_type : "", static_cast<int64_t>(cursor),
                   static_cast<int64_t>(duration), node.real_time});
    cursor += duration;
  }
  f.profiling_info_list_free(&list);
  std::lock_guard<std::mutex> lock(s->spans_mutex);
  s->spans.insert(s->spans.end(), run.begin(), run.end());
}

// An infer request borrowed from the session's pool for one run.
class Borrowed {
 public:
  explicit Borrowed(xrt_plugin_session* s) : s_(s) {
    std::lock_guard<std::mutex> lock(s->pool_mutex);
    if (!s->idle.empty()) {
      request_ = std::move(s->idle.back());
      s->idle.pop_back();
    }
  }
  ~Borrowed() {
    if (!request_) return;
    std::lock_guard<std::mutex> lock(s_->pool_mutex);
    s_->idle.push_back(std::move(request_));
  }
  xrt_status_t get(ov_infer_request_t** out, char* error, size_t capacity) {
    if (!request_) {
      ov_infer_request_t* raw = nullptr;
      if (xrt_status_t st = take(
              api().compiled_model_create_infer_request(s_->compiled.get(), &raw), error,
              capacity);
          st != XRT_OK) {
        return st;
      }
      request_.reset(raw);
    }
    *out = request_.get();
    return XRT_OK;
  }

 private:
  xrt_plugin_session* s_;
  Owned<ov_infer_request_t> request_;
};

}  // namespace

xrt_status_t session_create(const char* path, const void* data, size_t size,
                            xrt_device_kind_t device_kind, int32_t device_index,
                            const xrt_option_t* options, size_t num_options,
                            xrt_plugin_session_t** out, char* error, size_t capacity) {
  return session_create_on(path, data, size, device_kind == XRT_DEVICE_CPU ? "cpu" : "cuda",
                           device_index, options, num_options, out, error, capacity);
}

xrt_status_t session_create_on(const char* path, const void* data, size_t size,
                               const char* kind_name, int32_t device_index,
                               const xrt_option_t* options, size_t num_options,
                               xrt_plugin_session_t** out, char* error, size_t capacity) {
  if (!load()) {
    return fail(XRT_ERROR_BACKEND, error, capacity, "%s", unavailable_reason().c_str());
  }
  const std::string kind = kind_name ? kind_name : "";
  std::string target;  // OpenVINO's device for an npu or gpu session
  if (kind != "cpu") {
    if (kind != "npu" && kind != "gpu") {
      return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "openvino: runs models on cpu, npu and gpu devices, not %s:%d (its tensors "
                  "are in host memory)", kind.c_str(), static_cast<int>(device_index));
    }
    target = openvino_device(kind, device_index);
    if (target.empty()) {
      return fail(XRT_ERROR_NOT_FOUND, error, capacity, "openvino: OpenVINO has no %s:%d (%s)",
                  kind.c_str(), static_cast<int>(device_index), details());
    }
  }
  if (!out || (path == nullptr) == (data == nullptr)) {
    return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                "openvino: give either a model path or model bytes");
  }
  if (data && size == 0) {
    return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity, "openvino: the model is empty");
  }
  // OpenVINO reports a missing file as a general failure; say NOT_FOUND, as
  // the ONNX Runtime backend does.
  if (struct stat st {}; path && stat(path, &st) != 0) {
    return fail(XRT_ERROR_NOT_FOUND, error, capacity, "openvino: cannot open model '%s': %s",
                path, std::strerror(errno));
  }
  const ov_core_t* c = core(error, capacity);
  if (!c) return XRT_ERROR_BACKEND;
  SessionConfig config;
  if (xrt_status_t s = parse_options(options, num_options, target, &config, error, capacity);
      s != XRT_OK) {
    return s;
  }
  auto session = std::make_unique<xrt_plugin_session>();
  if (!config.weights_path.empty()) {
    const std::string why = plugin::read_whole_file(config.weights_path.c_str(),
                                                    &session->weights);
    if (!why.empty()) {
      return fail(XRT_ERROR_NOT_FOUND, error, capacity,
                  "openvino: cannot read weights_path '%s': %s", config.weights_path.c_str(),
                  why.c_str());
    }
  }
  auto props = config.properties;
  if (takes_log_level(config.device))
    props.emplace_back("LOG_LEVEL", ov_log_level(config.log_severity >= 0
                                                     ? config.log_severity
                                                     : plugin::default_log_severity()));
  if (!config.cache_dir.empty()) {
    // OpenVINO fails the compile on a folder it cannot create; blobs it
    // cannot read or write it rebuilds by itself.
    const std::string folder = keyed_cache_dir(config, path, data, size, session->weights);
    const std::string unusable = plugin::prepare_cache_folder(folder);
    if (unusable.empty()) {
      props.emplace_back("CACHE_DIR", folder);
    } else {
      plugin::warn("openvino: compiling without the model cache: %s", unusable.c_str());
    }
  }

  const Functions& f = api();
  Owned<ov_tensor_t> weights;
  if (data && !session->weights.empty()) {
    ov_shape_t shape{1, nullptr};
    int64_t extent = static_cast<int64_t>(session->weights.size());
    shape.dims = &extent;
    ov_tensor_t* raw = nullptr;
    if (xrt_status_t s = take(f.tensor_create_from_host_ptr(kElemU8, shape,
                                                            session->weights.data(), &raw),
                              error, capacity);
        s != XRT_OK) {
      return s;
    }
    weights.reset(raw);
  }
  ov_model_t* raw_model = nullptr;
  ov_status_e st =
      path ? f.core_read_model(c, path,
                               config.weights_path.empty() ? nullptr : config.weights_path.c_str(),
                               &raw_model)
           : f.core_read_model_from_memory_buffer(c, static_cast<const char*>(data), size,
                                                  weights.get(), &raw_model);
  if (st != kOk) {
    // Whatever OpenVINO's code, a model it cannot read is the caller's input,
    // unless it uses a dtype OpenVINO does not have.
    xrt_status_t s = take(st, error, capacity);
    if (const char* dtype = error && capacity ? missing_dtype(error) : nullptr) {
      constexpr char kPrefix[] = "openvino: ";  // take()'s, said once
      const std::string reason =
          error + (std::strncmp(error, kPrefix, sizeof kPrefix - 1) == 0 ? sizeof kPrefix - 1 : 0);
      return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "openvino: the model uses dtype %s, which OpenVINO does not support (%s)",
                  dtype, reason.c_str());
    }
    return s == XRT_ERROR_NOT_FOUND ? s : XRT_ERROR_INVALID_ARGUMENT;
  }
  Owned<ov_model_t> model(raw_model);

  ov_compiled_model_t* raw_compiled = nullptr;
  if (xrt_status_t s = compile(model.get(), config, props, &raw_compiled, error, capacity);
      s != XRT_OK) {
    return s;
  }
  session->compiled.reset(raw_compiled);
  session->device = config.device;
  session->profiling = config.profiling;
  char* level = nullptr;
  if (api().compiled_model_get_property(session->compiled.get(), "LOG_LEVEL", &level) == kOk &&
      level) {
    session->log_level = level;
    api().free(level);
  }
  if (xrt_status_t s = describe_all(session.get(), model.get(), error, capacity); s != XRT_OK) return s;
  *out = session.release();
  return XRT_OK;
}

void session_destroy(xrt_plugin_session_t* session) { delete session; }

const char* session_property(const xrt_plugin_session_t* session, const char* key) {
  if (std::strcmp(key, "log_level") == 0 && !session->log_level.empty())
    return session->log_level.c_str();
  return nullptr;
}

size_t session_input_count(const xrt_plugin_session_t* session) {
  return session->inputs.size();
}

size_t session_output_count(const xrt_plugin_session_t* session) {
  return session->outputs.size();
}

xrt_status_t session_input_info(const xrt_plugin_session_t* session, size_t index,
                                xrt_value_info_t* info) {
  return plugin::describe_value(session->inputs, index, info);
}

xrt_status_t session_output_info(const xrt_plugin_session_t* session, size_t index,
                                 xrt_value_info_t* info) {
  return plugin::describe_value(session->outputs, index, info);
}

xrt_status_t session_run(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                         size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                         const xrt_session_outputs_t* outputs, char* error, size_t capacity) {
  const Functions& f = api();
  if (num_inputs != session->inputs.size()) {
    return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                "openvino: the model takes %zu inputs, got %zu", session->inputs.size(),
                num_inputs);
  }
  for (size_t j = 0; j < num_outputs; ++j) {
    if (output_indices[j] >= session->outputs.size()) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "openvino: output index %zu out of range", output_indices[j]);
    }
  }
  Borrowed borrowed(session);
  ov_infer_request_t* request = nullptr;
  if (xrt_status_t s = borrowed.get(&request, error, capacity); s != XRT_OK) return s;

  for (size_t i = 0; i < num_inputs; ++i) {
    const xrt_kernel_tensor_t& t = inputs[i];
    if (!dtypes::known(t.dtype)) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity, "openvino: bad dtype");
    }
    // Zero copy: the tensor wraps the runtime's buffer for this run only.
    ov_shape_t shape{t.ndim, const_cast<int64_t*>(t.shape)};
    ov_tensor_t* raw = nullptr;
    if (xrt_status_t s = take(
            f.tensor_create_from_host_ptr(kDtypes[t.dtype].element, shape, t.data, &raw), error,
            capacity);
        s != XRT_OK) {
      return s;
    }
    Owned<ov_tensor_t> tensor(raw);
    if (xrt_status_t s =
            take(f.infer_request_set_input_tensor_by_index(request, i, raw), error, capacity);
        s != XRT_OK) {
      return s;
    }
  }
  const int64_t start = session->profiling ? unix_ns() : 0;
  if (xrt_status_t s = take(f.infer_request_infer(request), error, capacity); s != XRT_OK) {
    return s;
  }
  if (session->profiling) record_profile(session, request, start, unix_ns());

  for (size_t j = 0; j < num_outputs; ++j) {
    const ValueInfo& info = session->outputs[output_indices[j]];
    ov_tensor_t* raw = nullptr;
    if (xrt_status_t s = take(
            f.infer_request_get_output_tensor_by_index(request, output_indices[j], &raw), error,
            capacity);
        s != XRT_OK) {
      return s;
    }
    Owned<ov_tensor_t> tensor(raw);
    ov_element_type_e element = 0;
    ov_shape_t shape{};
    void* src = nullptr;
    ov_status_e st = f.tensor_get_element_type(raw, &element);
    if (st == kOk) st = f.tensor_data(raw, &src);
    if (st == kOk) st = f.tensor_get_shape(raw, &shape);
    if (xrt_status_t s = take(st, error, capacity); s != XRT_OK) return s;
    std::array<int64_t, XRT_MAX_DIMS> dims{};
    const int64_t ndim = shape.rank;
    if (ndim >= 0 && ndim <= XRT_MAX_DIMS) std::copy(shape.dims, shape.dims + ndim, dims.data());
    f.shape_free(&shape);
    xrt_dtype_t dtype;
    if (!dtype_of(element, &dtype) || ndim < 0 || ndim > XRT_MAX_DIMS) {
      return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "openvino: output '%s' came back as element type %d with %lld dimensions",
                  info.name.c_str(), element, static_cast<long long>(ndim));
    }
    size_t bytes = dtypes::size_of(dtype);
    for (int64_t d = 0; d < ndim; ++d) bytes *= static_cast<size_t>(dims[d]);
    // OpenVINO's output is its own memory: it is copied into the caller's
    // tensor when there is one that fits, else into a new one (a caller's
    // tensor that does not fit is then refused by the runtime, by name).
    xrt_kernel_tensor_t given{};
    void* dst = nullptr;
    if (plugin::given_output(outputs, j, &given) && given.dtype == dtype &&
        given.ndim == ndim && std::equal(dims.data(), dims.data() + ndim, given.shape)) {
      dst = given.data;
    } else if (xrt_status_t s = outputs->alloc_output(outputs->context, j, dtype,
                                                      static_cast<int32_t>(ndim), dims.data(),
                                                      &dst);
               s != XRT_OK) {
      return fail(s, error, capacity, "openvino: no memory for output '%s'", info.name.c_str());
    }
    if (bytes) std::memcpy(dst, src, bytes);
  }
  return XRT_OK;
}

void session_collect_spans(xrt_plugin_session_t* session, const xrt_span_sink_t* sink) {
  std::vector<NodeSpan> spans;
  {
    std::lock_guard<std::mutex> lock(session->spans_mutex);
    spans.swap(session->spans);
  }
  const std::string category = "openvino.Node";
  for (const NodeSpan& span : spans) {
    const std::string real_time = std::to_string(span.real_time_us);
    const char* keys[4] = {"op", "exec_type", "device", "real_time_us"};
    const char* values[4] = {span.node_type.c_str(), span.exec_type.c_str(),
                             session->device.c_str(), real_time.c_str()};
    sink->record(sink->context, span.name.c_str(), category.c_str(), span.start_unix_ns,
                 span.duration_ns, keys, values, 4);
  }
}

}  // namespace xrt::ov
