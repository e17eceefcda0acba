"""Fixtures of the process tests: one run folder and one pair of trained models per session,
and per test a mesh (its own development broker and services) whose processes all stop with it."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import harness
from harness import binary


@pytest.fixture(scope="session")
def run_dir():
    for name in harness.BINARIES:
        assert os.access(binary(name), os.X_OK), f"{binary(name)} is missing; run 'make build-tests' first"
    assert shutil.which("kcat"), "kcat is missing; run 'make deps'"
    directory = tempfile.mkdtemp(prefix="alertron-faults.")
    yield directory
    if os.environ.get("KEEP_RUN_DIR"):
        print(f"run folder kept: {directory}")
    else:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def models(run_dir):
    """The models, trained once for every test."""
    directory = os.path.join(run_dir, "models")
    os.makedirs(directory)
    paths = {"sensor": os.path.join(directory, "sensor-iforest.json"), "log": os.path.join(directory, "log-severity.json")}
    for args in (["train", "--synthetic", "--out", paths["sensor"]],
                 ["train-logs", "--input", os.path.join(harness.ROOT, "services/scorer/data/log-corpus.jsonl"),
                  "--out", paths["log"]]):
        result = subprocess.run([binary("scorer")] + args, capture_output=True, text=True)
        assert result.returncode == 0, f"training failed: {result.stderr[-2000:]}"
    return paths


@pytest.fixture(scope="session")
def scorer_settings():
    """The scorer's settings as it resolves them: the kill tests' duplicate bound is its batch
    size times its batches in flight."""
    output = subprocess.run([binary("scorer"), "serve", "--show-settings"], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


@pytest.fixture
def mesh(request, run_dir, models):
    directory = os.path.join(run_dir, request.node.name)
    os.makedirs(directory)
    mesh = harness.Mesh(directory, models)
    started = time.monotonic()
    print(f"\n=== {request.node.name}")
    yield mesh
    left = mesh.stop_all()
    print(f"--- {request.node.name}: {time.monotonic() - started:.0f} s")
    assert not left, f"still running after the test: {left}"


@pytest.fixture(scope="session")
def clients_python():
    """Python with the real clients of requirements-clients.txt (from PyPI, pinned), in
    .venv-clients/ at the repository's root, made again when the requirements change."""
    requirements = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements-clients.txt")
    venv = os.environ.get("CLIENTS_VENV", os.path.join(harness.ROOT, ".venv-clients"))
    python = os.path.join(venv, "bin", "python")
    installed = os.path.join(venv, "requirements.txt")
    with open(requirements) as f:
        wanted = f.read()
    if not (os.access(python, os.X_OK) and os.path.exists(installed) and open(installed).read() == wanted):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run(["python3", "-m", "venv", venv], check=True)
        result = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check",
                                 "--no-cache-dir", "-r", requirements], capture_output=True, text=True)
        assert result.returncode == 0, f"installing {requirements} from PyPI failed:\n{result.stderr[-2000:]}"
        with open(installed, "w") as f:
            f.write(wanted)
    return python

