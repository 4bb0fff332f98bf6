"""InferenceSession on cuda:0 against onnxruntime's own Python API with the
CUDA execution provider, same models, measured in the same run.

    python bench/bench_ort_cuda.py [--quick] [--no-save]

Rows per model:
  * device-resident I/O: ``run_tensors`` with the input already on the GPU
    against onnxruntime's IoBinding (input bound as an OrtValue on the GPU,
    output bound to the GPU); every call ends with its result ready (ours
    synchronises the device, onnxruntime's run does itself);
  * numpy in and out: ``run`` against onnxruntime's ``run``.
The saving line is numpy ``run`` over device-resident ``run_tensors``.
Writes bench/results/<date>-ort-cuda.md. Needs onnxruntime-gpu and onnx.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

import xpuruntime as xrt

from benchlib import interleaved_medians, save_results
from bench_session import mlp_model

try:
    import onnx
    import onnxruntime as ort
except ImportError as error:
    sys.exit(f"bench_ort_cuda.py needs onnx and onnxruntime-gpu ({error})")

DEVICE = "cuda:0"
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")


def light_resnet50():
    path = os.path.join(LIGHT, "light_resnet50.onnx")
    session = xrt.InferenceSession(path)
    (arg,) = session.get_inputs()
    feed = {arg.name: np.random.default_rng(0).standard_normal(arg.shape).astype(np.float32)}
    return path, feed


MODELS = {  # name: (builder, label, calls per batch)
    "mlp": (mlp_model, "MLP 3x1024 Gemm+Relu, batch 32", 50),
    "resnet50": (light_resnet50, "ResNet-50 (onnx light model), 1x3x224x224", 10),
}


# Two copies of ONNX Runtime (the one xpuruntime loads and the one inside
# onnxruntime's Python module) would share one CUDA provider library in a
# process, so each side is measured in its own process, in alternation.
def worker(side, model_name, calls, repeats, out_path):
    """Runs in a child process: median seconds per call (device I/O, numpy)
    of one side, and its output saved to out_path."""
    model, feed = MODELS[model_name][0]()
    (name,) = feed
    if side == "ours":
        session = xrt.InferenceSession(model, device=DEVICE)
        x = xrt.asarray(feed[name], device=DEVICE)

        def device_io():
            result = session.run_tensors(None, {name: x})
            xrt.synchronize(DEVICE)
            return result[0].numpy()
    else:
        session = ort.InferenceSession(model,
                                       providers=[("CUDAExecutionProvider", {"device_id": 0})])
        binding = session.io_binding()
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(feed[name], "cuda", 0))
        binding.bind_output(session.get_outputs()[0].name, "cuda", 0)

        def device_io():
            session.run_with_iobinding(binding)
            return binding.get_outputs()[0].numpy()

    np.save(out_path, device_io())
    fns = [device_io, lambda: session.run(None, feed)]
    for fn in fns:  # warm: ORT picks its convolution algorithms on the first runs
        for _ in range(5):
            fn()
    if side == "ours":  # the timed call leaves the copy to the host out
        def device_io():
            session.run_tensors(None, {name: x})
            xrt.synchronize(DEVICE)
    else:
        def device_io():
            session.run_with_iobinding(binding)
            binding.get_outputs()
    fns[0] = device_io
    print(json.dumps(interleaved_medians(fns, calls, repeats)))


def measure(model_name, calls, repeats, rounds):
    """Median seconds per call over `rounds` alternating child processes:
    (ours device I/O, ORT IoBinding, ours numpy, ORT numpy), and the largest
    relative difference between the two sides' outputs."""
    samples = {"ours": [], "theirs": []}
    outputs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for side in ("ours", "theirs"):
                path = os.path.join(tmp, side + ".npy")
                out = subprocess.run([sys.executable, __file__, "--worker", side, model_name,
                                      str(calls), str(repeats), path],
                                     check=True, capture_output=True, text=True).stdout
                samples[side].append(json.loads(out.strip().splitlines()[-1]))
                outputs[side] = np.load(path)
    want = outputs["theirs"].astype(np.float64)
    error = float(np.max(np.abs(outputs["ours"] - want)) / max(np.max(np.abs(want)), 1e-30))
    med = {side: [statistics.median(s[i] for s in samples[side]) for i in range(2)]
           for side in samples}
    return (med["ours"][0], med["theirs"][0], med["ours"][1], med["theirs"][1]), error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        side, model_name, calls, repeats, path = args.worker
        worker(side, model_name, int(calls), int(repeats), path)
        return 0
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        sys.exit(f"onnxruntime {ort.__version__} has no CUDAExecutionProvider "
                 "(pip install onnxruntime-gpu)")
    try:
        gpu = xrt.Device(DEVICE)
    except xrt.Error as error:
        sys.exit(f"no {DEVICE}: {error}")
    repeats = 5 if args.quick else 21

    rows, notes = [], []
    for model_name, (_, label, calls) in MODELS.items():
        (ours_dev, theirs_dev, ours_np, theirs_np), error = measure(
            model_name, calls, repeats, 1 if args.quick else 3)
        if error > 1e-3:
            sys.exit(f"{label}: outputs differ by {error:.2e} relative")
        rows.append((f"{label}: device-resident I/O vs IoBinding", ours_dev, theirs_dev,
                     "ratio <= 1.05"))
        rows.append((f"{label}: numpy in and out", ours_np, theirs_np, "-"))
        notes.append(f"- {label}: device-resident `run_tensors` saves "
                     f"{(ours_np - ours_dev) * 1e6:.0f} us per call over numpy `run` "
                     f"({ours_np / ours_dev:.2f}x); outputs agree with onnxruntime's within "
                     f"{error:.1e} relative.")

    header = ("| what | xpuruntime (us) | onnxruntime (us) | ratio | target |\n"
              "|---|---|---|---|---|")
    lines = [f"| {what} | {ours * 1e6:.1f} | {theirs * 1e6:.1f} | {ours / theirs:.3f} | {target} |"
             for what, ours, theirs, target in rows]
    table = "\n".join([header, *lines, "", *notes])
    print(table)
    if not args.no_save:
        save_results(
            "ort-cuda", "InferenceSession on CUDA vs onnxruntime's Python API",
            f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}",
            "python bench/bench_ort_cuda.py" + (" --quick" if args.quick else ""),
            f"Both use the CUDA execution provider with its default options on {DEVICE}, "
            f"each in its own process (two copies of ONNX Runtime cannot share the CUDA "
            f"provider library in one), in alternation. Each figure is the median over the "
            f"processes of the median over {repeats} batches of the wall time one call "
            f"takes, result ready on return. Ratio: xpuruntime's time / "
            f"onnxruntime's (below 1 means xpuruntime is faster).",
            table, device=f"{gpu.description} ({gpu.compute_units} SMs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
