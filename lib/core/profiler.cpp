#include "profiler.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "error.h"

namespace xrt {

Profiler& Profiler::get() {
  // Never destroyed: spans may end on threads that outlive static teardown.
  static Profiler* profiler = new Profiler();
  return *profiler;
}

void Profiler::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_.load()) fail(XRT_ERROR_INVALID_ARGUMENT, "the profiler is already running");
  spans_.clear();
  origin_ = std::chrono::steady_clock::now();
  enabled_.store(true);
}

void Profiler::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!enabled_.load()) fail(XRT_ERROR_INVALID_ARGUMENT, "the profiler is not running");
  enabled_.store(false);
}

void Profiler::record(Span span) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_.load()) spans_.push_back(std::move(span));
}

size_t Profiler::event_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  return spans_.size();
}

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

}  // namespace

std::string chrome_trace_json(const std::vector<Span>& spans) {
  std::string out = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  out += "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"args\": {\"name\": "
         "\"xpuruntime\"}}";
  for (const Span& s : spans) {
    out += ",\n{\"name\": " + json_string(s.name) + ", \"cat\": " + json_string(s.category) +
           ", \"ph\": \"X\", \"pid\": 1, \"tid\": " + std::to_string(s.thread) +
           ", \"ts\": " + fixed(s.start_us, 3) + ", \"dur\": " + fixed(s.duration_us, 3) +
           ", \"args\": {";
    for (size_t i = 0; i < s.args.size(); ++i) {
      if (i) out += ", ";
      out += json_string(s.args[i].first) + ": " + json_string(s.args[i].second);
    }
    out += "}}";
  }
  return out + "\n]}\n";
}

std::string Profiler::chrome_trace_json() {
  std::lock_guard<std::mutex> lock(mutex_);
  return xrt::chrome_trace_json(spans_);
}

std::string Profiler::summary() {
  struct Row {
    std::string category;
    size_t count = 0;
    double total_us = 0, max_us = 0;
  };
  std::map<std::string, Row> rows;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Span& s : spans_) {
      Row& row = rows[s.name];
      row.category = s.category;
      ++row.count;
      row.total_us += s.duration_us;
      row.max_us = std::max(row.max_us, s.duration_us);
    }
  }
  std::vector<std::pair<std::string, Row>> sorted(rows.begin(), rows.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.total_us > b.second.total_us; });
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %-8s %8s %12s %12s %12s\n", "name", "category", "count",
                "total ms", "mean us", "max us");
  std::string out = line;
  for (const auto& [name, row] : sorted) {
    std::snprintf(line, sizeof line, "%-28s %-8s %8zu %12.3f %12.2f %12.2f\n", name.c_str(),
                  row.category.c_str(), row.count, row.total_us / 1000.0,
                  row.total_us / static_cast<double>(row.count), row.max_us);
    out += line;
  }
  return out;
}

int32_t current_thread_number() {
  static std::atomic<int32_t> next{1};
  thread_local int32_t number = next.fetch_add(1);
  return number;
}

ProfileSpan::ProfileSpan(const char* category, std::string name)
    : active_(Profiler::get().enabled()) {
  if (!active_) return;
  span_.name = std::move(name);
  span_.category = category;
  span_.thread = current_thread_number();
  start_ = std::chrono::steady_clock::now();
}

void ProfileSpan::arg(std::string key, std::string value) {
  if (active_) span_.args.emplace_back(std::move(key), std::move(value));
}

ProfileSpan::~ProfileSpan() {
  if (!active_) return;
  Profiler& profiler = Profiler::get();
  const auto end = std::chrono::steady_clock::now();
  span_.start_us = std::chrono::duration<double, std::micro>(start_ - profiler.origin()).count();
  span_.duration_us = std::chrono::duration<double, std::micro>(end - start_).count();
  profiler.record(std::move(span_));
}

}  // namespace xrt
