"""get_modelmeta(): the model's metadata, read from the ONNX file itself.

Only the few top-level protobuf fields ONNX Runtime reports are decoded;
everything else (nodes, weights) is skipped by its length, so a large model
costs a scan of its field headers, not a parse. The same answer on every
backend.
"""

import mmap
import os

# ModelProto and GraphProto field numbers (onnx.proto).
_PRODUCER_NAME = 2
_DOMAIN = 4
_MODEL_VERSION = 5
_DOC_STRING = 6
_GRAPH = 7
_METADATA_PROPS = 14
_GRAPH_NAME = 2
_GRAPH_DOC_STRING = 10

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class ModelMetadata:
    """onnxruntime.ModelMetadata."""

    __slots__ = ("producer_name", "graph_name", "domain", "description",
                 "graph_description", "version", "custom_metadata_map")

    def __init__(self):
        self.producer_name = self.graph_name = self.domain = ""
        self.description = self.graph_description = ""
        self.version = 0
        self.custom_metadata_map = {}

    def __repr__(self):
        return (f"ModelMetadata(producer_name={self.producer_name!r}, "
                f"graph_name={self.graph_name!r}, version={self.version})")


def _varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(data, start, end):
    """(field number, wire type, value or (start, end) of its bytes)."""
    pos = start
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _varint(data, pos)
        elif wire == _LENGTH:
            length, pos = _varint(data, pos)
            value = (pos, pos + length)
            pos += length
        elif wire == _FIXED64:
            value, pos = None, pos + 8
        elif wire == _FIXED32:
            value, pos = None, pos + 4
        else:
            raise ValueError(f"wire type {wire} at byte {pos}")
        if pos > end:
            raise ValueError("a field runs past the end of the model")
        yield number, wire, value


def _text(data, span):
    return bytes(data[span[0]:span[1]]).decode("utf-8", "replace")


def _read(data):
    meta = ModelMetadata()
    for number, wire, value in _fields(data, 0, len(data)):
        if wire == _LENGTH and number == _PRODUCER_NAME:
            meta.producer_name = _text(data, value)
        elif wire == _LENGTH and number == _DOMAIN:
            meta.domain = _text(data, value)
        elif wire == _VARINT and number == _MODEL_VERSION:
            meta.version = value
        elif wire == _LENGTH and number == _DOC_STRING:
            meta.description = _text(data, value)
        elif wire == _LENGTH and number == _GRAPH:
            for n, w, v in _fields(data, *value):
                if w == _LENGTH and n == _GRAPH_NAME:
                    meta.graph_name = _text(data, v)
                elif w == _LENGTH and n == _GRAPH_DOC_STRING:
                    meta.graph_description = _text(data, v)
        elif wire == _LENGTH and number == _METADATA_PROPS:
            entry = {n: _text(data, v) for n, w, v in _fields(data, *value) if w == _LENGTH}
            meta.custom_metadata_map[entry.get(1, "")] = entry.get(2, "")
    return meta


def read_metadata(model):
    """ModelMetadata of a model given as a path or bytes."""
    if isinstance(model, (str, os.PathLike)):
        with open(model, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return ModelMetadata()
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _read(data)
    return _read(memoryview(model).cast("B"))
