"""The Open Inference Protocol's wire format (KServe v2 / Triton HTTP/REST):
JSON tensors, the binary tensor extension, and its error responses.

Pure Python and numpy: the HTTP layer hands bytes in and gets bytes out, so
every rule about a request's shape lives here once.
"""
from __future__ import annotations

import json
import math
import zlib

import numpy as np

try:  # bfloat16 has no numpy dtype of its own
    import ml_dtypes
    _BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - ml_dtypes is a core dependency
    _BF16 = None

HEADER_LENGTH = "inference-header-content-length"

# One table: protocol datatype <-> numpy dtype.
_DATATYPES = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8), "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32), "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8), "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32), "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16), "FP32": np.dtype(np.float32), "FP64": np.dtype(np.float64),
}
if _BF16 is not None:
    _DATATYPES["BF16"] = _BF16
_BY_DTYPE = {dtype: name for name, dtype in _DATATYPES.items()}


class ProtocolError(Exception):
    """A request the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def datatype_of(dtype):
    """The protocol's name of a numpy dtype, or None where it has none."""
    return _BY_DTYPE.get(np.dtype(dtype)) if dtype is not None else None


def dtype_of(datatype, where):
    dtype = _DATATYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise ProtocolError(f"{where} has datatype {datatype!r}; supported: "
                            + ", ".join(_DATATYPES))
    return dtype


def error_body(message):
    return json.dumps({"error": str(message)}).encode()


def _shape(value, where):
    if not isinstance(value, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value):
        raise ProtocolError(f"{where} has shape {value!r}; expected a list of "
                            "non-negative integers")
    return tuple(value)


def _decompress(body, encoding, max_bytes):
    """The body decoded from its Content-Encoding, refused (413) once it
    grows past ``max_bytes`` (None: no bound): the request limit must hold
    for what the body inflates to, or a small body can take all memory."""
    if not encoding or encoding == "identity":
        return body
    if encoding not in ("gzip", "deflate"):
        raise ProtocolError(f"Content-Encoding {encoding!r} is not supported "
                            "(gzip, deflate or none)", status=415)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, 0 if max_bytes is None else max_bytes + 1)
    except zlib.error as error:
        raise ProtocolError(f"body is not valid {encoding} data: {error}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise ProtocolError(f"request body is over the limit of {max_bytes} bytes once "
                            f"{encoding}-decoded", 413)
    if not inflater.eof:
        raise ProtocolError(f"body is not valid {encoding} data: it ends before the stream does")
    return data


class InferRequest:
    """A decoded infer request: ``inputs`` (name -> numpy array, in order),
    ``outputs`` (name -> wants binary, or None for all), ``binary_output``
    (the default for outputs not listed), ``id`` and ``parameters``."""

    __slots__ = ("binary_output", "id", "inputs", "outputs", "parameters")


def decode_request(body, header_length=None, content_encoding=None, max_bytes=None):
    """Parses an infer request body (at most ``max_bytes`` once decoded);
    raises ProtocolError naming what is wrong."""
    body = _decompress(body, content_encoding, max_bytes)
    if header_length is None:
        header, binary = body, b""
    else:
        try:
            length = int(header_length)
        except ValueError:
            length = -1
        if length < 0 or length > len(body):
            raise ProtocolError(f"Inference-Header-Content-Length is {header_length!r}; "
                                f"expected an integer from 0 to the body's {len(body)} bytes")
        header, binary = body[:length], memoryview(body)[length:]
    try:
        request = json.loads(header)
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(f"request is not valid JSON: {error}") from None
    if not isinstance(request, dict):
        raise ProtocolError(f"request must be a JSON object, not {type(request).__name__}")
    parameters = request.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ProtocolError("request parameters must be a JSON object")
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ProtocolError("request must have a non-empty list of \"inputs\"")

    result = InferRequest()
    result.id = request.get("id")
    result.parameters = parameters
    result.binary_output = bool(parameters.get("binary_data_output", False))
    result.inputs = {}
    offset = 0
    for index, tensor in enumerate(inputs):
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise ProtocolError(f"input {index} must be an object with a \"name\"")
        name = tensor["name"]
        where = f"input {name!r}"
        if name in result.inputs:
            raise ProtocolError(f"{where} is given twice")
        dtype = dtype_of(tensor.get("datatype"), where)
        shape = _shape(tensor.get("shape"), where)
        count = math.prod(shape)  # exact: numpy's int64 product wraps to a wrong count
        params = tensor.get("parameters") or {}
        size = params.get("binary_data_size") if isinstance(params, dict) else None
        if size is not None:
            expected = count * dtype.itemsize
            if size != expected:
                raise ProtocolError(f"{where} has binary_data_size {size!r}; its datatype "
                                    f"{tensor['datatype']} and shape {list(shape)} "
                                    f"take {expected} bytes")
            if offset + size > len(binary):
                raise ProtocolError(f"{where} needs bytes {offset} to {offset + size} of "
                                    f"the binary data, which has {len(binary)}")
            array = np.frombuffer(binary[offset:offset + size], dtype=dtype).reshape(shape)
            if array.ctypes.data % _ALIGNMENT:
                array = _aligned_copy(array)
            offset += size
        else:
            array = _from_json(tensor.get("data"), dtype, shape, where)
        result.inputs[name] = array
    if offset != len(binary):
        raise ProtocolError(f"the binary data has {len(binary)} bytes; the inputs' "
                            f"binary_data_size add up to {offset}")

    outputs = request.get("outputs")
    if outputs is None:
        result.outputs = None
    else:
        if not isinstance(outputs, list):
            raise ProtocolError("request \"outputs\" must be a list")
        result.outputs = {}
        for index, tensor in enumerate(outputs):
            if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
                raise ProtocolError(f"output {index} must be an object with a \"name\"")
            params = tensor.get("parameters") or {}
            binary_flag = params.get("binary_data", result.binary_output) \
                if isinstance(params, dict) else result.binary_output
            result.outputs[tensor["name"]] = bool(binary_flag)
    return result


# The JSON header's length decides where binary data start. Kernels that
# vectorise by address (ONNX Runtime's reductions) round differently on data
# that are not 16-byte aligned, so such tensors are moved to where a fresh
# numpy array would be and the answer equals a local session's to the bit.
_ALIGNMENT = 64


def _aligned_copy(array):
    raw = np.empty(array.nbytes + _ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % _ALIGNMENT
    aligned = raw[start:start + array.nbytes].view(array.dtype).reshape(array.shape)
    aligned[...] = array
    return aligned


def _from_json(data, dtype, shape, where):
    if data is None:
        raise ProtocolError(f"{where} has neither \"data\" nor binary_data_size")
    try:
        array = np.asarray(data, dtype=dtype if dtype != _BF16 else np.float32)
        # numpy truncates 1.5 to an integer without a word.
        if dtype.kind in "iub" and _holds_a_float(data):
            raise TypeError("they hold non-integers")
    except (TypeError, ValueError, OverflowError) as error:
        raise ProtocolError(f"{where}: data are not {dtype.name} values ({error})") from None
    if array.size != math.prod(shape):
        raise ProtocolError(f"{where} has {array.size} values; shape {list(shape)} "
                            f"takes {math.prod(shape)}")
    return array.astype(dtype, copy=False).reshape(shape)


def _holds_a_float(data):
    """Whether JSON data (numbers in nested lists) hold a float. numpy's
    own guess of the type cannot tell: it makes [] and [1, 2**64 - 1]
    float64 too, so only those arrays are looked through."""
    if np.asarray(data).dtype.kind != "f":
        return False
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, float):
            return True
    return False


def encode_response(model_name, version, request, names, arrays, parameters=None):
    """The response body and its Inference-Header-Content-Length (None when
    everything is JSON)."""
    wanted = request.outputs
    outputs, chunks = [], []
    for name, array in zip(names, arrays):
        array = np.asarray(array)
        binary = request.binary_output if wanted is None else wanted[name]
        entry = {"name": name, "datatype": datatype_of(array.dtype), "shape": list(array.shape)}
        if binary:
            data = np.ascontiguousarray(array).tobytes()
            entry["parameters"] = {"binary_data_size": len(data)}
            chunks.append(data)
        else:
            entry["data"] = (array.astype(np.float32) if array.dtype == _BF16
                             else array).ravel().tolist()
        outputs.append(entry)
    response = {"model_name": model_name, "model_version": version, "outputs": outputs}
    if request.id is not None:
        response["id"] = request.id
    if parameters:
        response["parameters"] = parameters
    header = json.dumps(response).encode()
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)
