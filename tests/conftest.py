"""Fixtures shared by the whole test suite."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: a quick, repeatable profile by default; HYPOTHESIS_PROFILE=thorough for a long random hunt.
settings.register_profile("default", max_examples=60, derandomize=True)  # CI sees the same examples every run
settings.register_profile("thorough", max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder with the dataset copies (mnist/, fashion-mnist/): $LEARNSCOPE_DATA, else ../shared/data
    beside the repository. Missing data skips the test on a laptop but fails it in CI."""
    env = os.environ.get("LEARNSCOPE_DATA")
    folder = Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    folder = folder.resolve()
    if not (folder / "mnist").is_dir():
        message = f"no dataset folder at {folder} (expected mnist/ inside it); set LEARNSCOPE_DATA to point at one"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def mnist(shared_data_dir):
    """Real MNIST through the real loader, read once per test run (about 220 MB as float32)."""
    from learnscope.data.mnist import load_mnist

    return load_mnist(data_dir=shared_data_dir, download=False, progress=False)


@pytest.fixture(autouse=True)
def private_run_store(tmp_path_factory, monkeypatch):
    """Every test records into its own run store, never into the user's."""
    monkeypatch.setenv("LEARNSCOPE_STORE", str(tmp_path_factory.mktemp("store") / "runs.sqlite"))


@pytest.fixture
def small_disk(tmp_path):
    """A real 384 KiB file system (tmpfs) that a test can fill up. Mounting needs root: CI runs as root and must
    run the test; elsewhere it skips, saying why."""
    import subprocess

    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        message = f"mounting a small tmpfs needs root: {mounted.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)

