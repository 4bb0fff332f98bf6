"""What to serve: one model file, or a repository folder laid out as Triton's
(``NAME/VERSION/model.onnx``, VERSION a positive integer)."""
from __future__ import annotations

import os
import re

from ..errors import InvalidArgument

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def model_name(path):
    """A model file is served under its file name without the extension."""
    return os.path.splitext(os.path.basename(os.fspath(path).rstrip(os.sep)))[0]


def check_name(name):
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(f"model name {name!r} must be letters, digits, '_', '.' or '-'")
    return name


def discover(path):
    """{name: {version: file}} for a model file or a repository folder."""
    path = os.fspath(path)
    if os.path.isfile(path):
        return {check_name(model_name(path)): {"1": path}}
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path!r} is neither a model file nor a repository folder")
    models = {}
    for name in sorted(os.listdir(path)):
        folder = os.path.join(path, name)
        if os.path.isdir(folder) and not name.startswith("."):
            versions = model_versions(folder)
            if versions:
                models[check_name(name)] = versions
    if not models:
        raise FileNotFoundError(f"repository {path!r} holds no NAME/VERSION/model.onnx")
    return models


def model_versions(folder):
    """{version: file} of a repository's model folder, oldest first."""
    versions = {}
    for version in os.listdir(folder):
        model = os.path.join(folder, version, "model.onnx")
        if version.isdigit() and int(version) > 0 and os.path.isfile(model):
            versions[str(int(version))] = model
    return dict(sorted(versions.items(), key=lambda kv: int(kv[0])))
