#include "ort_profile.h"

#include <cstdlib>
#include <fstream>
#include <string_view>

namespace xrt::ort {
namespace {

// The value of `"key" : value` in text: a string's contents or a number's
// digits; empty when the key is absent.
std::string field(std::string_view text, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  size_t pos = text.find(quoted);
  if (pos == std::string_view::npos) return "";
  pos = text.find_first_not_of(" :", pos + quoted.size());
  if (pos == std::string_view::npos) return "";
  if (text[pos] == '"') {
    std::string value;
    for (size_t i = pos + 1; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      value += text[i];
    }
    return value;
  }
  const size_t end = text.find_first_of(",}", pos);
  return std::string(text.substr(pos, end == std::string_view::npos ? end : end - pos));
}

}  // namespace

void forward_profile(const std::string& path, int64_t start_unix_ns, const xrt_span_sink_t* sink) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    const std::string_view text = line;
    const size_t args_at = text.find("\"args\"");
    // Top-level fields come before "args"; node details inside it.
    const std::string_view head = text.substr(0, args_at);
    const std::string_view args =
        args_at == std::string_view::npos ? std::string_view() : text.substr(args_at);
    if (field(head, "ph") != "X") continue;
    const std::string name = field(head, "name");
    const std::string category = "onnxruntime." + field(head, "cat");
    const int64_t ts_us = std::atoll(field(head, "ts").c_str());
    const int64_t dur_us = std::atoll(field(head, "dur").c_str());
    const std::string op = field(args, "op_name");
    const std::string provider = field(args, "provider");
    const char* keys[2];
    const char* values[2];
    size_t count = 0;
    if (!op.empty()) keys[count] = "op", values[count++] = op.c_str();
    if (!provider.empty()) keys[count] = "provider", values[count++] = provider.c_str();
    sink->record(sink->context, name.c_str(), category.c_str(), start_unix_ns + ts_us * 1000,
                 dur_us * 1000, keys, values, count);
  }
}

}  // namespace xrt::ort
