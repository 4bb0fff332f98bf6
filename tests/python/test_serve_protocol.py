"""The Open Inference Protocol codec alone: every datatype through JSON and
the binary extension, and each malformed request refused with its reason."""
from __future__ import annotations

import json
import zlib

import ml_dtypes
import numpy as np
import pytest

pytest.importorskip("ray.serve", reason="needs the serve extra (ray[serve])")
from xpuruntime.serve.protocol import (
    ProtocolError,
    datatype_of,
    decode_request,
    encode_response,
)

DTYPES = [np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32,
          np.int64, np.float16, np.float32, np.float64, ml_dtypes.bfloat16]


def random_array(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return rng.standard_normal(shape).astype(dtype)


def binary_request(arrays):
    inputs, chunks = [], []
    for name, array in arrays.items():
        data = np.ascontiguousarray(array).tobytes()
        inputs.append({"name": name, "datatype": datatype_of(array.dtype),
                       "shape": list(array.shape), "parameters": {"binary_data_size": len(data)}})
        chunks.append(data)
    header = json.dumps({"inputs": inputs}).encode()
    return header + b"".join(chunks), len(header)


def json_request(arrays):
    inputs = [{"name": n, "datatype": datatype_of(a.dtype), "shape": list(a.shape),
               "data": (a.astype(np.float64) if a.dtype.kind == "V" else a).ravel().tolist()}
              for n, a in arrays.items()]
    return json.dumps({"inputs": inputs}).encode()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(2, 3), (0, 4), (5,)], ids=str)
def test_round_trip_every_datatype(rng, dtype, shape):
    array = random_array(rng, dtype, shape)
    body, length = binary_request({"a": array})
    decoded = decode_request(body, str(length))
    assert decoded.inputs["a"].dtype == array.dtype
    np.testing.assert_array_equal(decoded.inputs["a"], array)
    decoded = decode_request(json_request({"a": array}))
    np.testing.assert_array_equal(decoded.inputs["a"], array)
    for binary in (False, True):
        decoded.binary_output = binary
        content, header_length = encode_response("m", "1", decoded, ["a"], [array])
        header = json.loads(content[:header_length] if header_length else content)
        (out,) = header["outputs"]
        assert out["datatype"] == datatype_of(array.dtype) and out["shape"] == list(shape)
        if binary:
            got = np.frombuffer(content[header_length:], dtype=array.dtype).reshape(shape)
        else:
            got = np.asarray(out["data"], dtype=np.float64 if array.dtype.kind == "V"
                             else array.dtype).astype(array.dtype).reshape(shape)
        np.testing.assert_array_equal(got, array)


def test_non_contiguous_output_is_written_in_row_major_order(rng):
    array = rng.standard_normal((4, 6)).astype(np.float32)[:, ::2].T
    decoded = decode_request(json_request({"a": array}))
    decoded.binary_output = True
    content, length = encode_response("m", "1", decoded, ["a"], [array])
    np.testing.assert_array_equal(
        np.frombuffer(content[length:], np.float32).reshape(array.shape), array)


def test_nested_json_data_and_compression(rng):
    array = rng.standard_normal((2, 3)).astype(np.float32)
    body = json.dumps({"inputs": [{"name": "a", "datatype": "FP32", "shape": [2, 3],
                                   "data": array.tolist()}]}).encode()
    np.testing.assert_array_equal(decode_request(body).inputs["a"], array)
    np.testing.assert_array_equal(decode_request(zlib.compress(body), None, "deflate")
                                  .inputs["a"], array)


def test_outputs_and_id_are_kept():
    body = json.dumps({"id": "r1", "inputs": [{"name": "a", "datatype": "INT32", "shape": [1],
                                               "data": [3]}],
                       "outputs": [{"name": "y", "parameters": {"binary_data": True}},
                                   {"name": "z"}]}).encode()
    decoded = decode_request(body)
    assert decoded.outputs == {"y": True, "z": False} and decoded.id == "r1"
    content, length = encode_response("m", "1", decoded, ["y", "z"],
                                      [np.int32([1]), np.int32([2])])
    header = json.loads(content[:length])
    assert header["id"] == "r1" and content[length:] == np.int32([1]).tobytes()


ONE = {"name": "a", "datatype": "FP32", "shape": [2], "data": [1.0, 2.0]}
BAD = [
    (b"{", None, None, "not valid JSON"),
    (b"\xff\xfe", None, None, "not valid JSON"),
    (b"7", None, None, "JSON object"),
    (json.dumps({"inputs": []}), None, None, "non-empty list"),
    (json.dumps({"inputs": [dict(ONE, datatype="FP128")]}), None, None, "'FP128'"),
    (json.dumps({"inputs": [dict(ONE, datatype=None)]}), None, None, "None"),
    (json.dumps({"inputs": [dict(ONE, shape=[-2])]}), None, None, "[-2]"),
    (json.dumps({"inputs": [dict(ONE, shape="2")]}), None, None, "'2'"),
    (json.dumps({"inputs": [dict(ONE, shape=[3])]}), None, None, "2 values"),
    (json.dumps({"inputs": [dict(ONE, data=["x", "y"])]}), None, None, "float32"),
    (json.dumps({"inputs": [{"name": "a", "datatype": "FP32", "shape": [1]}]}), None, None,
     "neither"),
    (json.dumps({"inputs": [ONE, ONE]}), None, None, "twice"),
    (json.dumps({"inputs": [{"datatype": "FP32"}]}), None, None, "input 0"),
    (json.dumps({"inputs": [ONE], "parameters": [1]}), None, None, "parameters"),
    (json.dumps({"inputs": [ONE], "outputs": {"y": 1}}), None, None, "outputs"),
    (json.dumps({"inputs": [ONE]}), "abc", None, "'abc'"),
    (json.dumps({"inputs": [ONE]}), "-1", None, "'-1'"),
    (json.dumps({"inputs": [ONE]}), None, "br", "'br'"),
    (b"not gzip", None, "gzip", "gzip"),
    (zlib.compress(json.dumps({"inputs": [ONE]}).encode())[:-6], None, "deflate",
     "ends before the stream does"),
    # numpy's int64 product of this shape wraps to 0, which [] matched.
    (json.dumps({"inputs": [dict(ONE, shape=[2**32, 2**32], data=[])]}), None, None,
     "takes 18446744073709551616"),
    (json.dumps({"inputs": [dict(ONE, datatype="INT32", data=[1, 2.5])]}), None, None,
     "not int32 values (they hold non-integers)"),
]


@pytest.mark.parametrize("body, length, encoding, words", BAD)
def test_bad_requests_say_what_is_wrong(body, length, encoding, words):
    body = body.encode() if isinstance(body, str) else body
    with pytest.raises(ProtocolError) as error:
        decode_request(body, length, encoding)
    assert words in str(error.value)
    assert error.value.status in (400, 415)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_the_size_limit_holds_for_the_decoded_body(encoding):
    """A small body that inflates past the limit is refused (413) before it
    is inflated further; without a limit it is decoded whole."""
    raw = json.dumps({"inputs": [dict(ONE, shape=[4096], data=[0.0] * 4096)]}).encode()
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    packer = zlib.compressobj(wbits=wbits)
    body = packer.compress(raw) + packer.flush()
    assert len(body) < 1000 < len(raw)
    with pytest.raises(ProtocolError, match=f"over the limit of 1000 bytes once {encoding}-decoded"
                       ) as error:
        decode_request(body, None, encoding, max_bytes=1000)
    assert error.value.status == 413
    assert decode_request(body, None, encoding, max_bytes=len(raw)).inputs["a"].shape == (4096,)
    assert decode_request(body, None, encoding).inputs["a"].shape == (4096,)


def test_binary_sizes_must_add_up():
    header = json.dumps({"inputs": [{"name": "a", "datatype": "FP32", "shape": [2],
                                     "parameters": {"binary_data_size": 8}}]}).encode()
    data = np.float32([1, 2]).tobytes()
    np.testing.assert_array_equal(decode_request(header + data, str(len(header))).inputs["a"],
                                  [1, 2])
    for body, words in ((header + data[:4], "4"), (header + data + b"x", "9 bytes")):
        with pytest.raises(ProtocolError, match=words):
            decode_request(body, str(len(header)))
    with pytest.raises(ProtocolError, match="binary_data_size 8"):
        decode_request(header.replace(b'[2]', b'[3]') + data,
                       str(len(header.replace(b'[2]', b'[3]'))))
