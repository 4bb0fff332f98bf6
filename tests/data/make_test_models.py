"""Writes the small ONNX models the C tests load (kept in the repository so
the C tests need no Python packages at run time):

    python tests/data/make_test_models.py
"""
from pathlib import Path

import onnx
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent


def add_model() -> onnx.ModelProto:
    """y = x + b, x float32 (batch, 4) with a symbolic batch, b (4,)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    b = helper.make_tensor("b", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    graph = helper.make_graph([helper.make_node("Add", ["x", "b"], ["y"])], "add", [x], [y], [b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def values_model() -> onnx.ModelProto:
    """Values of every kind: a string tensor, a sequence, an optional in;
    the strings, the sequence's length, whether the optional holds a value
    and ZipMap's list of maps out."""
    float_seq = helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    maybe = helper.make_optional_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    maps = helper.make_sequence_type_proto(helper.make_map_type_proto(
        TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, None)))
    graph = helper.make_graph(
        [helper.make_node("Identity", ["words"], ["same_words"]),
         helper.make_node("SequenceLength", ["items"], ["count"]),
         helper.make_node("OptionalHasElement", ["maybe"], ["has"]),
         helper.make_node("ZipMap", ["scores"], ["labelled"], domain="ai.onnx.ml",
                          classlabels_int64s=[7, 9])],
        "values",
        [helper.make_tensor_value_info("words", TensorProto.STRING, ["n"]),
         helper.make_value_info("items", float_seq),
         helper.make_value_info("maybe", maybe),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["rows", 2])],
        [helper.make_tensor_value_info("same_words", TensorProto.STRING, ["n"]),
         helper.make_tensor_value_info("count", TensorProto.INT64, []),
         helper.make_tensor_value_info("has", TensorProto.BOOL, []),
         helper.make_value_info("labelled", maps)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18),
                                                   helper.make_opsetid("ai.onnx.ml", 3)],
                             ir_version=9)


def main() -> None:
    for name, model in (("add_bias", add_model()), ("values", values_model())):
        onnx.checker.check_model(model)
        onnx.save(model, HERE / f"{name}.onnx")


if __name__ == "__main__":
    main()
