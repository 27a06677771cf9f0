"""Where dataset files come from: a named folder, LEARNSCOPE_DATA, the cache, or a real HTTP download
from a local server (never the internet: every test points LEARNSCOPE_MIRROR at 127.0.0.1)."""

import functools
import gzip
import http.server
import os
import re
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from learnscope.data import sources
from learnscope.data.mnist import load_mnist
from learnscope.data.sources import (
    DATASET_SOURCES,
    DatasetUnavailable,
    cache_dir,
    find_dataset_files,
    mirror_urls,
)

MNIST_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
DOWNLOAD_ORDER = ["t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz",
                  "t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"]  # smallest first


def closed_port_url() -> str:
    """A local URL nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No LEARNSCOPE_DATA, a cache in tmp_path, and a mirror that refuses: nothing here can reach the internet."""
    monkeypatch.delenv("LEARNSCOPE_DATA", raising=False)
    monkeypatch.setenv("LEARNSCOPE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LEARNSCOPE_MIRROR", closed_port_url())


@pytest.fixture(scope="module")
def mnist_dir(shared_data_dir):
    return shared_data_dir / "mnist"


def linked_copy(source: Path, target: Path, names=MNIST_NAMES) -> Path:
    """A folder with symlinks to the shared files: as good as a copy for reading, and free."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        (target / name).symlink_to(source / name)
    return target


def cache_files(name="mnist") -> list[str]:
    folder = cache_dir(name)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ---- a local mirror ----


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, records every request path on the server, logs nothing."""

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@contextmanager
def mirror(folder: Path, handler=QuietHandler):
    """A real HTTP server on 127.0.0.1 in a thread, serving `folder`.   -> (server, base URL)"""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def served(tmp_path, mnist_dir):
    """A folder holding real copies of the four MNIST files, as a mirror would serve them."""
    folder = tmp_path / "served"
    folder.mkdir()
    for name in MNIST_NAMES:
        shutil.copyfile(mnist_dir / name, folder / name)
    return folder


class RecordingProgress:
    """A tqdm-like object, as pooch drives it: total set, then update/reset/close."""

    def __init__(self):
        self.total, self.n, self.updates, self.finished_totals = None, 0, 0, []

    def update(self, n):
        self.n += n
        self.updates += 1

    def reset(self):
        self.n = 0

    def close(self):
        self.finished_totals.append(self.total)


# ---- registry ----


def test_registry_names_mirrors_and_files():
    assert set(DATASET_SOURCES) == {"mnist", "fashion-mnist"}
    mnist, fashion = DATASET_SOURCES["mnist"], DATASET_SOURCES["fashion-mnist"]
    assert mnist.mirrors == ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                             "https://storage.googleapis.com/cvdf-datasets/mnist/")
    assert fashion.mirrors == ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    for source in (mnist, fashion):
        assert sorted(f.name for f in source.files) == sorted(MNIST_NAMES)
        assert source.file("train_images").shape == (60000, 28, 28)
        assert source.file("test_labels").shape == (10000,)
        assert all(len(f.sha256) == 64 for f in source.files)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_registry_hashes_match_the_real_files(shared_data_dir, name):
    # verify=True hashes all four uncompressed files against the registry
    files = find_dataset_files(name, data_dir=shared_data_dir, verify=True)
    assert files["train_images"] == shared_data_dir / name / "train-images-idx3-ubyte.gz"


def test_mirror_override(monkeypatch):
    monkeypatch.delenv("LEARNSCOPE_MIRROR")
    assert mirror_urls("mnist") == list(DATASET_SOURCES["mnist"].mirrors)
    monkeypatch.setenv("LEARNSCOPE_MIRROR", "http://a.example/data/{name}  http://b.example/x/")
    assert mirror_urls("fashion-mnist") == ["http://a.example/data/fashion-mnist/", "http://b.example/x/"]


def test_cache_dir_default_and_override(monkeypatch, tmp_path):
    from platformdirs import user_cache_dir

    assert cache_dir("mnist") == tmp_path / "cache" / "mnist"
    monkeypatch.delenv("LEARNSCOPE_CACHE")
    assert cache_dir("mnist") == Path(user_cache_dir("learnscope")) / "mnist"


def test_unknown_dataset_lists_known_names():
    with pytest.raises(ValueError, match="'mnist', 'fashion-mnist'"):
        find_dataset_files("cifar10")


# ---- a folder you name, LEARNSCOPE_DATA, the cache: in that order ----


def test_data_dir_accepts_folder_or_parent(shared_data_dir, mnist_dir):
    direct = find_dataset_files("mnist", data_dir=mnist_dir)
    via_parent = find_dataset_files("mnist", data_dir=str(shared_data_dir))
    assert dict(direct) == dict(via_parent)
    assert list(direct) == ["train_images", "train_labels", "test_images", "test_labels"]
    assert direct["test_labels"] == mnist_dir / "t10k-labels-idx1-ubyte.gz"
    assert "data_dir" in direct.source and str(mnist_dir) in direct.source


def test_env_accepts_folder_or_parent(monkeypatch, shared_data_dir, mnist_dir):
    for root in (shared_data_dir, mnist_dir):
        monkeypatch.setenv("LEARNSCOPE_DATA", str(root))
        files = find_dataset_files("mnist")
        assert files["train_labels"] == mnist_dir / "train-labels-idx1-ubyte.gz"
        assert "LEARNSCOPE_DATA" in files.source


def test_data_dir_beats_env_beats_cache(monkeypatch, tmp_path, mnist_dir):
    explicit = linked_copy(mnist_dir, tmp_path / "explicit")
    env_root = tmp_path / "env-root"
    linked_copy(mnist_dir, env_root / "mnist")                 # parent form
    cached = linked_copy(mnist_dir, cache_dir("mnist"))
    monkeypatch.setenv("LEARNSCOPE_DATA", str(env_root))

    assert find_dataset_files("mnist", data_dir=explicit)["train_images"].parent == explicit
    assert find_dataset_files("mnist")["train_images"].parent == env_root / "mnist"
    monkeypatch.delenv("LEARNSCOPE_DATA")
    files = find_dataset_files("mnist", download=False)
    assert files["train_images"].parent == cached and files.source.startswith("cache ")


def test_env_without_the_dataset_falls_through_to_cache(monkeypatch, tmp_path, mnist_dir):
    linked_copy(mnist_dir, cache_dir("mnist"))
    monkeypatch.setenv("LEARNSCOPE_DATA", str(tmp_path / "empty"))
    assert find_dataset_files("mnist")["train_images"].parent == cache_dir("mnist")


def test_data_dir_without_the_files_says_what_is_missing(tmp_path, mnist_dir):
    folder = linked_copy(mnist_dir, tmp_path / "partial", names=MNIST_NAMES[:3])
    with pytest.raises(FileNotFoundError) as caught:
        find_dataset_files("mnist", data_dir=folder)
    message = str(caught.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and str(folder) in message
    assert "--data-dir" in message and "LEARNSCOPE_DATA" in message
    assert "train-images-idx3-ubyte.gz" in message  # listed among the files found
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_dataset_files("mnist", data_dir=tmp_path / "nowhere")


def test_data_dir_never_falls_back_to_the_cache(tmp_path, mnist_dir):
    linked_copy(mnist_dir, cache_dir("mnist"))
    with pytest.raises(FileNotFoundError):
        find_dataset_files("mnist", data_dir=tmp_path / "typo")


def test_mnist_folder_is_not_taken_for_fashion_mnist(mnist_dir, monkeypatch):
    # same file names: only the content tells them apart, and the label files are hashed for that
    with pytest.raises(ValueError, match="holds MNIST, not Fashion-MNIST") as caught:
        find_dataset_files("fashion-mnist", data_dir=mnist_dir)
    assert "labels-idx1-ubyte.gz" in str(caught.value) and "--data-dir" in str(caught.value)
    monkeypatch.setenv("LEARNSCOPE_DATA", str(mnist_dir))
    with pytest.raises(ValueError, match="holds MNIST, not Fashion-MNIST"):
        find_dataset_files("fashion-mnist")


def test_damaged_label_file_in_folder_names_it(tmp_path, mnist_dir):
    folder = linked_copy(mnist_dir, tmp_path / "copy", names=MNIST_NAMES[:3])
    content = bytearray(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    content[100] = (content[100] + 1) % 10                       # one label changed, still a valid file
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(ValueError) as caught:
        find_dataset_files("mnist", data_dir=folder)
    message = str(caught.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert DATASET_SOURCES["mnist"].file("test_labels").sha256 in message
    assert "--data-dir" in message


def test_verify_catches_what_structure_checks_cannot(tmp_path, mnist_dir):
    """An image file with one changed pixel is still a valid IDX file: by default (no hashing of images
    in your own folder) it loads; verify=True hashes it and refuses it."""
    folder = linked_copy(mnist_dir, tmp_path / "copy", names=[n for n in MNIST_NAMES if not n.startswith("t10k-i")])
    content = bytearray(gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()))
    content[16 + 14 * 28 + 14] ^= 0xFF
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(content), compresslevel=1))
    find_dataset_files("mnist", data_dir=folder)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz") as caught:
        find_dataset_files("mnist", data_dir=folder, verify=True)
    assert "expected uncompressed sha256 " + DATASET_SOURCES["mnist"].file("test_images").sha256 in str(caught.value)


# ---- the cache ----


def test_cache_is_verified_once_then_trusted_by_marker(monkeypatch, mnist_dir):
    cached = linked_copy(mnist_dir, cache_dir("mnist"))
    find_dataset_files("mnist", download=False)
    markers = sorted(p.name for p in cached.glob("*.sha256-ok"))
    assert markers == sorted(n + ".sha256-ok" for n in MNIST_NAMES)

    calls = []
    real_hash = sources.uncompressed_sha256
    monkeypatch.setattr(sources, "uncompressed_sha256", lambda path: calls.append(Path(path).name) or real_hash(path))
    find_dataset_files("mnist", download=False)
    assert calls == []                                           # all four trusted by their markers
    # a file that changes (here: a new copy with a new mtime) is hashed again
    target = cached / "t10k-labels-idx1-ubyte.gz"
    target.unlink()
    shutil.copyfile(mnist_dir / target.name, target)
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    find_dataset_files("mnist", download=False)
    assert calls == ["t10k-labels-idx1-ubyte.gz"]


def test_damaged_cache_file_without_download_is_deleted_and_named(mnist_dir):
    cached = linked_copy(mnist_dir, cache_dir("mnist"), names=MNIST_NAMES[:3])
    damaged = cached / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes((mnist_dir / damaged.name).read_bytes()[:-50])
    with pytest.raises(ValueError) as caught:
        find_dataset_files("mnist", download=False)
    message = str(caught.value)
    assert str(damaged) in message and "damaged gzip stream" in message and "expected uncompressed sha256" in message
    assert not damaged.exists()


def test_nothing_cached_and_downloads_off_is_unavailable():
    with pytest.raises(DatasetUnavailable) as caught:
        find_dataset_files("mnist", download=False)
    message = str(caught.value)
    assert "download=False" in message and str(cache_dir("mnist")) in message and "load_digits()" in message


# ---- downloads from a real local HTTP server ----


def test_download_verifies_caches_and_reports_progress(monkeypatch, served, capsys):
    # a re-compressed copy (other level, other gzip header) holds the same data and must be accepted
    labels = served / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes()), compresslevel=1, mtime=12345))
    with mirror(served) as (server, url):
        monkeypatch.setenv("LEARNSCOPE_MIRROR", url)
        first = load_mnist(download=True, progress=True)
        assert sorted(server.requests) == sorted("/" + n for n in MNIST_NAMES)
        assert server.requests == ["/" + n for n in DOWNLOAD_ORDER]
        second = load_mnist(download=True, progress=True)
        assert len(server.requests) == 4                        # the second load came from the cache
    assert cache_files() == sorted(MNIST_NAMES + [n + ".sha256-ok" for n in MNIST_NAMES])
    assert first.source.startswith(f"cache {cache_dir('mnist')}") and url in first.source
    assert second.source == f"cache {cache_dir('mnist')}"
    assert first.x_train.shape == (60000, 1, 28, 28) and (first.x_test == second.x_test).all()
    stderr = capsys.readouterr().err
    for name in MNIST_NAMES:                                    # pooch's bar (tqdm), named after each file
        assert re.search(rf"MNIST {re.escape(name)}: 100%\|[^\r\n]*\n", stderr), stderr
    assert stderr.count("100%|") == 4                           # nothing printed for the cached load


def test_progress_accepts_a_tqdm_like_object(monkeypatch, served):
    progress = RecordingProgress()
    with mirror(served) as (_, url):
        monkeypatch.setenv("LEARNSCOPE_MIRROR", url)
        find_dataset_files("mnist", progress=progress)
    assert progress.finished_totals == [(served / n).stat().st_size for n in DOWNLOAD_ORDER]
    assert progress.updates > 4


def test_second_mirror_is_used_when_the_first_is_down(monkeypatch, served):
    with mirror(served) as (server, url):
        monkeypatch.setenv("LEARNSCOPE_MIRROR", f"{closed_port_url()} {url}")
        files = find_dataset_files("mnist", progress=False)
    assert len(server.requests) == 4 and url in files.source


@pytest.mark.parametrize("damage", ["flipped byte in the gzip stream", "valid gzip of changed data"])
def test_damaged_download_is_refused_and_not_kept(monkeypatch, served, damage):
    labels = served / "t10k-labels-idx1-ubyte.gz"                # downloaded first
    content = bytearray(labels.read_bytes())
    if damage.startswith("flipped"):
        content[len(content) // 2] ^= 0x01
    else:
        content = bytearray(gzip.decompress(bytes(content)))
        content[-1] = (content[-1] + 1) % 10
        content = gzip.compress(bytes(content))
    labels.write_bytes(bytes(content))
    with mirror(served) as (_, url):
        monkeypatch.setenv("LEARNSCOPE_MIRROR", url)
        with pytest.raises(ValueError) as caught:
            find_dataset_files("mnist", progress=False)
    message = str(caught.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and url in message
    assert "expected uncompressed sha256 " + DATASET_SOURCES["mnist"].file("test_labels").sha256 in message
    assert ("damaged gzip stream" in message) == damage.startswith("flipped")
    assert "Nothing was saved" in message and "LEARNSCOPE_MIRROR" in message
    assert cache_files() == []                                   # no file, no marker, no temporary file


class DropsHalfway(QuietHandler):
    """Announces the whole test-images file, sends half, looks at the cache folder, hangs up."""

    def do_GET(self):
        if not self.path.endswith("t10k-images-idx3-ubyte.gz"):
            return super().do_GET()
        self.server.requests.append(self.path)
        content = (Path(self.directory) / "t10k-images-idx3-ubyte.gz").read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content[: len(content) // 2])
        self.wfile.flush()
        time.sleep(0.3)                                          # let the client write what it got
        folder = cache_dir("mnist")
        self.server.seen_mid_download = {p.name: p.stat().st_size for p in folder.iterdir()}
        self.close_connection = True
        return None


def test_connection_lost_midway_leaves_no_file_with_the_final_name(monkeypatch, served):
    size = (served / "t10k-images-idx3-ubyte.gz").stat().st_size
    with mirror(served, DropsHalfway) as (server, url):
        monkeypatch.setenv("LEARNSCOPE_MIRROR", url)
        with pytest.raises(DatasetUnavailable) as caught:
            find_dataset_files("mnist", progress=False)
    # mid-download: the bytes so far sit in pooch's temporary file, never under the final name
    seen = server.seen_mid_download
    assert "t10k-images-idx3-ubyte.gz" not in seen
    partial = {name: n for name, n in seen.items() if name not in MNIST_NAMES and not name.endswith(".sha256-ok")}
    assert len(partial) == 1 and 0 < next(iter(partial.values())) < size
    # afterwards: the two label files that arrived whole stay (verified); nothing else does
    assert cache_files() == sorted(n + s for n in DOWNLOAD_ORDER[:2] for s in ("", ".sha256-ok"))
    message = str(caught.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "broke off mid-download" in message
    assert f"{size - size // 2} more were expected" in message


def test_no_server_at_all_is_unavailable_with_advice():
    url = os.environ["LEARNSCOPE_MIRROR"]
    with pytest.raises(DatasetUnavailable) as caught:
        load_mnist(download=True, progress=False)
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    for fragment in ("MNIST is not available", "data_dir / --data-dir (not given)", "LEARNSCOPE_DATA (not set)",
                     str(cache_dir("mnist")), url + "t10k-labels-idx1-ubyte.gz", "refused",
                     "--data-dir FOLDER", "LEARNSCOPE_DATA=FOLDER", "load_digits()", "learnscope train digits"):
        assert fragment in message, fragment
    assert cache_files() == []


def test_fashion_mnist_downloads_through_a_name_placeholder(monkeypatch, tmp_path, shared_data_dir):
    served = tmp_path / "served"
    linked_copy(shared_data_dir / "fashion-mnist", served / "fashion-mnist")
    with mirror(served) as (server, url):
        monkeypatch.setenv("LEARNSCOPE_MIRROR", url + "{name}/")
        files = find_dataset_files("fashion-mnist", progress=False)
    assert server.requests == ["/fashion-mnist/" + n for n in DOWNLOAD_ORDER]
    assert files["train_images"] == cache_dir("fashion-mnist") / "train-images-idx3-ubyte.gz"


def test_damaged_cache_file_is_downloaded_again_with_a_warning(monkeypatch, served):
    with mirror(served) as (server, url):
        monkeypatch.setenv("LEARNSCOPE_MIRROR", url)
        find_dataset_files("mnist", progress=False)
        cached = cache_dir("mnist") / "train-labels-idx1-ubyte.gz"
        cached.write_bytes(b"\x1f\x8b not really gzip")
        with pytest.warns(RuntimeWarning, match="train-labels-idx1-ubyte.gz was damaged"):
            find_dataset_files("mnist", progress=False)
        assert server.requests[4:] == ["/train-labels-idx1-ubyte.gz"]
    assert cached.read_bytes() == (served / cached.name).read_bytes()
