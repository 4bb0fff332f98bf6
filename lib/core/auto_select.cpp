#include "auto_select.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cache_folder.h"
#include "engine_cache_key.h"
#include "error.h"
#include "file_read.h"
#include "file_write.h"
#include "plugin_loader.h"
#include "profiler.h"
#include "runtime.h"
#include "session.h"
#include "tensor.h"

namespace xrt {
namespace {

enum class Policy { latency, throughput, prefer_npu, first };

// After one warm-up run a candidate runs until either limit: enough runs
// for a stable median on a tiny model, a bounded wait on a large one.
constexpr int kMaxRuns = 50;
constexpr int kMinRuns = 3;
constexpr std::chrono::milliseconds kBudget{40};

Policy parse_policy(const std::string& text) {
  if (text == "latency") return Policy::latency;
  if (text == "throughput") return Policy::throughput;
  if (text == "prefer_npu") return Policy::prefer_npu;
  if (text == "first") return Policy::first;
  fail(XRT_ERROR_INVALID_ARGUMENT, "unknown policy '", text,
       "' (expected latency, throughput, prefer_npu or first)");
}

using Options = std::vector<std::pair<std::string, std::string>>;

struct Candidate {
  const Backend* backend = nullptr;
  std::string label;  // "onnxruntime", "onnxruntime+tensorrt", "openvino:NPU"
  Options extra;      // options that make this variant of the backend
  bool npu = false;
  std::string error;  // why it could not be created or run
  xrt_status_t status = XRT_OK;
  double median_us = -1;
  double runs_per_s = -1;
  int runs = 0;
};

struct SessionRef {
  xrt_session* s = nullptr;
  SessionRef() = default;
  SessionRef(const SessionRef&) = delete;
  SessionRef& operator=(const SessionRef&) = delete;
  ~SessionRef() { session_release(s); }
  xrt_session* release() { return std::exchange(s, nullptr); }
};

bool has_option(const Options& options, const char* key) {
  return std::any_of(options.begin(), options.end(),
                     [&](const auto& kv) { return kv.first == key; });
}

Candidate candidate(const Backend& b, std::string label, Options extra) {
  Candidate c;
  c.backend = &b;
  c.label = std::move(label);
  c.extra = std::move(extra);
  return c;
}

bool runs_models(const Backend& b) { return b.sessions && b.reason.empty(); }

// A device a backend brought (OpenVINO's "npu:0") is served by that backend
// alone when it runs models. Otherwise every backend that runs models, and
// the variants a backend can offer on this device unless the caller's
// options already pin one.
std::vector<Candidate> candidates(const xrt_device* device, const Options& options) {
  std::vector<Candidate> out;
  Runtime& runtime = Runtime::get();
  for (size_t i = 0; i < runtime.backend_count(); ++i) {
    const Backend& b = runtime.backend(i);
    if (b.name == device->backend && runs_models(b)) return {candidate(b, b.name, {})};
  }
  for (size_t i = 0; i < runtime.backend_count(); ++i) {
    const Backend& b = runtime.backend(i);
    if (!runs_models(b)) continue;
    out.push_back(candidate(b, b.name, {}));
    const char* details_text = session_details(b.sessions);
    const std::string details = details_text ? details_text : "";
    const bool cuda = device->kind == XRT_DEVICE_CUDA;
    if (b.name == "onnxruntime" && cuda && !has_option(options, "providers") &&
        details.find("TensorrtExecutionProvider") != std::string::npos)
      out.push_back(candidate(b, "onnxruntime+tensorrt",
                              {{"providers", "TensorrtExecutionProvider,CUDAExecutionProvider"}}));
    if (b.name == "openvino" && device->kind == XRT_DEVICE_CPU &&
        !has_option(options, "openvino_device")) {
      for (const char* target : {"NPU", "GPU"}) {
        if (details.find(target) == std::string::npos) continue;
        Candidate c = candidate(b, std::string("openvino:") + target, {{"openvino_device", target}});
        c.npu = std::strcmp(target, "NPU") == 0;
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

xrt_session* create(const Candidate& c, const char* path, const void* data, size_t size,
                    xrt_device* device, const Options& options) {
  Options all = options;
  all.insert(all.end(), c.extra.begin(), c.extra.end());
  std::vector<xrt_option_t> flat;
  for (const auto& [k, v] : all) flat.push_back({k.c_str(), v.c_str()});
  return session_create_on(*c.backend, path, data, size, device, flat.data(), flat.size());
}

// Zero-filled inputs of the model's shapes, dimensions fixed only at run
// time set to 1: the model's own inputs, not a guessed workload.
struct Inputs {
  std::vector<TensorRef> tensors;
  std::vector<const char*> names;
  std::vector<const xrt_tensor_t*> pointers;
};

Inputs make_inputs(xrt_session* s) {
  Inputs in;
  for (const xrt_value_info_t& v : s->inputs) {
    if (v.kind != XRT_VALUE_TENSOR)  // strings, sequences, maps: no zero value to run on
      fail(XRT_ERROR_UNSUPPORTED, "input '", v.name, "' is ", v.type ? v.type : "not a tensor",
           ", which is not measured");
    std::vector<int64_t> shape(v.shape, v.shape + v.ndim);
    for (int64_t& d : shape) d = d < 0 ? 1 : d;
    TensorRef t(tensor_create(s->device, v.dtype, v.ndim, shape.data()));
    tensor_fill_zero(t.get());
    in.pointers.push_back(t.get());
    in.names.push_back(v.name);
    in.tensors.push_back(std::move(t));
  }
  return in;
}

void run_once(xrt_session* s, const Inputs& in) {
  std::vector<xrt_tensor_t*> outs(s->outputs.size(), nullptr);
  session_run(s, nullptr, in.names.data(), in.pointers.data(), in.pointers.size(), nullptr,
              outs.size(), outs.data());
  for (xrt_tensor_t* t : outs) tensor_release(t);
  const xrt_device* d = s->device;
  if (d->api)  // a GPU run is queued: time it to completion
    check_device_call(d, d->api->stream_synchronize(d->index, nullptr), "timing a run");
}

void measure_latency(xrt_session* s, const Inputs& in, Candidate* c) {
  using clock = std::chrono::steady_clock;
  run_once(s, in);  // warm-up: first-run allocations and lazy compilation
  std::vector<double> times;
  const auto deadline = clock::now() + kBudget;
  while (static_cast<int>(times.size()) < kMaxRuns &&
         (static_cast<int>(times.size()) < kMinRuns || clock::now() < deadline)) {
    const auto start = clock::now();
    run_once(s, in);
    times.push_back(std::chrono::duration<double, std::micro>(clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  c->runs = static_cast<int>(times.size());
  c->median_us = times[times.size() / 2];
  c->runs_per_s = 1e6 / c->median_us;
}

// Runs from one thread per core for the budget: what a server sees.
void measure_throughput(xrt_session* s, const Inputs& in, Candidate* c) {
  using clock = std::chrono::steady_clock;
  run_once(s, in);
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::atomic<int> runs{0};
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mutex;
  const auto start = clock::now();
  const auto deadline = start + kBudget;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      try {
        while (!failed && (runs < kMinRuns || clock::now() < deadline) && runs < kMaxRuns * 4) {
          run_once(s, in);
          ++runs;
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!failed.exchange(true)) error = e.what();
      }
    });
  for (std::thread& t : pool) t.join();
  if (failed) throw Error(XRT_ERROR_BACKEND, error);
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  c->runs = runs;
  c->runs_per_s = runs / seconds;
  c->median_us = 1e6 * seconds * threads / runs;  // mean time of one run
}

xrt_status_t status_of(const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  return error ? error->status() : XRT_ERROR_INTERNAL;
}

// Tabs and newlines would break the report's lines.
std::string one_line(std::string text) {
  for (char& ch : text)
    if (ch == '\t' || ch == '\n' || ch == '\r') ch = ' ';
  return text;
}

std::string fixed(double value) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << value;
  return out.str();
}

// Line 1: policy, chosen label; then one line per candidate. Key=value
// fields separated by tabs.
std::string report(const char* policy, const std::string& chosen,
                   const std::vector<Candidate>& all) {
  std::string text = std::string("policy=") + policy + "\tchosen=" + chosen + "\n";
  for (const Candidate& c : all) {
    text += "candidate=" + c.label + "\tbackend=" + c.backend->name;
    if (c.error.empty() && c.runs > 0)
      text += "\tmedian_us=" + fixed(c.median_us) + "\truns=" + std::to_string(c.runs) +
              "\truns_per_s=" + fixed(c.runs_per_s);
    if (!c.error.empty()) text += "\terror=" + one_line(c.error);
    text += "\n";
  }
  return text;
}

// A model given by path is read for its key; bytes are keyed in place. A
// path that cannot be read keys as empty: the candidates then fail on it,
// each with its own message.
std::string read_model_file(const char* path) {
  std::string bytes;
  if (path) plugin::read_whole_file(path, &bytes);
  return bytes;
}

// The choice depends on the model, the options, the policy, the backends
// (and their versions) on offer and the device: all go into the key, so a
// change in any of them measures again.
std::string cache_file(const void* model, size_t model_size, const Options& options,
                       const char* policy, const std::vector<Candidate>& all,
                       const xrt_device* device) {
  ort::EngineCacheInputs key;
  key.model = model;
  key.model_size = model_size;
  key.engine_options = options;
  key.engine_options.emplace_back(kAutoPolicyOption, policy);
  for (const Candidate& c : all)
    key.engine_options.emplace_back("candidate." + c.label, c.backend->version);
  key.gpu = device->name;
  return plugin::cache_root() + "/auto/" + ort::engine_cache_key(key);
}

std::string cached_choice(const std::string& file, std::string* text) {
  if (!plugin::read_whole_file(file.c_str(), text).empty()) return "";
  const std::string tag = "\tchosen=";
  const size_t at = text->find(tag);
  if (at == std::string::npos) return "";
  const size_t end = text->find('\n', at);
  return text->substr(at + tag.size(), end == std::string::npos ? end : end - at - tag.size());
}

void store_choice(const std::string& file, const std::string& text) {
  const std::string folder = file.substr(0, file.rfind('/'));
  const std::string unusable = plugin::prepare_cache_folder(folder);
  if (!unusable.empty()) {
    plugin::warn("backend 'auto' measures again next time: %s", unusable.c_str());
    return;
  }
  try {
    write_file_atomically(file, text);
  } catch (const std::exception& e) {
    plugin::warn("backend 'auto' measures again next time: %s", e.what());
  }
}

std::string with_cost(const std::string& text, bool cached, double cost_ms) {
  const size_t eol = text.find('\n');
  return text.substr(0, eol) + "\tcached=" + (cached ? "1" : "0") + "\tcost_ms=" +
         fixed(cost_ms) + text.substr(eol);
}

}  // namespace

xrt_session* auto_session_create(const char* path, const void* data, size_t size,
                                 xrt_device* device, const xrt_option_t* options,
                                 size_t num_options) {
  const auto started = std::chrono::steady_clock::now();
  auto cost_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
        .count();
  };
  std::string policy_name = "latency";
  Options rest;
  for (size_t i = 0; i < num_options; ++i) {
    if (std::strcmp(options[i].key, kAutoPolicyOption) == 0)
      policy_name = options[i].value;
    else
      rest.emplace_back(options[i].key, options[i].value);
  }
  const Policy policy = parse_policy(policy_name);
  const char* policy_c = policy_name.c_str();
  ProfileSpan span("session", "session.auto_select");
  span.arg("policy", policy_name);

  std::vector<Candidate> all = candidates(device, rest);
  if (all.empty())
    fail(XRT_ERROR_NOT_FOUND, "no available backend runs models on ", device->name,
         " (install the ONNX Runtime backend: pip install onnxruntime)");
  if (policy == Policy::first || all.size() == 1) {
    SessionRef s;
    s.s = create(all[0], path, data, size, device, rest);
    s.s->selection = with_cost(report(policy_c, all[0].label, {all[0]}), false, cost_ms());
    span.arg("chosen", all[0].label);
    return s.release();
  }

  const std::string model_file = read_model_file(path);
  const std::string file = path ? cache_file(model_file.data(), model_file.size(), rest, policy_c,
                                             all, device)
                                : cache_file(data, size, rest, policy_c, all, device);
  std::string cached_text;
  const std::string cached = cached_choice(file, &cached_text);
  for (const Candidate& c : all) {
    if (cached.empty() || c.label != cached) continue;
    try {
      SessionRef s;
      s.s = create(c, path, data, size, device, rest);
      s.s->selection = with_cost(cached_text, true, cost_ms());
      span.arg("chosen", c.label);
      span.arg("cached", "1");
      return s.release();
    } catch (const std::exception&) {
      break;  // it served before: measure again to see what serves now
    }
  }

  SessionRef best, fallback;
  Candidate* winner = nullptr;
  Candidate* created = nullptr;  // the first that could be created, if none ran
  for (Candidate& c : all) {
    ProfileSpan measured("session", "session.auto_candidate");
    measured.arg("candidate", c.label);
    SessionRef s;
    try {
      s.s = create(c, path, data, size, device, rest);
    } catch (const std::exception& e) {
      c.error = e.what();
      c.status = status_of(e);
      measured.arg("error", c.error);
      continue;
    }
    try {
      const Inputs in = make_inputs(s.s);
      if (policy == Policy::throughput)
        measure_throughput(s.s, in, &c);
      else
        measure_latency(s.s, in, &c);
      measured.arg("median_us", fixed(c.median_us));
      measured.arg("runs", std::to_string(c.runs));
      measured.arg("runs_per_s", fixed(c.runs_per_s));
    } catch (const std::exception& e) {
      // Zero inputs are not every model's valid inputs (a shape, an index):
      // the model still loaded, so it may serve when nothing else could run.
      c.error = std::string("measuring: ") + e.what();
      c.runs = 0;
      measured.arg("error", c.error);
      if (!created) {
        std::swap(fallback.s, s.s);
        created = &c;
      }
      continue;
    }
    bool better = !winner;
    if (winner && policy == Policy::throughput) better = c.runs_per_s > winner->runs_per_s;
    if (winner && policy != Policy::throughput) better = c.median_us < winner->median_us;
    if (winner && policy == Policy::prefer_npu && winner->npu != c.npu) better = c.npu;
    if (better) {
      std::swap(best.s, s.s);
      winner = &c;
    }
  }
  if (!winner && created) {
    std::swap(best.s, fallback.s);
    winner = created;
  }
  if (!winner) {  // the first backend's error, as a named backend would give it
    std::string others;
    for (size_t i = 1; i < all.size(); ++i) others += "; " + all[i].label + ": " + all[i].error;
    fail(all[0].status, all[0].error, " (backend auto also tried", others.substr(1), ")");
  }
  const std::string text = report(policy_c, winner->label, all);
  // A choice made without a measurement is not worth keeping.
  if (winner->runs > 0) store_choice(file, text);
  best.s->selection = with_cost(text, false, cost_ms());
  span.arg("chosen", winner->label);
  span.arg("cached", "0");
  return best.release();
}

}  // namespace xrt
