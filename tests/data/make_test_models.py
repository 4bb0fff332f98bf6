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


def main() -> None:
    model = add_model()
    onnx.checker.check_model(model)
    onnx.save(model, HERE / "add_bias.onnx")


if __name__ == "__main__":
    main()
