"""Writes the ONNX models that seed fuzz_session_model's corpus: small, valid
models that reach different parts of model loading and running (symbolic and
fixed dimensions, several inputs and outputs, integer and boolean tensors,
shape-dependent ops, initializers, subgraphs):

    python tests/fuzz/make_seed_models.py
"""
from pathlib import Path

import onnx
from onnx import TensorProto, helper

OUT = Path(__file__).resolve().parent / "corpus" / "fuzz_session_model"
FLOAT, INT64, BOOL, HALF = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL, TensorProto.FLOAT16


def model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "seed", inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(m)
    return m


def value(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def seeds():
    yield "add_bias", model(
        [helper.make_node("Add", ["x", "b"], ["y"])],
        [value("x", FLOAT, ["batch", 4])], [value("y", FLOAT, ["batch", 4])],
        [helper.make_tensor("b", FLOAT, [4], [1.0, 2.0, 3.0, 4.0])])
    yield "matmul_relu_two_outputs", model(
        [helper.make_node("MatMul", ["a", "b"], ["p"]), helper.make_node("Relu", ["p"], ["r"])],
        [value("a", FLOAT, ["n", 3]), value("b", FLOAT, [3, 2])],
        [value("p", FLOAT, ["n", 2]), value("r", FLOAT, ["n", 2])])
    yield "softmax_cast_half", model(
        [helper.make_node("Softmax", ["x"], ["s"], axis=-1), helper.make_node("Cast", ["s"], ["h"], to=HALF)],
        [value("x", FLOAT, [2, "k"])], [value("h", HALF, [2, "k"])])
    yield "reshape_by_input", model(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        [value("x", FLOAT, [2, 3]), value("shape", INT64, [2])], [value("y", FLOAT, ["r0", "r1"])])
    yield "gather_int64", model(
        [helper.make_node("Gather", ["table", "idx"], ["y"], axis=0)],
        [value("table", FLOAT, [5, 2]), value("idx", INT64, ["m"])], [value("y", FLOAT, ["m", 2])])
    yield "where_bool", model(
        [helper.make_node("Where", ["c", "a", "b"], ["y"])],
        [value("c", BOOL, [3]), value("a", FLOAT, [3]), value("b", FLOAT, [3])], [value("y", FLOAT, [3])])
    then = helper.make_graph([helper.make_node("Neg", ["x"], ["t"])], "then", [], [value("t", FLOAT, [2])])
    other = helper.make_graph([helper.make_node("Abs", ["x"], ["e"])], "else", [], [value("e", FLOAT, [2])])
    yield "if_subgraph", model(
        [helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)],
        [value("c", BOOL, []), value("x", FLOAT, [2])], [value("y", FLOAT, [2])])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, m in seeds():
        (OUT / f"{name}.onnx").write_bytes(m.SerializeToString())


if __name__ == "__main__":
    main()
