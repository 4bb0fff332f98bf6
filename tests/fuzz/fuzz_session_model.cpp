// Fuzzes model loading: the input is an ONNX model (protobuf bytes) handed to
// xrt_session_create on the ONNX Runtime backend and the CPU device. A model
// that loads has its metadata read back and is run once with zero-filled
// inputs made from its declared inputs (symbolic dimensions set from the
// input; now and then one input's dtype or rank is wrong on purpose).
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"

namespace {

constexpr int64_t kMaxInputElements = 1 << 16;
constexpr size_t kMaxValues = 64;

// The plugin finds ONNX Runtime through XRT_ONNXRUNTIME_LIB (tools/fuzz sets
// it); without it every input would only test the error path.
void require_onnxruntime() {
  int32_t count = 0;
  FUZZ_CHECK(xrt_backend_count(&count) == XRT_OK);
  for (int32_t i = 0; i < count; ++i) {
    xrt_backend_info_t info = {sizeof info};
    if (xrt_backend_info(i, &info) != XRT_OK || std::strcmp(info.name, "onnxruntime") != 0)
      continue;
    if (info.available) return;
    std::fprintf(stderr, "the onnxruntime backend is unavailable: %s\n", info.reason);
    std::abort();
  }
  std::fprintf(stderr, "no onnxruntime plugin was found next to the library\n");
  std::abort();
}

void read_metadata(const xrt_session_t* session, size_t inputs, size_t outputs) {
  const char* text = nullptr;
  FUZZ_CHECK(xrt_session_backend(session, &text) == XRT_OK && std::strcmp(text, "onnxruntime") == 0);
  FUZZ_CHECK(known_status(xrt_session_property(session, "providers", &text)));
  xrt_value_info_t info = {sizeof info};
  FUZZ_CHECK(xrt_session_input_info(session, inputs, &info) != XRT_OK);  // one past the end
  for (size_t i = 0; i < outputs; ++i) {
    FUZZ_CHECK(xrt_session_output_info(session, i, &info) == XRT_OK && info.name);
    for (int32_t d = 0; d < info.ndim; ++d) FUZZ_CHECK(info.shape[d] >= -1 && info.dim_names[d]);
  }
}

// A zero-filled tensor for one declared input, or nullptr when the model
// asks for more than a fuzz run should allocate.
TensorPtr make_feed(const xrt_value_info_t& info, FuzzedDataProvider& in) {
  xrt_dtype_t dtype = info.dtype;
  int32_t ndim = info.ndim;
  int64_t shape[XRT_MAX_DIMS] = {};
  if (ndim > XRT_MAX_DIMS) return nullptr;
  int64_t numel = 1;
  for (int32_t d = 0; d < ndim; ++d) {
    shape[d] = info.shape[d] >= 0 ? info.shape[d] : in.ConsumeIntegralInRange<int64_t>(0, 3);
    if (shape[d] > kMaxInputElements || (numel *= shape[d]) > kMaxInputElements) return nullptr;
  }
  if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
    dtype = static_cast<xrt_dtype_t>(in.ConsumeIntegralInRange<int>(0, XRT_DTYPE_COUNT - 1));
  } else if (in.ConsumeIntegralInRange<int>(0, 15) == 0 && ndim < XRT_MAX_DIMS) {
    shape[ndim++] = 1;
  }
  xrt_tensor_t* raw = nullptr;
  if (xrt_tensor_zeros(cpu_device(), dtype, ndim, shape, &raw) != XRT_OK) return nullptr;
  return TensorPtr(raw);
}

// Outputs for xrt_session_run_into: for some declared outputs a zero-filled
// tensor of their shape (sometimes of a wrong dtype or rank, as make_feed
// makes them), now and then one of the inputs (which must be refused).
void give_outputs(xrt_session_t* session, const std::vector<const xrt_tensor_t*>& feeds,
                  FuzzedDataProvider& in, std::vector<xrt_tensor_t*>& outputs,
                  std::vector<TensorPtr>& given) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int choice = in.ConsumeIntegralInRange<int>(0, 7);
    if (choice == 0 && !feeds.empty()) {
      outputs[i] = const_cast<xrt_tensor_t*>(feeds[in.ConsumeIntegralInRange<size_t>(
          0, feeds.size() - 1)]);  // not written: the run refuses the alias first
      continue;
    }
    if (choice > 4) continue;  // this one the backend produces
    xrt_value_info_t info = {sizeof info};
    FUZZ_CHECK(xrt_session_output_info(session, i, &info) == XRT_OK);
    if (info.kind != XRT_VALUE_TENSOR) continue;
    given.push_back(make_feed(info, in));
    outputs[i] = given.back().get();
  }
}

void run_once(xrt_session_t* session, size_t num_inputs, size_t num_outputs,
              FuzzedDataProvider& in) {
  std::vector<TensorPtr> owned;
  std::vector<const xrt_tensor_t*> feeds;
  std::vector<const char*> names;
  for (size_t i = 0; i < num_inputs; ++i) {
    xrt_value_info_t info = {sizeof info};
    FUZZ_CHECK(xrt_session_input_info(session, i, &info) == XRT_OK && info.name);
    owned.push_back(make_feed(info, in));
    if (!owned.back()) return;
    feeds.push_back(owned.back().get());
    names.push_back(info.name);
  }
  std::vector<xrt_tensor_t*> outputs(num_outputs, nullptr);
  std::vector<TensorPtr> given;  // the caller's outputs when the run writes into them
  const bool run_into = in.ConsumeIntegralInRange<int>(0, 3) == 0;
  if (run_into) give_outputs(session, feeds, in, outputs, given);
  const std::vector<xrt_tensor_t*> before = outputs;
  const xrt_status_t status =
      run_into ? xrt_session_run_into(session, nullptr, names.data(), feeds.data(), num_inputs,
                                      nullptr, num_outputs, outputs.data())
               : xrt_session_run(session, names.data(), feeds.data(), num_inputs, nullptr,
                                 num_outputs, outputs.data());
  FUZZ_CHECK(known_status(status));
  for (size_t i = 0; i < num_outputs; ++i) {
    if (before[i]) {  // given: still the caller's, whatever the outcome
      FUZZ_CHECK(outputs[i] == before[i]);
      continue;
    }
    FUZZ_CHECK((outputs[i] != nullptr) == (status == XRT_OK));
    xrt_tensor_release(outputs[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  require_onnxruntime();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One intra-op thread: a fuzz run measures inputs, not parallelism.
  const xrt_option_t options[] = {{"intra_op_num_threads", "1"}, {"inter_op_num_threads", "1"}};
  xrt_session_t* raw = nullptr;
  const xrt_status_t status = xrt_session_create(nullptr, data, size, "onnxruntime", cpu_device(),
                                                 options, 2, &raw);
  FUZZ_CHECK(known_status(status));
  if (status != XRT_OK) return 0;
  SessionPtr session(raw);
  size_t inputs = 0, outputs = 0;
  FUZZ_CHECK(xrt_session_input_count(raw, &inputs) == XRT_OK);
  FUZZ_CHECK(xrt_session_output_count(raw, &outputs) == XRT_OK);
  read_metadata(raw, inputs, outputs);
  if (inputs > kMaxValues || outputs > kMaxValues) return 0;
  // The feed's free choices (symbolic dimensions, wrong dtypes) come from the
  // model bytes' tail, so they change as the model mutates.
  FuzzedDataProvider in(data + size / 2, size - size / 2);
  run_once(raw, inputs, outputs, in);
  return 0;
}
