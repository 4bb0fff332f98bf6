// xpuruntime.torch's C++ kernels as a Python module: register_kernels()
// (ops.py calls it once it defined the schemas) and the eager entry
// points of functional.py. _native.py builds it.
#include <Python.h>

#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/python_variable.h>

#include <memory>
#include <vector>

#include "operators.h"

using namespace xrt_torch;

namespace {

std::vector<std::unique_ptr<torch::Library>> g_libraries;

// Every kernel of native/, into `table`: the one list of the sources' registrations.
void fill(KernelTable& table) {
  register_norm_kernels(table);
  register_attention_kernels(table);
  register_varlen_decode_kernels(table);
}

void register_all() {
  auto impl = [](c10::DispatchKey key) {
    g_libraries.push_back(std::make_unique<torch::Library>(torch::Library::IMPL, "xpuruntime",
                                                           key, __FILE__, __LINE__));
    return g_libraries.back().get();
  };
  torch::Library* cpu = impl(c10::DispatchKey::CPU);
  torch::Library* cuda = impl(c10::DispatchKey::CUDA);
  KernelTable table(cpu, cuda, impl(c10::DispatchKey::Autograd),
                    impl(c10::DispatchKey::ADInplaceOrView));
  fill(table);
}

// The names of the ops register_all registers, as a tuple of str.
PyObject* op_names() {
  KernelTable table;
  fill(table);
  const std::vector<const char*>& names = table.names();
  PyObject* tuple = PyTuple_New(static_cast<Py_ssize_t>(names.size()));
  for (size_t i = 0; tuple != nullptr && i < names.size(); ++i) {
    PyObject* name = PyUnicode_FromString(names[i]);
    if (name == nullptr) {
      Py_CLEAR(tuple);
    } else {
      PyTuple_SET_ITEM(tuple, static_cast<Py_ssize_t>(i), name);
    }
  }
  return tuple;
}

// register_kernels(exchange_api, error_classes, causal_align): once, after
// ops.py defined the schemas.
PyObject* py_register_kernels(PyObject*, PyObject* args) {
  HANDLE_TH_ERRORS
  PyObject* capsule = nullptr;
  PyObject* error_classes = nullptr;
  PyObject* causal_align = nullptr;
  if (!PyArg_ParseTuple(args, "OO!O!", &capsule, &PyDict_Type, &error_classes, &PyDict_Type,
                        &causal_align)) {
    return nullptr;
  }
  if (!g_libraries.empty()) {
    PyErr_SetString(PyExc_RuntimeError, "xpuruntime's torch kernels are registered already");
    return nullptr;
  }
  auto* api = static_cast<const DLPackExchangeAPI*>(
      PyCapsule_GetPointer(capsule, "dlpack_exchange_api"));
  if (api == nullptr) return nullptr;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t pos = 0;
  while (PyDict_Next(causal_align, &pos, &key, &value)) {
    const char* name = PyUnicode_AsUTF8(key);
    const long long number = PyLong_AsLongLong(value);
    if (name == nullptr || (number == -1 && PyErr_Occurred())) return nullptr;
    set_causal_align(name, number);
  }
  set_runtime_bridge(api, error_classes);
  register_all();
  Py_RETURN_NONE;
  END_HANDLE_TH_ERRORS
}

// The eager entry points (functional.py): the operator through the
// dispatcher, without torch.ops' argument parsing. They take plain
// tensors (torch.Tensor, Parameter) and Python numbers only and return
// NotImplemented for anything else, which functional.py sends the way it
// sends everything else.

bool plain(PyObject* obj) { return THPVariable_CheckExact(obj); }
bool plain_or_none(PyObject* obj) { return obj == Py_None || plain(obj); }
bool number(PyObject* obj) { return PyFloat_CheckExact(obj) || PyLong_CheckExact(obj); }

OptTensor optional_tensor(PyObject* obj) {
  return obj == Py_None ? std::nullopt : OptTensor(THPVariable_Unpack(obj));
}

bool scale_arg(PyObject* obj, std::optional<double>& scale) {
  if (obj == Py_None) return true;
  if (!number(obj)) return false;
  scale = PyFloat_AsDouble(obj);
  return !PyErr_Occurred();
}

PyObject* wrap(Tensor tensor) { return THPVariable_Wrap(std::move(tensor)); }

PyObject* wrap(Tensors2 pair) {
  PyObject* first = wrap(std::move(std::get<0>(pair)));
  if (first == nullptr) return nullptr;
  PyObject* second = wrap(std::move(std::get<1>(pair)));
  if (second == nullptr) {
    Py_DECREF(first);
    return nullptr;
  }
  PyObject* pair_object = PyTuple_Pack(2, first, second);
  Py_DECREF(first);
  Py_DECREF(second);
  return pair_object;
}

// Runs `call` (an operator call) without the GIL; its result as Python objects.
template <class Call>
PyObject* without_gil(Call call) {
  decltype(call()) result;
  {
    pybind11::gil_scoped_release no_gil;
    result = call();
  }
  return wrap(std::move(result));
}

// eps as a double; false with the error set when `obj` has no float value.
bool eps_arg(PyObject* obj, double& eps) {
  eps = PyFloat_AsDouble(obj);
  return !PyErr_Occurred();
}

bool arity(const char* name, Py_ssize_t given, Py_ssize_t wanted) {
  if (given == wanted) return true;
  PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments, got %zd", name, wanted, given);
  return false;
}

PyObject* py_layer_norm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (!arity("layer_norm", nargs, 4)) return nullptr;
  if (!plain(args[0]) || !plain_or_none(args[1]) || !plain_or_none(args[2]) ||
      !number(args[3])) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  double eps = 0.0;
  if (!eps_arg(args[3], eps)) return nullptr;
  return without_gil([&] {
    return layer_norm_op().call(THPVariable_Unpack(args[0]), optional_tensor(args[1]),
                                optional_tensor(args[2]), eps);
  });
  END_HANDLE_TH_ERRORS
}

PyObject* py_rms_norm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (!arity("rms_norm", nargs, 3)) return nullptr;
  if (!plain(args[0]) || !plain_or_none(args[1]) || !number(args[2])) Py_RETURN_NOTIMPLEMENTED;
  double eps = 0.0;
  if (!eps_arg(args[2], eps)) return nullptr;
  return without_gil([&] {
    return rms_norm_op().call(THPVariable_Unpack(args[0]), optional_tensor(args[1]), eps);
  });
  END_HANDLE_TH_ERRORS
}

PyObject* py_add_layer_norm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (!arity("add_layer_norm", nargs, 5)) return nullptr;
  if (!plain(args[0]) || !plain(args[1]) || !plain_or_none(args[2]) || !plain_or_none(args[3]) ||
      !number(args[4])) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  double eps = 0.0;
  if (!eps_arg(args[4], eps)) return nullptr;
  return without_gil([&] {
    return add_layer_norm_op().call(THPVariable_Unpack(args[0]), THPVariable_Unpack(args[1]),
                                    optional_tensor(args[2]), optional_tensor(args[3]), eps);
  });
  END_HANDLE_TH_ERRORS
}

PyObject* py_add_rms_norm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (!arity("add_rms_norm", nargs, 4)) return nullptr;
  if (!plain(args[0]) || !plain(args[1]) || !plain_or_none(args[2]) || !number(args[3])) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  double eps = 0.0;
  if (!eps_arg(args[3], eps)) return nullptr;
  return without_gil([&] {
    return add_rms_norm_op().call(THPVariable_Unpack(args[0]), THPVariable_Unpack(args[1]),
                                  optional_tensor(args[2]), eps);
  });
  END_HANDLE_TH_ERRORS
}

PyObject* py_bias_gelu(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (!arity("bias_gelu", nargs, 2)) return nullptr;
  if (!plain(args[0]) || !plain(args[1])) Py_RETURN_NOTIMPLEMENTED;
  return without_gil([&] {
    return bias_gelu_op().call(THPVariable_Unpack(args[0]), THPVariable_Unpack(args[1]));
  });
  END_HANDLE_TH_ERRORS
}

// (q, k, v, causal, scale): attention without masks.
bool attention_args(const char* name, PyObject* const* args, Py_ssize_t nargs, bool& usable,
                    bool& causal, std::optional<double>& scale) {
  if (!arity(name, nargs, 5)) return false;
  usable = plain(args[0]) && plain(args[1]) && plain(args[2]) &&
           (args[3] == Py_True || args[3] == Py_False);
  if (!usable) return true;
  causal = args[3] == Py_True;
  usable = scale_arg(args[4], scale);
  return !PyErr_Occurred();
}

PyObject* py_attention(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  bool usable = false, causal = false;
  std::optional<double> scale;
  if (!attention_args("attention", args, nargs, usable, causal, scale)) return nullptr;
  if (!usable) Py_RETURN_NOTIMPLEMENTED;
  return without_gil([&] {
    return attention_op().call(THPVariable_Unpack(args[0]), THPVariable_Unpack(args[1]),
                               THPVariable_Unpack(args[2]), causal, scale, std::nullopt,
                               std::nullopt, std::nullopt, "top_left");
  });
  END_HANDLE_TH_ERRORS
}

PyObject* py_attention_lse(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  bool usable = false, causal = false;
  std::optional<double> scale;
  if (!attention_args("attention_lse", args, nargs, usable, causal, scale)) return nullptr;
  if (!usable) Py_RETURN_NOTIMPLEMENTED;
  return without_gil([&] {
    return attention_lse_op().call(THPVariable_Unpack(args[0]), THPVariable_Unpack(args[1]),
                                   THPVariable_Unpack(args[2]), causal, scale, std::nullopt,
                                   std::nullopt, std::nullopt, "top_left");
  });
  END_HANDLE_TH_ERRORS
}

PyMethodDef g_methods[] = {
    {"register_kernels", py_register_kernels, METH_VARARGS,
     "register_kernels(exchange_api, error_classes, causal_align): registers the kernels"},
    {"layer_norm", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_layer_norm)),
     METH_FASTCALL, "layer_norm(x, weight, bias, eps)"},
    {"rms_norm", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_rms_norm)),
     METH_FASTCALL, "rms_norm(x, weight, eps)"},
    {"add_layer_norm",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_add_layer_norm)),
     METH_FASTCALL, "add_layer_norm(x, residual, weight, bias, eps)"},
    {"add_rms_norm", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_add_rms_norm)),
     METH_FASTCALL, "add_rms_norm(x, residual, weight, eps)"},
    {"bias_gelu", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_bias_gelu)),
     METH_FASTCALL, "bias_gelu(x, bias)"},
    {"attention", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_attention)),
     METH_FASTCALL, "attention(q, k, v, causal, scale)"},
    {"attention_lse",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_attention_lse)), METH_FASTCALL,
     "attention_lse(q, k, v, causal, scale)"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef g_module = {PyModuleDef_HEAD_INIT, C10_STRINGIZE(TORCH_EXTENSION_NAME),
                        "xpuruntime.torch's C++ kernels (see _native.py)", -1, g_methods};

}  // namespace

PyMODINIT_FUNC C10_CONCATENATE(PyInit_, TORCH_EXTENSION_NAME)(void) {
  PyObject* module = PyModule_Create(&g_module);
  if (module == nullptr) return nullptr;
  // The ops this module implements; ops.py registers Python kernels for the rest.
  PyObject* ops = op_names();
  if (ops == nullptr || PyModule_AddObject(module, "OPS", ops) != 0) {
    Py_XDECREF(ops);
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}
