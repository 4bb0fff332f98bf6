/* A plugin whose op section breaks one rule of the plugin ABI, chosen when
 * it is compiled: -DFAULT_<name> builds libxrt_badops_<name>.so, backend
 * "badops_<name>". The host must list it unavailable with the reason and
 * register none of its ops or kernels.
 *   duplicate                the table defines one op twice
 *   taken                    defines testops.scale_shift, which the test
 *                            plugin (loaded first) already defines
 *   builtin                  defines "add", a built-in op, unnamespaced
 *   too_many_inputs          7 inputs, above XRT_OP_MAX_INPUTS
 *   null_input_name          an input without a name
 *   optional_beyond          optional_inputs marks an input it lacks
 *   required_after_optional  a required input after an optional one
 *   bad_attr_type            an attribute type that is no xrt_attr_type_t
 *   short_entry              a struct_size below the ABI 1.5 entry's */
#include "xpuruntime/xpuruntime_plugin.h"

static xrt_status_t never_runs(const xrt_kernel_context_t* ctx) {
  (void)ctx;
  return XRT_OK;
}

#define SCHEMA(name, inputs, n, optional, attrs, num_attrs) \
  {sizeof(xrt_op_schema_t), name, inputs, n, optional, 1, attrs, num_attrs, NULL}

#if defined(FAULT_duplicate)
#define PLUGIN "badops_duplicate"
#define OP "badops.twice"
static const char* const one_input[] = {"x"};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, one_input, 1, 0, NULL, 0),
                                      SCHEMA(OP, one_input, 1, 0, NULL, 0)};
#elif defined(FAULT_taken)
#define PLUGIN "badops_taken"
#define OP "testops.scale_shift"
static const char* const one_input[] = {"x"};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, one_input, 1, 0, NULL, 0)};
#elif defined(FAULT_builtin)
#define PLUGIN "badops_builtin"
#define OP "add"
static const char* const two_inputs[] = {"a", "b"};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, two_inputs, 2, 0, NULL, 0)};
#elif defined(FAULT_too_many_inputs)
#define PLUGIN "badops_too_many_inputs"
#define OP "badops.wide"
static const char* const seven_inputs[] = {"a", "b", "c", "d", "e", "f", "g"};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, seven_inputs, 7, 0, NULL, 0)};
#elif defined(FAULT_null_input_name)
#define PLUGIN "badops_null_input_name"
#define OP "badops.unnamed"
static const char* const unnamed_second[] = {"x", NULL};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, unnamed_second, 2, 0, NULL, 0)};
#elif defined(FAULT_optional_beyond)
#define PLUGIN "badops_optional_beyond"
#define OP "badops.beyond"
static const char* const two_inputs[] = {"x", "y"};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, two_inputs, 2, 0x4u, NULL, 0)};
#elif defined(FAULT_required_after_optional)
#define PLUGIN "badops_required_after_optional"
#define OP "badops.order"
static const char* const three_inputs[] = {"x", "maybe", "needed"};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, three_inputs, 3, 0x2u, NULL, 0)};
#elif defined(FAULT_bad_attr_type)
#define PLUGIN "badops_bad_attr_type"
#define OP "badops.attr"
static const char* const one_input[] = {"x"};
static const xrt_attr_t bad_attr[] = {{"alpha", (xrt_attr_type_t)9, 0, 0.0}};
static const xrt_op_schema_t ops[] = {SCHEMA(OP, one_input, 1, 0, bad_attr, 1)};
#elif defined(FAULT_short_entry)
#define PLUGIN "badops_short_entry"
#define OP "badops.short"
static const char* const one_input[] = {"x"};
static const xrt_op_schema_t ops[] = {
    {sizeof(size_t) * 2, OP, one_input, 1, 0, 1, NULL, 0, NULL}};
#else
#error "compile with -DFAULT_<name> (see the list above)"
#endif

static const xrt_kernel_def_t kernels[] = {
    {sizeof(xrt_kernel_def_t), OP, PLUGIN ".kernel", XRT_DEVICE_CPU, XRT_DTYPE_BIT(XRT_FLOAT32),
     50, NULL, never_runs, 0, NULL},
};

static const xrt_plugin_api_t api = {
    sizeof(xrt_plugin_api_t), XRT_PLUGIN_ABI_MAJOR, XRT_PLUGIN_ABI_MINOR, PLUGIN, "0.0.1",
    kernels, 1, NULL, NULL, NULL, ops, sizeof ops / sizeof ops[0], NULL, 0,
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  return host_abi_major == XRT_PLUGIN_ABI_MAJOR ? &api : NULL;
}
