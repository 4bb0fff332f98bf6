"""The ONNX backend test cases and a comparison of one case between
onnxruntime and xpuruntime.onnxruntime: shared by
tests/python/test_onnx_backend_parity.py and bench/bench_onnx_parity.py.

Cases: the node tests (onnx.backend.test.case.node, built in memory by the
onnx package: the wheel ships their code, not their files) and the onnx
wheel's pytorch-converted, pytorch-operator and simple folders (model.onnx
plus test_data_set_*/input_N.pb).
"""

import glob
import os

import numpy as np
import onnx
from onnx import numpy_helper

FILE_SUITES = ("pytorch-converted", "pytorch-operator", "simple")


class Case:
    """One model and the feeds of its data sets."""

    def __init__(self, suite, name, load):
        self.suite, self.name, self._load = suite, name, load

    @property
    def id(self):
        return f"{self.suite}/{self.name}"

    def load(self):
        """(model bytes, [feed dict per data set])"""
        return self._load()


def _node_case(test):
    def load():
        names = [i.name for i in test.model.graph.input]
        feeds = [{names[j]: value for j, value in enumerate(inputs)}
                 for inputs, _ in test.data_sets]
        return test.model.SerializeToString(), feeds
    return Case("node", test.name, load)


def _file_case(suite, path):
    return Case(suite, os.path.basename(path), lambda: _load_folder(path))


def cases(node=True):
    """Every case: the node tests (when ``node``) then the file suites."""
    found = []
    if node:
        import warnings

        from onnx.backend.test.case import node as node_cases
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the expected outputs' numpy warnings
            found += [_node_case(t) for t in node_cases.collect_testcases()]
    data = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    for suite in FILE_SUITES:
        for model in sorted(glob.glob(os.path.join(data, suite, "*", "model.onnx"))):
            found.append(_file_case(suite, os.path.dirname(model)))
    return found


def _read_value(path, type_proto):
    """One .pb file as the value onnxruntime's Python API takes for that type."""
    with open(path, "rb") as f:
        data = f.read()
    kind = type_proto.WhichOneof("value")
    if kind == "sequence_type":
        proto = onnx.SequenceProto()
        proto.ParseFromString(data)
        return numpy_helper.to_list(proto)
    if kind == "map_type":
        proto = onnx.MapProto()
        proto.ParseFromString(data)
        return numpy_helper.to_dict(proto)
    if kind == "optional_type":
        proto = onnx.OptionalProto()
        proto.ParseFromString(data)
        return numpy_helper.to_optional(proto)
    proto = onnx.TensorProto()
    proto.ParseFromString(data)
    return numpy_helper.to_array(proto)


def _load_folder(path):
    model_path = os.path.join(path, "model.onnx")
    with open(model_path, "rb") as f:
        data = f.read()
    model = onnx.load_from_string(data)
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    feeds = []
    for data_set in sorted(glob.glob(os.path.join(path, "test_data_set_*"))):
        feed = {}
        for n, value_info in enumerate(inputs):
            file = os.path.join(data_set, f"input_{n}.pb")
            if os.path.exists(file):
                feed[value_info.name] = _read_value(file, value_info.type)
        feeds.append(feed)
    return data, feeds


def _bits(value):
    """A comparable form: arrays as (dtype, shape, bytes), so NaNs with the
    same payload compare equal and -0.0 differs from 0.0."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("object", value.shape, [str(v) for v in value.ravel()])
        return (value.dtype.str, value.shape, np.ascontiguousarray(value).tobytes())
    if isinstance(value, (list, tuple)):
        return [_bits(v) for v in value]
    if isinstance(value, dict):
        return {k: _bits(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return _bits(np.asarray(value))
    return value


def compare_case(case, ort, xort):
    """"skip" when onnxruntime itself cannot run the case; "same" when ours
    gives bit-identical outputs (values, dtypes, shapes); else our error or
    the first difference."""
    model, feeds = case.load()
    try:
        theirs_session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        theirs = [theirs_session.run(None, feed) for feed in feeds]
    except Exception:
        return "skip"
    try:
        ours_session = xort.InferenceSession(model, providers=["CPUExecutionProvider"])
        ours = [ours_session.run(None, feed) for feed in feeds]
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    for n, (a, b) in enumerate(zip(ours, theirs)):
        if _bits(a) != _bits(b):
            return f"data set {n}: outputs differ"
    return "same"
