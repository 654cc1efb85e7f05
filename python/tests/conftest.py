"""Every test runs with a private SHMFRAME_DIR, and must leave no segment behind."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import shmframe

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent.parent


@pytest.fixture(autouse=True)
def shm_dir(tmp_path, monkeypatch):
    """A private segment directory, checked empty afterwards."""
    directory = tmp_path / "shm"
    directory.mkdir()
    monkeypatch.setenv("SHMFRAME_DIR", str(directory))
    yield directory
    left = [p.name for p in directory.iterdir()]
    assert not left, f"segments left behind: {left}"


@pytest.fixture
def name(request):
    """A stream name unique to this test and process."""
    test = "".join(c if c.isalnum() else "-" for c in request.node.name)[:120]
    return f"py-{os.getpid()}-{test}"


def python_child(script, *args, **kwargs):
    """Starts one of the test scripts with this interpreter, pipes on stdin and stdout."""
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    return subprocess.Popen(
        [sys.executable, str(TESTS / script), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


@pytest.fixture(scope="session")
def cli():
    """The `shmframe` command: $SHMFRAME_CLI, else the workspace's debug or release build."""
    candidates = [os.environ.get("SHMFRAME_CLI")]
    candidates += [str(REPO / "target" / profile / "shmframe") for profile in ("debug", "release")]
    candidates.append(shutil.which("shmframe"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("no shmframe binary: run `cargo build -p shmframe-cli` or set SHMFRAME_CLI")


@pytest.fixture
def writer(name):
    """A small in-process writer, closed afterwards."""
    # No holds: exactly 4 slots (holds would raise the ring to holds + 2).
    with shmframe.Writer(name, slots=4, capacity=1 << 16, holds=0) as w:
        yield w
