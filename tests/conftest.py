"""Fixtures shared by the whole test suite."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: a quick, repeatable profile by default; HYPOTHESIS_PROFILE=thorough for a long random hunt.
settings.register_profile("default", max_examples=60, derandomize=True)  # CI sees the same examples every run
settings.register_profile("thorough", max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def missing(message: str) -> None:
    """Something a test needs is not on this machine: that fails the test in CI and skips it, with the fix, on a
    laptop. The suite's one place that decides to skip."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder with the dataset copies (mnist/, fashion-mnist/): $LEARNSCOPE_DATA, else ../shared/data
    beside the repository. Missing data skips the test on a laptop but fails it in CI."""
    env = os.environ.get("LEARNSCOPE_DATA")
    folder = Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    folder = folder.resolve()
    if not (folder / "mnist").is_dir():
        missing(f"no dataset folder at {folder} (expected mnist/ inside it); set LEARNSCOPE_DATA to point at one")
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
        missing(f"mounting a small tmpfs needs root: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)



@pytest.fixture(scope="session")
def torch():
    """PyTorch, for the bridge's tests. CI installs the CPU wheel (torch==2.13.0) and fails without it; a laptop
    without it skips, saying how to run them."""
    try:
        import torch
    except ImportError:
        missing("PyTorch is not installed: pip install torch==2.13.0 to run the bridge's tests")
    torch.set_num_threads(2)
    return torch


@pytest.fixture
def train_watched(torch, mnist):
    """train_watched(net, optimizer, store, every, on_step=None, samples=None): one epoch of MNIST (batches of 128,
    cross-entropy) in the user's loop of learnscope.watch's docstring, then the test set's loss and accuracy given to
    end_epoch. on_step(step, net, x, y) is called after each optimizer.step(), before watcher.log. Returns the
    closed Watcher and the test accuracy."""
    import learnscope

    def train(net, optimizer, store, every=50, on_step=None, samples=None, **options):
        generator = torch.Generator().manual_seed(0)
        x_train = torch.from_numpy(mnist.x_train[:samples])
        y_train = torch.from_numpy(mnist.y_train[:samples])
        order = torch.randperm(len(x_train), generator=generator)
        with learnscope.watch(net, optimizer, store=store, every=every, dataset="mnist", **options) as watcher:
            net.train()
            for step, start in enumerate(range(0, len(order), 128)):
                batch = order[start:start + 128]
                x, y = x_train[batch], y_train[batch]
                optimizer.zero_grad()
                output = net(x)
                loss = torch.nn.functional.cross_entropy(output, y)
                loss.backward()
                optimizer.step()
                if on_step is not None:
                    on_step(step, net, x, y)
                watcher.log(loss=loss, accuracy=(output.argmax(1) == y).float().mean())
            net.eval()
            with torch.no_grad():
                output = net(torch.from_numpy(mnist.x_test))
                y_test = torch.from_numpy(mnist.y_test)
                accuracy = (output.argmax(1) == y_test).float().mean().item()
                watcher.end_epoch(val_loss=torch.nn.functional.cross_entropy(output, y_test), val_accuracy=accuracy)
        return watcher, accuracy

    return train


@pytest.fixture
def nbclient(shared_data_dir, monkeypatch):
    """nbclient, to run notebooks in a real kernel, with the kernels it starts reading the shared datasets (and,
    through private_run_store, recording into the test's own run store)."""
    monkeypatch.setenv("LEARNSCOPE_DATA", str(shared_data_dir))
    try:
        import nbclient
        import nbformat  # noqa: F401
    except ImportError:
        missing("nbclient is not installed: pip install -e '.[test,notebook]' to run the example notebooks")
    return nbclient
