#include "plugin_op_schemas.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "enum_code.h"
#include "error.h"
#include "struct_access.h"

namespace xrt {

namespace {

// Schema #i, read with the entry size the plugin declares.
xrt_op_schema_t read_schema(const xrt_op_schema_t* ops, size_t i) {
  const size_t stride = ops[0].struct_size;
  xrt_op_schema_t def{};
  std::memcpy(&def, reinterpret_cast<const unsigned char*>(ops) + i * stride,
              std::min(stride, sizeof def));
  return def;
}

// "<plugin>.<op>": letters, digits, '_' and '.', with a '.' inside, so a
// plugin's op never takes the name of a built-in one.
bool namespaced(const char* name) {
  const size_t n = std::strlen(name);
  for (size_t i = 0; i < n; ++i)
    if (!std::isalnum(static_cast<unsigned char>(name[i])) && name[i] != '_' && name[i] != '.')
      return false;
  const char* dot = std::strchr(name, '.');
  return dot && dot != name && name[n - 1] != '.';
}

bool same(const char* a, const char* b) { return std::strcmp(a, b) == 0; }

void check_inputs(const xrt_op_schema_t& def, const std::string& what) {
  XRT_REQUIRE(def.num_inputs >= 1 && def.num_inputs <= XRT_OP_MAX_INPUTS, what, " has ",
              def.num_inputs, " inputs, expected 1 to ", XRT_OP_MAX_INPUTS);
  XRT_REQUIRE(def.input_names != nullptr, what, " has no input_names");
  for (size_t i = 0; i < def.num_inputs; ++i) {
    XRT_REQUIRE(def.input_names[i] && *def.input_names[i], what, ": input #", i, " has no name");
    for (size_t j = 0; j < i; ++j)
      XRT_REQUIRE(!same(def.input_names[i], def.input_names[j]), what, " names two inputs '",
                  def.input_names[i], "'");
  }
  const uint32_t optional = def.optional_inputs;
  XRT_REQUIRE(optional >> def.num_inputs == 0, what, ": optional_inputs 0x", std::hex, optional,
              std::dec, " marks inputs beyond its ", def.num_inputs);
  XRT_REQUIRE(!(optional & 1u), what, ": input '", def.input_names[0],
              "' cannot be optional (the first input gives the call's device and dtype)");
  for (size_t i = 1; i + 1 < def.num_inputs; ++i)
    XRT_REQUIRE(!(optional >> i & 1u) || (optional >> (i + 1) & 1u), what, ": input '",
                def.input_names[i + 1], "' is required but follows optional input '",
                def.input_names[i], "' (optional inputs come last)");
}

void check_attrs(const xrt_op_schema_t& def, const std::string& what) {
  XRT_REQUIRE(def.num_attrs <= XRT_OP_MAX_ATTRS, what, " has ", def.num_attrs,
              " attributes, expected at most ", XRT_OP_MAX_ATTRS);
  XRT_REQUIRE(def.num_attrs == 0 || def.attrs != nullptr, what, " lists ", def.num_attrs,
              " attributes but no attribute array");
  for (size_t i = 0; i < def.num_attrs; ++i) {
    const xrt_attr_t& attr = def.attrs[i];
    XRT_REQUIRE(attr.name && *attr.name, what, ": attribute #", i, " has no name");
    const int32_t type = enum_code(attr.type);
    XRT_REQUIRE(type == XRT_ATTR_INT || type == XRT_ATTR_FLOAT, what, ": attribute '", attr.name,
                "' has type code ", type, " (expected XRT_ATTR_INT (", XRT_ATTR_INT,
                ") or XRT_ATTR_FLOAT (", XRT_ATTR_FLOAT, "))");
    for (size_t j = 0; j < i; ++j)
      XRT_REQUIRE(!same(attr.name, def.attrs[j].name), what, " names two attributes '", attr.name,
                  "'");
  }
}

OpSchema checked_schema(const xrt_op_schema_t& def, size_t index, const std::string& path) {
  const std::string plugin = "plugin '" + path + "'";
  XRT_REQUIRE(def.struct_size >= kFirstOpSchemaSize, plugin, ": op schema #", index, " is ",
              def.struct_size, " bytes, expected at least ", kFirstOpSchemaSize,
              " (every entry has op schema #0's struct_size)");
  XRT_REQUIRE(def.name && *def.name, plugin, ": op schema #", index, " has no name");
  XRT_REQUIRE(namespaced(def.name), plugin, ": op '", def.name,
              "' is not namespaced (expected '<plugin>.<op>': letters, digits, '_' and '.', with "
              "a '.' inside)");
  const std::string what = plugin + ": op '" + def.name + "'";
  check_inputs(def, what);
  XRT_REQUIRE(def.num_outputs >= 1 && def.num_outputs <= kMaxOpOutputs, what, " has ",
              def.num_outputs, " outputs, expected 1 to ", kMaxOpOutputs);
  check_attrs(def, what);

  OpSchema schema{};
  schema.name = def.name;
  schema.num_inputs = def.num_inputs;
  std::copy(def.input_names, def.input_names + def.num_inputs, schema.input_names);
  schema.num_outputs = def.num_outputs;
  schema.optional_inputs = def.optional_inputs;
  schema.layout = InputLayout::kContiguous;
  schema.num_attrs = def.num_attrs;
  std::copy(def.attrs, def.attrs + def.num_attrs, schema.attrs);
  schema.infer = def.infer;
  return schema;
}

}  // namespace

std::vector<OpSchema> plugin_op_schemas(const xrt_plugin_api_t* api, const std::string& path) {
  std::vector<OpSchema> schemas;
  if (!XRT_HAS_FIELD(api, num_ops) || api->num_ops == 0) return schemas;
  XRT_REQUIRE(api->ops != nullptr, "plugin '", path, "' lists ", api->num_ops,
              " ops but no op schema array");
  for (size_t i = 0; i < api->num_ops; ++i) {
    // Entry sizes are checked one by one, so a short first entry is caught
    // before it is used as the stride.
    if (i > 0)
      XRT_REQUIRE(read_schema(api->ops, i).struct_size == api->ops[0].struct_size, "plugin '", path,
                  "': op schema #", i, " has struct_size ", read_schema(api->ops, i).struct_size,
                  ", expected op schema #0's (", api->ops[0].struct_size, ")");
    schemas.push_back(checked_schema(read_schema(api->ops, i), i, path));
    for (size_t j = 0; j < i; ++j)
      XRT_REQUIRE(!same(schemas[j].name, schemas[i].name), "plugin '", path, "' defines op '",
              schemas[i].name, "' twice (op schemas #", j, " and #", i, ")");
  }
  return schemas;
}

}  // namespace xrt
