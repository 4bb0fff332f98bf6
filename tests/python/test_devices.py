import pathlib
import pickle
import re
import subprocess
import sys

import pytest

import xpuruntime as xrt


def test_version_is_the_libraries():
    assert re.fullmatch(r"\d+\.\d+\.\d+", xrt.__version__)


def test_api_version_is_the_headers():
    header = pathlib.Path(xrt.get_include(), "xpuruntime", "xpuruntime.h").read_text()
    declared = int(re.search(r"#define XRT_API_VERSION (\d+)", header).group(1))
    assert xrt.api_version() == declared >= 3


def test_devices_start_with_the_cpu():
    devices = xrt.devices()
    assert devices[0] == xrt.Device("cpu")
    cpu = devices[0]
    assert (cpu.kind, cpu.index, cpu.name) == ("cpu", 0, "cpu")
    assert cpu.total_memory > 0
    assert cpu.compute_units >= 1
    assert all(d.kind in ("cpu", "cuda") for d in devices)


def test_device_equality_hash_and_repr():
    cpu = xrt.Device("cpu")
    assert xrt.Device("cpu:0") == cpu
    assert cpu == "cpu" and cpu != "cuda:0"
    assert hash(xrt.Device("cpu:0")) == hash(cpu)
    assert len({cpu, xrt.Device("cpu"), *xrt.devices()}) == len(xrt.devices())
    assert repr(cpu) == "Device('cpu')"
    assert xrt.Device(cpu) == cpu
    assert pickle.loads(pickle.dumps(cpu)) == cpu


@pytest.mark.parametrize("name", ["tpu:0", "cuda:7", "cpu:3"])
def test_unknown_device_is_not_found(name):
    with pytest.raises(xrt.NotFound, match=re.escape(name)) as info:
        xrt.Device(name)
    assert isinstance(info.value, LookupError)


def test_device_must_be_a_name_or_device():
    with pytest.raises(TypeError, match="int"):
        xrt.Device(0)


def test_backends_list_the_cpu_and_explain_the_rest():
    backends = xrt.backends()
    cpu = next(b for b in backends if b.name == "cpu")
    assert cpu.available and cpu.builtin and cpu.reason == ""
    assert cpu.version == xrt.__version__
    for backend in backends:
        assert backend.available or backend.reason, backend
        assert backend.builtin or backend.path, backend


def test_import_does_not_import_torch():
    code = "import sys, xpuruntime; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
