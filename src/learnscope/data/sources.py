"""Where the dataset files come from, tried in this order:

    1. a folder you name: data_dir= in Python, --data-dir on the command line
    2. the folder in the LEARNSCOPE_DATA environment variable
    3. the user cache, platformdirs.user_cache_dir("learnscope")/<name> (LEARNSCOPE_CACHE overrides the root)
    4. a download into that cache from the public mirrors (LEARNSCOPE_MIRROR overrides them), with pooch

A folder in 1 or 2 may hold the four files itself (.../mnist) or be a parent with one subfolder per
dataset (.../data holding mnist/ and fashion-mnist/).

Every check is made on the sha256 of the *uncompressed* IDX content: a copy that was gzipped again
(another level, another timestamp) holds the same data and is accepted; a damaged one never is.
How much is checked where:
    cache       every file, fully, once; a small `<file>.sha256-ok` marker remembers the result
                for that file size and modification time, so later loads don't re-hash 47 MB
    downloads   every file, fully, before it gets its final name: pooch streams into a temporary
                file in the cache folder and renames it only after our check passes, so neither a
                broken connection nor a bad mirror ever leaves a file that looks complete
    your folder the two label files (70 kB, instant: this also tells MNIST from Fashion-MNIST, whose
                file names are identical); the image files are checked for structure when read
                (header, size, gzip CRC). verify=True hashes the images too (about 0.3 s per
                dataset): the folder may be read-only, so there is no marker to remember it by.
"""

import gzip
import hashlib
import json
import math
import os
import re
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from learnscope.data.idx import GZIP_MAGIC, MNIST_FILE_STEMS, mnist_files

DATA_ENV = "LEARNSCOPE_DATA"
CACHE_ENV = "LEARNSCOPE_CACHE"
MIRROR_ENV = "LEARNSCOPE_MIRROR"
MARKER_SUFFIX = ".sha256-ok"
FILE_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
DOWNLOAD_TIMEOUT = 30  # seconds without a byte before a mirror counts as unreachable
_CHUNK = 1 << 20


class DatasetUnavailable(RuntimeError):
    """No copy of a dataset could be found or downloaded (offline, or every mirror failed)."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its name on the mirrors, the sha256 of its uncompressed content, the array shape."""

    key: str
    name: str
    sha256: str
    shape: tuple[int, ...]

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".gz")


@dataclass(frozen=True)
class DatasetSource:
    """A dataset's files and the mirrors that serve them (base URLs ending in /)."""

    name: str
    title: str
    files: tuple[DataFile, ...]
    mirrors: tuple[str, ...]

    def file(self, key: str) -> DataFile:
        return next(f for f in self.files if f.key == key)


def _idx_files(sha256: dict[str, str]) -> tuple[DataFile, ...]:
    (train_images, train_labels), (test_images, test_labels) = MNIST_FILE_STEMS["train"], MNIST_FILE_STEMS["test"]
    stems = {"train_images": train_images, "train_labels": train_labels,
             "test_images": test_images, "test_labels": test_labels}
    shapes = {"train_images": (60000, 28, 28), "train_labels": (60000,),
              "test_images": (10000, 28, 28), "test_labels": (10000,)}
    return tuple(DataFile(key, f"{stems[key]}.gz", sha256[key], shapes[key]) for key in FILE_KEYS)


# The uncompressed sha256 values are those of the canonical files (see shared/data/README.md).
DATASET_SOURCES = {
    "mnist": DatasetSource(
        name="mnist",
        title="MNIST",
        files=_idx_files({
            "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        }),
        # NOTE: yann.lecun.com is no longer a reliable host; these two mirror the original .gz files
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    ),
    "fashion-mnist": DatasetSource(
        name="fashion-mnist",
        title="Fashion-MNIST",
        files=_idx_files({
            "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        }),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    ),
}

_OFFLINE_HINT = ("Offline stand-in: load_digits() ('learnscope train digits') gives the 8×8 digits that ship inside "
                 "scikit-learn, no download needed.")


class DatasetFiles(dict):
    """dict file key -> Path (train_images, train_labels, test_images, test_labels), plus `source`:
    where they were found, e.g. 'folder /data/mnist (data_dir)'."""

    def __init__(self, paths: dict, source: str):
        super().__init__(paths)
        self.source = source


def get_source(name: str) -> DatasetSource:
    """The registry entry for "mnist" or "fashion-mnist"; a ValueError lists the known names."""
    if name not in DATASET_SOURCES:
        known = ", ".join(repr(n) for n in DATASET_SOURCES)
        raise ValueError(f"no download source for dataset {name!r}; known: {known}.")
    return DATASET_SOURCES[name]


def cache_dir(name: str) -> Path:
    """The cache folder of one dataset: $LEARNSCOPE_CACHE/<name>, else the platform's user cache."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        from platformdirs import user_cache_dir  # imported on use: only the cache needs it

        root = user_cache_dir("learnscope")
    return Path(root).expanduser() / name


def mirror_urls(name: str) -> list[str]:
    """Base URLs to try in order: $LEARNSCOPE_MIRROR (one or more, space-separated; `{name}` is replaced
    by the dataset name) instead of the canonical mirrors."""
    source = get_source(name)
    override = os.environ.get(MIRROR_ENV, "").split()
    bases = [base.replace("{name}", name) for base in override] or list(source.mirrors)
    return [base if base.endswith("/") else base + "/" for base in bases]


def find_dataset_files(name: str, data_dir=None, download: bool = True, progress=True,
                       verify: bool = False) -> DatasetFiles:
    """Paths of the four IDX files of "mnist" or "fashion-mnist": data_dir, then $LEARNSCOPE_DATA, then the
    cache, then a download into the cache. progress: True for pooch's bar (tqdm) on stderr, False for none, or a
    tqdm-like object (total, update, reset, close). verify=True also hashes the images of a folder you named."""
    source = get_source(name)
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"find_dataset_files expected data_dir to be a folder path, got {type(data_dir).__name__}. "
                            "Pass e.g. data_dir='~/data'.")
        root = Path(data_dir).expanduser()
        folder = _folder_with_files(root, source)
        if folder is None:
            raise FileNotFoundError(_not_in_folder(root, source))
        return _from_folder(folder, source, "data_dir", verify)
    tried = ["data_dir / --data-dir (not given)"]
    env_root = os.environ.get(DATA_ENV)
    if env_root:
        folder = _folder_with_files(Path(env_root).expanduser(), source)
        if folder is not None:
            return _from_folder(folder, source, DATA_ENV, verify)
        tried.append(f"{DATA_ENV}={env_root} (no {source.title} files in it or in its {source.name}/ subfolder)")
    else:
        tried.append(f"{DATA_ENV} (not set)")
    return _from_cache(source, download, progress, tried)


# ---- a folder you named ----


def _missing(folder: Path, source: DatasetSource) -> list[str]:
    """File names not found in folder, raw or .gz (mnist_files accepts both)."""
    if not folder.is_dir():
        return [f.name for f in source.files]
    return [f.name for f in source.files if not ((folder / f.stem).is_file() or (folder / f.name).is_file())]


def _folder_with_files(root: Path, source: DatasetSource):
    """root/<name> if it holds the four files, else root itself if it does, else None."""
    for folder in (root / source.name, root):
        if not _missing(folder, source):
            return folder
    return None


def _not_in_folder(root: Path, source: DatasetSource) -> str:
    """One line: what the named data folder lacks, and how to point at one that has it."""
    if not root.exists():
        return (f"The data folder {root} does not exist; expected a folder with the {source.title} files. Fix the "
                "path given to --data-dir (data_dir= in Python).")
    best = root / source.name if (root / source.name).is_dir() else root
    present = sorted(p.name for p in best.iterdir()) if best.is_dir() else []
    holds = f"; it holds {', '.join(present[:4])}{', ...' if len(present) > 4 else ''}" if present else ""
    return (f"The data folder {best} is missing {', '.join(_missing(best, source))} (raw or .gz){holds}. Put all four "
            f"{source.title} files there, or point --data-dir (or {DATA_ENV}) at the folder that has them.")


def _from_folder(folder: Path, source: DatasetSource, origin: str, verify: bool) -> DatasetFiles:
    train_images, train_labels = mnist_files(folder, "train")  # raw files preferred over .gz
    test_images, test_labels = mnist_files(folder, "test")
    paths = dict(zip(FILE_KEYS, (train_images, train_labels, test_images, test_labels)))
    checked = FILE_KEYS if verify else ("train_labels", "test_labels")
    for key in checked:
        _check_user_file(paths[key], source, source.file(key), origin)
    return DatasetFiles(paths, f"folder {folder} ({origin})")


def _check_user_file(path: Path, source: DatasetSource, data_file: DataFile, origin: str) -> None:
    found = verify_file(path, data_file.sha256)
    if found is None:
        return
    other = next((s.title for s in DATASET_SOURCES.values()
                  if s is not source and s.file(data_file.key).sha256 == found), None)
    if other:
        raise ValueError(
            f"{path} holds {other}, not {source.title}: the two use the same file names, and its "
            f"uncompressed sha256 is {other}'s {found}, expected {source.title}'s {data_file.sha256}. "
            f"Fix: point --data-dir / {DATA_ENV} ({origin} here) at the {source.title} folder, or at a parent "
            f"folder holding {', '.join(s.name + '/' for s in DATASET_SOURCES.values())} subfolders."
        )
    raise ValueError(
        f"{path} is not the published {source.title} file {data_file.name}: expected uncompressed sha256 "
        f"{data_file.sha256}, got {found}. The file is damaged or a different version. Fix: replace it with "
        f"a fresh copy from {source.mirrors[0]}{data_file.name}, or point --data-dir / {DATA_ENV} "
        f"({origin} here) at another folder, or leave both out to download {source.title} into the cache."
    )


# ---- hashing ----


def uncompressed_sha256(path) -> str:
    """sha256 of a file's content after gunzip (raw files are hashed as they are), streamed in 1 MiB
    chunks. A damaged gzip stream raises ValueError naming the file."""
    path = Path(path)
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == GZIP_MAGIC
    try:
        with (gzip.open(path, "rb") if is_gzip else open(path, "rb")) as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as err:
        if not is_gzip or isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not an intact gzip stream ({type(err).__name__}: {err}).") from err
    return digest.hexdigest()


def verify_file(path, expected_sha256: str):
    """None if the uncompressed content of path has this sha256, else a description of what was found."""
    try:
        found = uncompressed_sha256(path)
    except ValueError as err:
        cause = err.__cause__ or err
        return f"a damaged gzip stream ({type(cause).__name__}: {cause})"
    return None if found == expected_sha256 else found


def _marker(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def _stat_key(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _has_valid_marker(path: Path, sha256: str) -> bool:
    try:
        saved = json.loads(_marker(path).read_text())
    except (OSError, ValueError):
        return False
    return saved == {"sha256": sha256, **_stat_key(path)}


def _write_marker(path: Path, sha256: str) -> None:
    """Remember that path (at this size and mtime) has been verified; written to a temporary file and
    renamed, so a reader never sees half a marker. Failing to write one only costs a re-hash next time."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump({"sha256": sha256, **_stat_key(path)}, out)
        os.replace(tmp, _marker(path))
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    _marker(path).unlink(missing_ok=True)


# ---- the cache and downloads ----


def _from_cache(source: DatasetSource, download: bool, progress, tried: list[str]) -> DatasetFiles:
    folder = cache_dir(source.name)
    paths, missing, downloaded_from = {}, [], set()
    # smallest files first: a broken mirror shows itself after a few kB, not after 10 MB
    for data_file in sorted(source.files, key=lambda f: math.prod(f.shape)):
        path = folder / data_file.name
        if path.is_file():
            if _has_valid_marker(path, data_file.sha256):
                paths[data_file.key] = path
                continue
            found = verify_file(path, data_file.sha256)
            if found is None:
                _write_marker(path, data_file.sha256)
                paths[data_file.key] = path
                continue
            _remove(path)
            problem = (f"cached {source.title} file {path} was damaged (expected uncompressed sha256 "
                       f"{data_file.sha256}, got {found}) and has been deleted")
            if not download:
                raise ValueError(f"{problem}. Fix: allow downloads to fetch a fresh copy, or point --data-dir / "
                                 f"{DATA_ENV} at a folder with intact {source.title} files.")
            warnings.warn(f"{problem}; downloading it again.", RuntimeWarning, stacklevel=3)
        if not download:
            missing.append(data_file.name)
            continue
        paths[data_file.key], url = _download(source, data_file, folder, progress, tried)
        downloaded_from.add(url.rsplit("/", 1)[0] + "/")
    if missing:
        tried.append(f"the cache {folder} (missing {', '.join(missing)})")
        tried.append("a download (disabled: download=False)")
        raise DatasetUnavailable(_unavailable(source, tried))
    origin = f"cache {folder}"
    if downloaded_from:
        origin += f" (downloaded from {', '.join(sorted(downloaded_from))})"
    return DatasetFiles({key: paths[key] for key in FILE_KEYS}, origin)


def _download(source: DatasetSource, data_file: DataFile, folder: Path, progress, tried: list[str]):
    """Fetch one file into folder from the first mirror that serves it intact.   -> (path, url)"""
    try:
        import pooch  # imported on use: pooch pulls in requests, which only downloads need
        import requests
    except ImportError as err:
        raise ImportError(f"downloading {source.title} needs pooch ({err}). Fix: pip install pooch, or point "
                          f"--data-dir / {DATA_ENV} at a folder with the files. {_OFFLINE_HINT}") from err

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetUnavailable(
            f"cannot create the cache folder {folder} for {source.title} ({err.strerror or err}). "
            f"Fix: set {CACHE_ENV} to a writable folder, or point --data-dir / {DATA_ENV} at a folder with "
            f"the files. {_OFFLINE_HINT}"
        ) from err
    failures, mismatches = [], []
    for base in mirror_urls(source.name):
        url = base + data_file.name
        # NOTE: no compressed hash in the registry: the same data comes gzipped in other ways (another level or
        # header), so the downloader checks the uncompressed content before pooch gives the file its name
        fetcher = pooch.create(path=folder, base_url=base, registry={f.name: None for f in source.files})
        pooch_log = pooch.get_logger()
        level = pooch_log.level
        # NOTE: pooch's "Downloading file ..." line says what our progress bar already names, and would stand
        # before the CLI's one-line error when every mirror fails; its warnings still show
        pooch_log.setLevel("WARNING")
        try:
            path = fetcher.fetch(data_file.name, downloader=_VerifyingDownloader(data_file, progress, source.title))
        except _HashMismatch as err:
            mismatches.append(f"{url} (got {err.found})")
            continue
        except requests.exceptions.RequestException as err:
            failures.append(f"{url} ({_short_reason(err)})")
            continue
        finally:
            pooch_log.setLevel(level)
        path = Path(path)
        _write_marker(path, data_file.sha256)
        return path, url
    if mismatches:
        others = f" Other mirrors: {'; '.join(failures)}." if failures else ""
        raise ValueError(
            f"{source.title} file {data_file.name} as downloaded does not match the published data: expected "
            f"uncompressed sha256 {data_file.sha256}, from {'; '.join(mismatches)}.{others} Nothing was saved in "
            f"{folder}. Fix: try again later or set {MIRROR_ENV} to another mirror; or download the file yourself, "
            f"check it, and point --data-dir / {DATA_ENV} at its folder."
        )
    tried.append(f"the cache {folder} (no {data_file.name})")
    tried.append(f"downloading {data_file.name} from {'; '.join(failures)}")
    raise DatasetUnavailable(_unavailable(source, tried))


def _unavailable(source: DatasetSource, tried: list[str]) -> str:
    names = ", ".join(f.name for f in source.files)
    return (
        f"{source.title} is not available on this machine. Tried, in order: {'; '.join(tried)}. "
        f"Fix: connect to the internet and run again; or download {names} (e.g. from {source.mirrors[0]}) into a "
        f"folder and pass --data-dir FOLDER (data_dir=FOLDER in Python) or set {DATA_ENV}=FOLDER. {_OFFLINE_HINT}"
    )


def _short_reason(err) -> str:
    """One phrase for a requests error, instead of its nested repr."""
    import requests

    text = str(err)
    if isinstance(err, requests.exceptions.HTTPError) and err.response is not None:
        return f"HTTP {err.response.status_code} {err.response.reason}"
    if isinstance(err, requests.exceptions.Timeout):
        return f"no answer within {DOWNLOAD_TIMEOUT} s"
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        counts = re.search(r"(\d+) bytes read, (\d+) more expected", text)
        detail = f": {counts[1]} bytes arrived, {counts[2]} more were expected" if counts else ""
        return f"the connection broke off mid-download{detail}"
    errno_text = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno_text:
        return errno_text[1].strip().rstrip(".")
    return f"{type(err).__name__}: {text[:150]}"


class _HashMismatch(ValueError):
    # a ValueError so that pooch's stream_download lets it through and deletes its temporary file
    def __init__(self, found: str):
        super().__init__(f"uncompressed sha256 mismatch: got {found}")
        self.found = found


class _VerifyingDownloader:
    """pooch's HTTP downloader, then our check of the uncompressed content while the file still has
    pooch's temporary name: a mismatch raises, and pooch deletes the temporary file instead of renaming it."""

    def __init__(self, data_file: DataFile, progress, title: str):
        self.data_file, self.progress, self.title = data_file, progress, title

    def __call__(self, url, output_file, pooch, check_only=False):
        from pooch import HTTPDownloader

        bar = _FileProgress(f"{self.title} {self.data_file.name}") if self.progress is True else self.progress
        http = HTTPDownloader(progressbar=bar if bar is not None else False, chunk_size=64 * 1024,
                              timeout=DOWNLOAD_TIMEOUT)
        try:
            result = http(url, output_file, pooch, check_only=check_only)
        finally:
            if isinstance(bar, _FileProgress):
                bar.close()                     # also after a failure (pooch closes it only on success)
        if check_only:
            return result
        found = verify_file(output_file, self.data_file.sha256)
        if found is not None:
            raise _HashMismatch(found)
        return None


class _FileProgress:
    """pooch's progress bar (tqdm), named after the file and opened at the first byte, so that a refused
    connection prints nothing before the error. pooch sets `total`, then calls update, reset and close."""

    def __init__(self, label: str):
        self.label, self.total, self._bar = label, 0, None

    def __bool__(self) -> bool:                 # pooch tests the bar's truth before using it
        return True

    def update(self, n_bytes: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=self.label, unit="B", unit_scale=True)
        self._bar.update(n_bytes)

    def reset(self) -> None:
        if self._bar is not None:
            self._bar.reset(total=self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
