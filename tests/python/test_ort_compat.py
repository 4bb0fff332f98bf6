"""xpuruntime.onnxruntime runs onnxruntime's documented Python usage unchanged.

Each snippet below is written against an ``ort`` module, exactly as
onnxruntime's docs write it, and runs once with ``xpuruntime.onnxruntime``
and, where onnxruntime is installed, once with onnxruntime itself: the
results must agree (values, dtypes, shapes).
"""

import json
import os
import re
import threading
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the models are built with the onnx package")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import xpuruntime as xrt  # noqa: E402
import xpuruntime.onnxruntime as xort  # noqa: E402

try:
    import onnxruntime as real_ort
except ImportError:
    real_ort = None

pytestmark = pytest.mark.skipif(
    not any(b.name == "onnxruntime" and b.available for b in xrt.backends()),
    reason="the ONNX Runtime backend is not available (pip install onnxruntime)")

IN, HIDDEN, OUT = 8, 16, 4


@pytest.fixture(scope="module")
def mlp_path(tmp_path_factory):
    """y = relu(x @ w1 + b1) @ w2 + b2, float32, dynamic batch, with metadata."""
    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((IN, HIDDEN)).astype(np.float32)
    b1 = rng.standard_normal(HIDDEN).astype(np.float32)
    w2 = rng.standard_normal((HIDDEN, OUT)).astype(np.float32)
    b2 = rng.standard_normal(OUT).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h0"]),
         helper.make_node("Add", ["h0", "b1"], ["h1"]),
         helper.make_node("Relu", ["h1"], ["h"]),
         helper.make_node("MatMul", ["h", "w2"], ["y0"]),
         helper.make_node("Add", ["y0", "b2"], ["y"]),
         helper.make_node("ReduceSum", ["y"], ["total"], keepdims=0)],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", IN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", OUT]),
         helper.make_tensor_value_info("total", TensorProto.FLOAT, [])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")],
        doc_string="a small MLP")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="xpuruntime-tests", domain="ai.test",
                              model_version=3, doc_string="for the compatibility snippets")
    model.ir_version = 8
    helper.set_model_props(model, {"author": "tests", "purpose": "compat"})
    path = tmp_path_factory.mktemp("models") / "mlp.onnx"
    path.write_bytes(model.SerializeToString())
    return str(path)


@pytest.fixture
def x(rng):
    return rng.standard_normal((3, IN)).astype(np.float32)


# ---- the snippets: each takes the module as `ort` --------------------------

def snippet_basic_run(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})


def snippet_describe(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inputs = [(i.name, i.shape, i.type) for i in sess.get_inputs()]
    outputs = [(o.name, o.shape, o.type) for o in sess.get_outputs()]
    return inputs, outputs


def snippet_named_output(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    label_name = sess.get_outputs()[0].name
    return sess.run([label_name], {input_name: x})[0]


def snippet_session_options_positional(ort, path, x):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})


def snippet_session_options_keyword(ort, path, x):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.enable_mem_pattern = False
    so.enable_cpu_mem_arena = False
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x}), so.get_session_config_entry("session.intra_op.allow_spinning")


def snippet_run_options(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ro = ort.RunOptions()
    return sess.run(None, {"x": x}, ro)


def snippet_available_providers(ort, path, x):
    return "CPUExecutionProvider" in ort.get_available_providers()


def snippet_get_providers(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.get_providers()


def snippet_modelmeta(ort, path, x):
    meta = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).get_modelmeta()
    return (meta.producer_name, meta.graph_name, meta.domain, meta.description,
            meta.graph_description, meta.version, meta.custom_metadata_map)


def snippet_iobinding_cpu(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    io_binding = sess.io_binding()
    io_binding.bind_cpu_input("x", x)
    io_binding.bind_output("y")
    sess.run_with_iobinding(io_binding)
    return io_binding.copy_outputs_to_cpu()[0]


def snippet_iobinding_ortvalues(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x_ortvalue = ort.OrtValue.ortvalue_from_numpy(x, "cpu", 0)
    y_ortvalue = ort.OrtValue.ortvalue_from_shape_and_type([x.shape[0], OUT], np.float32, "cpu", 0)
    io_binding = sess.io_binding()
    io_binding.bind_ortvalue_input("x", x_ortvalue)
    io_binding.bind_ortvalue_output("y", y_ortvalue)
    sess.run_with_iobinding(io_binding)
    return y_ortvalue.numpy(), io_binding.get_outputs()[0].numpy()


def snippet_iobinding_into_ortvalue(ort, path, x):
    """The run writes into the bound OrtValue's memory: a view made before
    the run sees the result, and get_outputs() is that value."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y_ortvalue = ort.OrtValue.ortvalue_from_numpy(np.zeros((x.shape[0], OUT), np.float32))
    view = y_ortvalue.numpy()
    io_binding = sess.io_binding()
    io_binding.bind_cpu_input("x", x)
    io_binding.bind_ortvalue_output("y", y_ortvalue)
    sess.run_with_iobinding(io_binding)
    first = view.copy()
    sess.run_with_iobinding(io_binding)  # kept bound: written again
    return first, view, io_binding.get_outputs()[0].data_ptr() == y_ortvalue.data_ptr()


def snippet_iobinding_output_kept(ort, path, x):
    """An output bound to a device is written into the previous run's:
    get_outputs() values (and their numpy views) change with the next run,
    copy_outputs_to_cpu's arrays do not."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    bound_x = x.copy()
    io_binding = sess.io_binding()
    io_binding.bind_cpu_input("x", bound_x)
    io_binding.bind_output("y")
    sess.run_with_iobinding(io_binding)
    value = io_binding.get_outputs()[0]
    view, copied, address = value.numpy(), io_binding.copy_outputs_to_cpu()[0], value.data_ptr()
    bound_x *= 2
    sess.run_with_iobinding(io_binding)
    second = io_binding.copy_outputs_to_cpu()[0]
    io_binding.bind_cpu_input("x", -x)  # new memory, same shape: still kept
    sess.run_with_iobinding(io_binding)
    return (view, copied, second, io_binding.copy_outputs_to_cpu()[0],
            io_binding.get_outputs()[0].data_ptr() == address)


def snippet_iobinding_pointers(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = np.empty((x.shape[0], OUT), dtype=np.float32)
    io_binding = sess.io_binding()
    io_binding.bind_input(name="x", device_type="cpu", device_id=0, element_type=np.float32,
                          shape=x.shape, buffer_ptr=x.ctypes.data)
    io_binding.bind_output(name="y", device_type="cpu", device_id=0, element_type=np.float32,
                           shape=y.shape, buffer_ptr=y.ctypes.data)
    sess.run_with_iobinding(io_binding)
    return y


def snippet_ortvalue_surface(ort, path, x):
    value = ort.OrtValue.ortvalue_from_numpy(x)
    return (value.device_name(), value.shape(), value.data_type(), value.is_tensor(),
            value.has_value(), value.numpy())


def snippet_run_with_ort_values(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    value = ort.OrtValue.ortvalue_from_numpy(x)
    outputs = sess.run_with_ort_values(["y"], {"x": value})
    return outputs[0].numpy()


def snippet_logging(ort, path, x):
    ort.set_default_logger_severity(3)
    try:
        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        return sess.run(None, {"x": x})
    finally:
        ort.set_default_logger_severity(2)


def snippet_model_bytes(ort, path, x):
    with open(path, "rb") as f:
        sess = ort.InferenceSession(f.read(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})


def snippet_disable_fallback(ort, path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    sess.disable_fallback()
    return sess.run(None, {"x": x})


def snippet_get_device(ort, path, x):
    return ort.get_device() in ("CPU", "GPU")


def snippet_absent_provider(ort, path, x):
    # CPU-only hosts lack the CUDA provider: onnxruntime warns and falls back.
    providers = ["NoSuchExecutionProvider", "CPUExecutionProvider"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sess = ort.InferenceSession(path, providers=providers)
    assert any("NoSuchExecutionProvider" in str(w.message) for w in caught)
    return sess.run(None, {"x": x}), sess.get_providers()


SNIPPETS = [
    snippet_basic_run, snippet_describe, snippet_named_output,
    snippet_session_options_positional, snippet_session_options_keyword, snippet_run_options,
    snippet_available_providers, snippet_get_providers, snippet_modelmeta,
    snippet_iobinding_cpu, snippet_iobinding_ortvalues, snippet_iobinding_into_ortvalue,
    snippet_iobinding_output_kept, snippet_iobinding_pointers,
    snippet_ortvalue_surface, snippet_run_with_ort_values, snippet_logging,
    snippet_model_bytes, snippet_disable_fallback, snippet_get_device, snippet_absent_provider,
]


def _assert_same(ours, theirs, where="result"):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours).__name__}, not an array"
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, where
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items, onnxruntime {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, f"{where}: {ours!r}, onnxruntime {theirs!r}"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.__name__[len("snippet_"):])
def test_snippet_matches_onnxruntime(snippet, mlp_path, x):
    ours = snippet(xort, mlp_path, x)
    if real_ort is None:
        pytest.skip("onnxruntime is not installed to compare with (ours ran)")
    theirs = snippet(real_ort, mlp_path, x)
    _assert_same(ours, theirs)


def test_snippets_agree_with_float64_reference(mlp_path, x):
    """The compared results are also right: y against a float64 evaluation."""
    model = onnx.load(mlp_path)
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    h = np.maximum(x.astype(np.float64) @ w["w1"] + w["b1"], 0)
    want = h @ w["w2"] + w["b2"]
    y, total = snippet_basic_run(xort, mlp_path, x)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(total, want.sum(), rtol=1e-4, atol=1e-3)


# ---- bad input -----------------------------------------------------------

def test_unknown_session_option_is_attribute_error():
    so = xort.SessionOptions()
    with pytest.raises(AttributeError):
        so.no_such_option = 1


def test_unknown_run_option_is_attribute_error():
    with pytest.raises(AttributeError):
        xort.RunOptions().no_such_option = 1


def test_option_no_backend_takes_raises_unsupported(mlp_path):
    so = xort.SessionOptions()
    so.use_deterministic_compute = True
    with pytest.raises(xrt.Unsupported, match="use_deterministic_compute"):
        xort.InferenceSession(mlp_path, so, providers=["CPUExecutionProvider"])


def test_run_option_not_honoured_raises(mlp_path, x):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    ro = xort.RunOptions()
    ro.only_execute_path_to_fetches = True
    with pytest.raises(xrt.Unsupported, match="only_execute_path_to_fetches"):
        sess.run(None, {"x": x}, ro)


def test_terminate_set_before_run_stops_it(mlp_path, x):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    ro = xort.RunOptions()
    ro.terminate = True
    with pytest.raises(xrt.BackendError, match="terminate"):
        sess.run(None, {"x": x}, ro)


def test_bound_input_of_wrong_dtype_names_it(mlp_path, x):
    binding = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"]).io_binding()
    with pytest.raises(xrt.InvalidArgument, match="'x'.*float64"):
        binding.bind_cpu_input("x", x.astype(np.float64))


def test_bound_input_of_wrong_shape_names_it(mlp_path):
    binding = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"]).io_binding()
    with pytest.raises(xrt.InvalidArgument, match="'x'.*shape"):
        binding.bind_cpu_input("x", np.zeros((2, IN + 1), np.float32))


def test_bound_names_must_exist(mlp_path, x):
    binding = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"]).io_binding()
    with pytest.raises(xrt.InvalidArgument, match="'nope'"):
        binding.bind_cpu_input("nope", x)
    with pytest.raises(xrt.InvalidArgument, match="'nope'"):
        binding.bind_output("nope")


def test_bound_output_buffer_of_wrong_shape_names_it(mlp_path, x):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    wrong = xort.OrtValue.ortvalue_from_shape_and_type([x.shape[0] + 1, OUT], np.float32)
    binding.bind_ortvalue_output("y", wrong)
    with pytest.raises(xrt.InvalidArgument, match="'y'"):
        sess.run_with_iobinding(binding)


@pytest.mark.parametrize("dtype, shape, words", [
    (np.float64, (3, OUT), "output 'y' was given as float64, the model gives float32"),
    (np.float32, (3, OUT + 1), "output 'y' was given with shape (3, 5), the model gives "
                               "(batch, 4)"),
    (np.float32, (4, OUT), "output 'y'"),  # the batch: ONNX Runtime names it once it runs
])
def test_bound_output_that_cannot_take_the_result_names_it(mlp_path, x, dtype, shape, words):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    wrong = xort.OrtValue.ortvalue_from_numpy(np.zeros(shape, dtype))
    binding.bind_ortvalue_output("y", wrong)
    with pytest.raises(xrt.InvalidArgument, match=re.escape(words)):
        sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(wrong.numpy(), 0)
    binding.bind_output("y")  # and the binding runs again once it is fixed
    sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], sess.run(["y"], {"x": x})[0])


def test_bound_output_read_only_or_sharing_an_input_is_refused(mlp_path, x):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    frozen = np.zeros((3, OUT), np.float32)
    frozen.flags.writeable = False
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_ortvalue_output("y", xort.OrtValue(xrt.asarray(frozen)))
    with pytest.raises(xrt.InvalidArgument, match="output 'y' was given read-only"):
        sess.run_with_iobinding(binding)
    shared = np.zeros((3, IN), np.float32)  # y's (3, 4) would be x's first 12 floats
    binding.bind_cpu_input("x", shared)
    binding.bind_output("y", "cpu", 0, np.float32, (3, OUT), shared.ctypes.data)
    with pytest.raises(xrt.InvalidArgument, match="output 'y' was given memory that input 'x'"):
        sess.run_with_iobinding(binding)


def test_kept_output_whose_shape_follows_the_data_is_made_anew(tmp_path):
    """A reshape by a bound shape input: a kept output no longer fits once
    the shape's contents change, and the run makes a new one (onnxruntime
    fails here)."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "s"], ["y"])], "reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6]),
         helper.make_tensor_value_info("s", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    sess = xort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.arange(6, dtype=np.float32)
    shape = np.array([2, 3], np.int64)
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_cpu_input("s", shape)
    binding.bind_output("y")
    sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], x.reshape(2, 3))
    shape[:] = [3, 2]
    sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], x.reshape(3, 2))
    sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], x.reshape(3, 2))


def test_unknown_device_type_is_named():
    with pytest.raises(xrt.InvalidArgument, match="'dml'"):
        xort.OrtValue.ortvalue_from_numpy(np.zeros(3, np.float32), "dml", 0)


def test_gpu_provider_without_gpu_falls_back_with_warning(mlp_path, x):
    if any(d.kind == "cuda" for d in xrt.devices()):
        pytest.skip("this host has a GPU")
    with pytest.warns(RuntimeWarning, match="CUDAExecutionProvider"):
        sess = xort.InferenceSession(mlp_path,
                                     providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert sess.run(None, {"x": x})[0].shape == (x.shape[0], OUT)


# ---- what the snippets do not show -----------------------------------------

def test_ortvalue_shares_memory_with_numpy(x):
    value = xort.OrtValue.ortvalue_from_numpy(x)
    assert value.data_ptr() == x.ctypes.data
    x[0, 0] = 123.0
    assert value.numpy()[0, 0] == 123.0
    value.update_inplace(np.zeros_like(x))
    assert not x.any()


@pytest.mark.parametrize("view", ["rows", "transposed"])
def test_ortvalue_of_a_strided_array_is_a_copy_as_in_onnxruntime(view):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    array = base[::2] if view == "rows" else base.T
    value = xort.OrtValue.ortvalue_from_numpy(array)
    np.testing.assert_array_equal(value.numpy(), array)
    assert value.shape() == list(array.shape)
    base[...] = -1  # a copy: the value keeps what the array held
    assert (value.numpy() >= 0).all()


def test_session_option_values_reach_the_backend(mlp_path, tmp_path, x):
    """optimized_model_filepath makes ONNX Runtime write the model: the
    option was applied, not dropped."""
    so = xort.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    xort.InferenceSession(mlp_path, so, providers=["CPUExecutionProvider"])
    assert onnx.load(so.optimized_model_filepath).graph.node


@pytest.mark.parametrize("name, value, expected", [
    ("log_severity_level", 9, r"'9' \(expected 0 \(verbose\) to 4 \(fatal\)\)"),
    ("intra_op_num_threads", -1, r"'-1' \(expected an integer from 0"),
    ("inter_op_num_threads", 5000, r"'5000' \(expected an integer from 0"),
])
def test_bad_session_option_value_is_named(mlp_path, name, value, expected):
    so = xort.SessionOptions()
    setattr(so, name, value)
    with pytest.raises(xrt.InvalidArgument, match=f"option {name} has an invalid value {expected}"):
        xort.InferenceSession(mlp_path, so, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name, value, expected", [
    ("intra_op_num_threads", "4", "an int"),
    ("intra_op_num_threads", 2.0, "an int"),
    ("inter_op_num_threads", True, "an int"),
    ("enable_profiling", "yes", "a bool"),
    ("enable_mem_pattern", 2, "a bool"),
    ("logid", 3, "a str"),
    ("optimized_model_filepath", 5, r"a str or os\.PathLike"),
    ("graph_optimization_level", "all", "one of GraphOptimizationLevel's members"),
    ("graph_optimization_level", 7, "one of GraphOptimizationLevel's members"),
    ("execution_mode", 5, r"one of ExecutionMode's members \(ORT_SEQUENTIAL, ORT_PARALLEL\)"),
])
def test_session_option_of_the_wrong_type_is_refused_when_set(name, value, expected):
    """As onnxruntime's typed attributes: a TypeError at the assignment,
    naming the attribute, the value and the type it takes; the field keeps
    its value."""
    so = xort.SessionOptions()
    before = getattr(so, name)
    with pytest.raises(TypeError, match=f"SessionOptions.{name} must be {expected}.*, got "
                                        f"{re.escape(repr(value))}$"):
        setattr(so, name, value)
    assert getattr(so, name) == before


def test_session_option_values_take_onnxruntime_forms(tmp_path):
    so = xort.SessionOptions()
    so.graph_optimization_level = 1
    assert so.graph_optimization_level is xort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.execution_mode = xort.ExecutionMode.ORT_PARALLEL
    assert so.execution_mode is xort.ExecutionMode.ORT_PARALLEL
    so.enable_cpu_mem_arena = 0
    assert so.enable_cpu_mem_arena is False
    so.optimized_model_filepath = tmp_path / "m.onnx"
    assert so.optimized_model_filepath == str(tmp_path / "m.onnx")


def test_providers_given_as_one_string_is_refused(mlp_path):
    """onnxruntime would take each letter for a provider name and fall back
    to the CPU; the list the caller meant is named instead."""
    with pytest.raises(TypeError, match="providers must be a list .* not str "
                                        "'CUDAExecutionProvider'"):
        xort.InferenceSession(mlp_path, providers="CUDAExecutionProvider")


def test_custom_ops_library_that_is_missing_is_named(mlp_path, tmp_path):
    so = xort.SessionOptions()
    so.register_custom_ops_library(str(tmp_path / "libmissing_ops.so"))
    with pytest.raises(xrt.Error, match="libmissing_ops"):
        xort.InferenceSession(mlp_path, so, providers=["CPUExecutionProvider"])


def test_iobinding_reruns_follow_changes_and_keep_earlier_copies(mlp_path, rng):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    x = rng.standard_normal((2, IN)).astype(np.float32)
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_output("y")
    sess.run_with_iobinding(binding)
    first = binding.copy_outputs_to_cpu()[0]
    want_first = sess.run(["y"], {"x": x})[0]
    x[:] = rng.standard_normal(x.shape).astype(np.float32)  # the bound memory, rewritten
    sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], sess.run(["y"], {"x": x})[0])
    np.testing.assert_array_equal(first, want_first)
    wider = rng.standard_normal((5, IN)).astype(np.float32)
    binding.bind_cpu_input("x", wider)
    binding.bind_output("total")
    sess.run_with_iobinding(binding)
    y, total = binding.copy_outputs_to_cpu()
    want_y, want_total = sess.run(["y", "total"], {"x": wider})
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(total, want_total)
    binding.clear_binding_outputs()
    binding.bind_output("total")
    sess.run_with_iobinding(binding)
    (only,) = binding.copy_outputs_to_cpu()
    np.testing.assert_array_equal(only, want_total)


def test_iobinding_runs_on_the_session_set_providers_made(mlp_path, x):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_output("y")
    sess.run_with_iobinding(binding)
    before = sess.xrt_session
    sess.set_providers(["CPUExecutionProvider"])
    before.close()  # a binding still running the old session would fail here
    sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], sess.run(["y"], {"x": x})[0])


def test_iobinding_runs_from_many_threads(mlp_path, rng):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    inputs = [rng.standard_normal((2, IN)).astype(np.float32) for _ in range(4)]
    want = [sess.run(["y"], {"x": v})[0] for v in inputs]
    got = [None] * len(inputs)

    def work(i):
        binding = sess.io_binding()
        binding.bind_cpu_input("x", inputs[i])
        binding.bind_output("y")
        for _ in range(20):
            sess.run_with_iobinding(binding)
        got[i] = binding.copy_outputs_to_cpu()[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_bound_output_values_from_many_threads(mlp_path, rng):
    """Each thread's run writes into its own bound value, while the
    session's kept ONNX Runtime binding passes from run to run."""
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    inputs = [rng.standard_normal((2 + i % 2, IN)).astype(np.float32) for i in range(4)]
    want = [sess.run(["y"], {"x": v})[0] for v in inputs]
    wrong = []

    def work(i):
        y = xort.OrtValue.ortvalue_from_numpy(np.zeros_like(want[i]))
        binding = sess.io_binding()
        binding.bind_cpu_input("x", inputs[i])
        binding.bind_ortvalue_output("y", y)
        for _ in range(20):
            y.update_inplace(np.full_like(want[i], np.nan))
            sess.run_with_iobinding(binding)
            if not np.array_equal(y.numpy(), want[i]):
                wrong.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong


def test_input_bound_again_while_the_binding_runs(mlp_path, rng):
    """Rebinding an input (same shape, new memory) from one thread while
    another runs the binding: each run holds the inputs it started with."""
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    batches = [rng.standard_normal((3, IN)).astype(np.float32) for _ in range(2)]
    binding = sess.io_binding()
    binding.bind_cpu_input("x", batches[0])
    binding.bind_output("y")
    sess.run_with_iobinding(binding)
    done = threading.Event()

    def rebind():
        for i in range(300):
            binding.bind_cpu_input("x", batches[i % 2])
        done.set()

    thread = threading.Thread(target=rebind)
    thread.start()
    while not done.is_set():
        sess.run_with_iobinding(binding)
    thread.join()
    sess.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0],
                                  sess.run(["y"], {"x": batches[1]})[0])


def test_metadata_of_a_model_without_any(tmp_path):
    graph = helper.make_graph([helper.make_node("Identity", ["a"], ["b"])], "",
                              [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = xort.InferenceSession(model.SerializeToString()).get_modelmeta()
    assert (meta.producer_name, meta.graph_name, meta.version, meta.custom_metadata_map) == \
        ("", "", 0, {})


# ---- logging: one knob, each warning once, no colour off a terminal --------

_LOGGING_SCRIPT = """
import os, sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper
import xpuruntime.onnxruntime as ort

def model(unused):  # ONNX Runtime warns about an initializer no node uses
    graph = helper.make_graph(
        [helper.make_node("Identity", ["a"], ["b"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [2])],
        [numpy_helper.from_array(np.zeros(2, np.float32), unused)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m.SerializeToString()

print("<twice>", file=sys.stderr, flush=True)
ort.InferenceSession(model("unused_a"))
ort.InferenceSession(model("unused_a"))
print("<option>", file=sys.stderr, flush=True)
so = ort.SessionOptions()
so.log_severity_level = 3
ort.InferenceSession(model("unused_b"), so)
print("<default>", file=sys.stderr, flush=True)
ort.set_default_logger_severity(3)
ort.InferenceSession(model("unused_c"))
"""


def _logging_run(env_severity=None):
    import subprocess
    import sys
    env = dict(os.environ)
    env.pop("XPURUNTIME_LOG_SEVERITY", None)
    if env_severity is not None:
        env["XPURUNTIME_LOG_SEVERITY"] = env_severity
    done = subprocess.run([sys.executable, "-c", _LOGGING_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_warnings_appear_once_uncoloured_and_each_knob_silences_them():
    err = _logging_run()
    twice = err.split("<twice>")[1].split("<option>")[0]
    assert twice.count("unused_a") == 1, twice
    assert "\x1b[" not in twice
    assert "unused_b" not in err  # SessionOptions.log_severity_level
    assert "unused_c" not in err  # set_default_logger_severity


def test_environment_variable_silences_warnings():
    err = _logging_run(env_severity="error")
    assert "unused_a" not in err



def snippet_profiling(ort, path, x):
    so = ort.SessionOptions()
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(os.path.dirname(path), "profile")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    sess.run(None, {"x": x})
    prof_file = sess.end_profiling()
    with open(prof_file) as f:
        events = json.load(f)
    events = events["traceEvents"] if isinstance(events, dict) else events
    # A Chrome trace either way; the nodes' events carry onnxruntime's names.
    nodes = sorted({e["name"] for e in events
                    if e.get("ph") == "X" and e.get("cat") in ("Node", "onnxruntime.Node")})
    assert nodes, "the profile has no node events"
    return os.path.basename(prof_file).startswith("profile_"), nodes, sess.end_profiling()


SNIPPETS.append(snippet_profiling)


def test_end_profiling_twice_through_the_runtime_raises(mlp_path, tmp_path, x):
    sess = xrt.InferenceSession(mlp_path, backend="onnxruntime", enable_profiling=True)
    sess.run(None, {"x": x})
    sess.end_profiling(tmp_path / "a.json")
    with pytest.raises(xrt.InvalidArgument, match="already ended"):
        sess.end_profiling(tmp_path / "b.json")
    assert not (tmp_path / "b.json").exists()


def test_core_session_honours_run_options_too(mlp_path, x):
    """xpuruntime.InferenceSession.run's run_options is never ignored."""
    sess = xrt.InferenceSession(mlp_path, backend="onnxruntime")
    with pytest.raises(TypeError, match="RunOptions"):
        sess.run(None, {"x": x}, object())
    ro = xort.RunOptions()
    np.testing.assert_array_equal(sess.run(None, {"x": x}, ro)[0], sess.run(None, {"x": x})[0])
    ro.terminate = True
    with pytest.raises(xrt.BackendError, match="terminate"):
        sess.run(None, {"x": x}, ro)


# ---- the newer dtypes, end to end through this layer -----------------------

_NEW_DTYPES = [
    (TensorProto.UINT16, "uint16"), (TensorProto.UINT32, "uint32"),
    (TensorProto.UINT64, "uint64"), (TensorProto.FLOAT8E4M3FN, "float8_e4m3fn"),
    (TensorProto.FLOAT8E5M2, "float8_e5m2"), (TensorProto.FLOAT8E4M3FNUZ, "float8_e4m3fnuz"),
    (TensorProto.FLOAT8E5M2FNUZ, "float8_e5m2fnuz"),
]


@pytest.mark.parametrize("elem, name", _NEW_DTYPES, ids=[n for _, n in _NEW_DTYPES])
def test_new_dtypes_run_like_onnxruntime(elem, name, rng):
    """Identity on every bit pattern (NaNs included): run, IO binding and
    OrtValues give onnxruntime's bytes and dtype."""
    import ml_dtypes  # noqa: F401  (registers the float8 dtypes with numpy)
    dtype = np.dtype(name)
    graph = helper.make_graph([helper.make_node("Identity", ["a"], ["b"])], "identity",
                              [helper.make_tensor_value_info("a", elem, ["n"])],
                              [helper.make_tensor_value_info("b", elem, ["n"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    model = model.SerializeToString()
    raw = rng.integers(0, 256, size=64 * dtype.itemsize, dtype=np.uint8)
    a = raw.view(dtype)
    sess = xort.InferenceSession(model)
    assert sess.get_inputs()[0].type == f"tensor({name.replace('_', '')})"
    got = sess.run(None, {"a": a})[0]
    binding = sess.io_binding()
    binding.bind_ortvalue_input("a", xort.OrtValue.ortvalue_from_numpy(a))
    binding.bind_output("b")
    sess.run_with_iobinding(binding)
    bound = binding.copy_outputs_to_cpu()[0]
    for out in (got, bound):
        assert out.dtype == dtype and out.tobytes() == a.tobytes()
    if real_ort is not None and not name.startswith("float8"):
        # onnxruntime's Python API cannot take ml_dtypes' float8 arrays at all.
        theirs = real_ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        want = theirs.run(None, {"a": a})[0]
        assert want.dtype == got.dtype and want.tobytes() == got.tobytes()


# ---- terminate from another thread -----------------------------------------

def _slow_model(layers=48, width=768):
    """A chain of MatMuls: seconds of work, checked between nodes."""
    rng = np.random.default_rng(1)
    nodes, inits, x = [], [], "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"h{i}"]))
        x = f"h{i}"
    nodes.append(helper.make_node("Identity", [x], ["y"]))
    graph = helper.make_graph(nodes, "slow",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [width, width])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [width, width])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString(), np.ones((width, width), np.float32)


def test_terminate_from_another_thread_stops_a_running_session():
    import time
    model, x = _slow_model()
    so = xort.SessionOptions()
    so.graph_optimization_level = xort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep the chain
    sess = xort.InferenceSession(model, so)
    start = time.perf_counter()
    sess.run(None, {"x": x})
    full = time.perf_counter() - start
    ro = xort.RunOptions()
    outcome = {}

    def run():
        try:
            sess.run(None, {"x": x}, ro)
            outcome["result"] = "finished"
        except xrt.BackendError as error:
            outcome["result"] = str(error)
        outcome["at"] = time.perf_counter()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(full / 4)
    stopped_at = time.perf_counter()
    ro.terminate = True
    thread.join()
    assert "stopped" in outcome["result"]
    assert outcome["at"] - stopped_at < full / 2, (outcome["at"] - stopped_at, full)
    # Set, it stops later runs at once; cleared, they run again.
    with pytest.raises(xrt.BackendError, match="stopped"):
        sess.run_with_ort_values(["y"], {"x": xort.OrtValue.ortvalue_from_numpy(x)}, ro)
    ro.terminate = False
    assert sess.run(None, {"x": x}, ro)[0].shape == x.shape


def test_openvino_provider_reaches_the_openvino_backend(mlp_path, x):
    """onnxruntime-openvino's provider name runs on our OpenVINO backend
    when ONNX Runtime itself lacks that provider."""
    if not any(b.name == "openvino" and b.available for b in xrt.backends()):
        pytest.skip("the OpenVINO backend is not available (pip install openvino)")
    assert "OpenVINOExecutionProvider" in xort.get_available_providers()
    sess = xort.InferenceSession(mlp_path, providers=["OpenVINOExecutionProvider"])
    want_ort = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    want = want_ort.run(["y"], {"x": x})
    if sess.xrt_session.backend == "openvino":
        assert sess.get_providers() == ["OpenVINOExecutionProvider"]
    # "y" only: the OpenVINO backend fails on rank-0 outputs ("total").
    np.testing.assert_allclose(sess.run(["y"], {"x": x})[0], want[0], rtol=1e-4, atol=1e-4)
    # OpenVINO's outputs are its own memory: copied into the caller's bound
    # value, run after run.
    y = xort.OrtValue.ortvalue_from_numpy(np.zeros((x.shape[0], OUT), np.float32))
    view = y.numpy()
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_ortvalue_output("y", y)
    sess.run_with_iobinding(binding)
    np.testing.assert_allclose(view, want[0], rtol=1e-4, atol=1e-4)
    x2 = x[::-1].copy()
    binding.bind_cpu_input("x", x2)
    sess.run_with_iobinding(binding)
    np.testing.assert_allclose(view, want_ort.run(["y"], {"x": x2})[0], rtol=1e-4, atol=1e-4)
    assert binding.get_outputs()[0].data_ptr() == y.data_ptr()
    binding.bind_ortvalue_output("y", xort.OrtValue.ortvalue_from_numpy(
        np.zeros((x.shape[0] + 1, OUT), np.float32)))
    too_long = re.escape("output 'y' was given with shape (4, 4), the run gave float32 (3, 4)")
    with pytest.raises(xrt.InvalidArgument, match=too_long):
        sess.run_with_iobinding(binding)
    so = xort.SessionOptions()
    so.log_severity_level = 3  # an ONNX Runtime knob: not passed to OpenVINO
    xort.InferenceSession(mlp_path, so, providers=["OpenVINOExecutionProvider"])


def test_provider_options_are_applied_or_refused(mlp_path):
    sess = xort.InferenceSession(mlp_path, providers=[("CPUExecutionProvider",
                                                       {"use_arena": "0"})])
    assert sess.get_provider_options() == {"CPUExecutionProvider": {"use_arena": "0"}}
    with pytest.raises(xrt.InvalidArgument, match="no_such_option"):
        xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"],
                              provider_options=[{"no_such_option": "1"}])


@pytest.mark.parametrize("call, error, words", [
    (lambda s, b, x: b.bind_input("x", "cpu", 0, np.float32, (-1, IN), x.ctypes.data),
     xrt.InvalidArgument, "negative"),
    (lambda s, b, x: b.bind_input("x", "cpu", 0, np.float32, x.shape, 0),
     xrt.InvalidArgument, "NULL"),
    (lambda s, b, x: b.bind_output("y", "cpu", 0, np.float32, None, x.ctypes.data),
     xrt.InvalidArgument, "shape"),
    (lambda s, b, x: b.bind_ortvalue_input("x", x), TypeError, "OrtValue"),
    (lambda s, b, x: s.run_with_iobinding(object()), TypeError, "IOBinding"),
    (lambda s, b, x: s.run_with_ort_values(None, {"x": x}), TypeError, "'x'"),
    (lambda s, b, x: xort.OrtValue(x), TypeError, "ortvalue_from_numpy"),
    (lambda s, b, x: xort.InferenceSession(b"not a model"), xrt.InvalidArgument, "protobuf"),
    (lambda s, b, x: xort.InferenceSession(b"", providers=[42]), TypeError, "42"),
    (lambda s, b, x: xort.InferenceSession(b"x", sess_options=xort.RunOptions()), TypeError,
     "SessionOptions"),
    (lambda s, b, x: xort.set_default_logger_severity(7), ValueError, "7"),
], ids=["negative-dim", "null-pointer", "buffer-without-shape", "array-as-ortvalue",
        "foreign-binding", "array-as-ortvalue-feed", "array-into-ortvalue", "bad-model",
        "bad-provider", "wrong-options-type", "bad-severity"])
def test_bad_input_is_a_typed_error_naming_it(mlp_path, x, call, error, words):
    sess = xort.InferenceSession(mlp_path, providers=["CPUExecutionProvider"])
    with pytest.raises(error, match=words):
        call(sess, sess.io_binding(), x)
