"""The IDX file format of MNIST and Fashion-MNIST, read by hand so a learner can see every byte.

Layout (all multi-byte numbers big-endian):
    bytes 0-1   0x00 0x00                  magic
    byte  2     type code                  0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim                       number of dimensions (1 for labels, 3 for images)
    4*ndim      dims                       one uint32 per dimension, e.g. 60000, 28, 28
    the rest    data                       product(dims) items in C order, nothing after them
The file may be gzip-compressed as a whole (the canonical downloads are); we tell by the gzip
magic bytes 1f 8b, not by the file name.
"""

import gzip
import os
import sys
import zlib
from pathlib import Path

import numpy as np

from learnscope.core.validation import check_choice

# type code -> (name for messages, big-endian dtype as stored in the file)
IDX_TYPES = {
    0x08: ("uint8", np.dtype(">u1")),
    0x09: ("int8", np.dtype(">i1")),
    0x0B: ("int16", np.dtype(">i2")),
    0x0C: ("int32", np.dtype(">i4")),
    0x0D: ("float32", np.dtype(">f4")),
    0x0E: ("float64", np.dtype(">f8")),
}
MAX_NDIM = 4  # MNIST uses 1 (labels) and 3 (images); anything past 4 is a damaged header
#: The largest IDX data read (MNIST's training images are 47 MB): a damaged or hostile header cannot ask for more
MAX_IDX_BYTES = 256 * 2**20
GZIP_MAGIC = b"\x1f\x8b"

MNIST_FILE_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_FIX = "Re-download it, or point --data-dir / LEARNSCOPE_DATA at a folder with intact MNIST files."
_CHUNK = 1 << 20


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a writeable array in native byte order.   file -> (d0, ..., d{ndim-1})"""
    path = Path(path)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise FileNotFoundError(
            f"read_idx expected an IDX file at {path}, but it is {what}. "
            "Check the path, or point --data-dir / LEARNSCOPE_DATA at a folder with the MNIST files."
        )
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == GZIP_MAGIC
    try:
        if is_gzip:
            with gzip.open(path, "rb") as stream:
                return _read_stream(stream, path, is_gzip=True, file_size=None)
        with open(path, "rb") as stream:
            return _read_stream(stream, path, is_gzip=False, file_size=path.stat().st_size)
    except (OSError, EOFError, zlib.error) as err:
        # gzip.BadGzipFile is an OSError; zlib.error and EOFError come from a damaged or cut stream
        if not is_gzip or isinstance(err, FileNotFoundError):
            raise
        raise ValueError(
            f"read_idx could not decompress {path}: expected an intact gzip stream, got a damaged one "
            f"({type(err).__name__}: {err}). {_FIX}"
        ) from err


def _read_stream(stream, path: Path, *, is_gzip: bool, file_size) -> np.ndarray:
    """Parse header and data from an open binary stream; every check names the file."""
    kind = "decompressed data" if is_gzip else "file"
    header = _read_exact(stream, 4)
    if len(header) < 4:
        raise ValueError(
            f"read_idx expected a 4-byte IDX header in {path}, got only {len(header)} byte(s) "
            f"(the {kind} is truncated or empty). {_FIX}"
        )
    if header[0] != 0 or header[1] != 0:
        raise ValueError(
            f"read_idx expected {path} to start with the IDX magic 00 00, got {header[:2].hex(' ')} "
            f"(not an IDX file, or a damaged one). {_FIX}"
        )
    type_code, ndim = header[2], header[3]
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02X} {name}" for code, (name, _) in IDX_TYPES.items())
        raise ValueError(
            f"read_idx expected an IDX type code in {path} ({known}), got 0x{type_code:02X}. "
            f"The header is damaged. {_FIX}"
        )
    if not 1 <= ndim <= MAX_NDIM:
        raise ValueError(
            f"read_idx expected 1 to {MAX_NDIM} dimensions in the header of {path}, got {ndim}. "
            f"The header is damaged. {_FIX}"
        )
    dims_bytes = _read_exact(stream, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise ValueError(
            f"read_idx expected {ndim} dimension sizes (4 bytes each) in {path}, got {len(dims_bytes)} byte(s): "
            f"the {kind} is truncated. {_FIX}"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims_bytes, dtype=">u4"))
    type_name, file_dtype = IDX_TYPES[type_code]
    n_data_bytes = int(np.prod(shape, dtype=object)) * file_dtype.itemsize
    header_size = 4 + 4 * ndim

    if file_size is not None and file_size != header_size + n_data_bytes:
        # raw file: the size alone tells truncation or trailing bytes, before we allocate anything
        problem = "is truncated" if file_size < header_size + n_data_bytes else "has trailing bytes"
        raise ValueError(
            f"read_idx expected {path} to hold {header_size} header bytes + {n_data_bytes} data bytes "
            f"({'x'.join(map(str, shape))} {type_name}) = {header_size + n_data_bytes} bytes, "
            f"got {file_size} bytes: the file {problem}. {_FIX}"
        )

    if n_data_bytes > MAX_IDX_BYTES:
        raise ValueError(
            f"read_idx: the header of {path} declares {'x'.join(map(str, shape))} {type_name} = {n_data_bytes:,} "
            f"bytes; learnscope reads IDX files of up to {MAX_IDX_BYTES:,} bytes (MNIST's largest is 47,040,000). "
            f"The header is damaged or the file is not a dataset learnscope knows. {_FIX}"
        )
    if is_gzip:
        # NOTE: a compressed stream's size says nothing of its content: the memory grows with the bytes that
        # really arrive, so a short file whose header claims a large shape fails before taking that much
        raw = bytearray()
        while len(raw) < n_data_bytes and (chunk := stream.read(min(_CHUNK, n_data_bytes - len(raw)))):
            raw += chunk
        n_read = len(raw)
        data = np.frombuffer(raw, dtype=file_dtype.newbyteorder("=")) if n_read == n_data_bytes else None
    else:
        # native byte order: fill the raw big-endian bytes in place, then swap in place if needed
        data = np.empty(shape, dtype=file_dtype.newbyteorder("="))
        n_read = _read_into(stream, memoryview(data).cast("B"))
    if n_read < n_data_bytes:
        raise ValueError(
            f"read_idx expected {n_data_bytes} data bytes ({'x'.join(map(str, shape))} {type_name}) in {path}, "
            f"got {n_read}: the {kind} is truncated. {_FIX}"
        )
    # NOTE: reading on to the end also makes gzip check its CRC, which catches flipped bytes
    n_extra = _count_remaining(stream)
    if n_extra:
        raise ValueError(
            f"read_idx expected {path} to end after {n_data_bytes} data bytes ({'x'.join(map(str, shape))} "
            f"{type_name}), got {n_extra} trailing byte(s): the {kind} is damaged or not this format. {_FIX}"
        )
    data = data.reshape(shape)
    if file_dtype.itemsize > 1 and sys.byteorder == "little":
        data.byteswap(inplace=True)
    return data


def _read_exact(stream, n: int) -> bytes:
    """Up to n bytes; fewer only at the end of the stream (gzip may return short reads)."""
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read_into(stream, buffer: memoryview) -> int:
    """Fill buffer from stream without an intermediate copy; return how many bytes arrived."""
    filled = 0
    while filled < len(buffer):
        n = stream.readinto(buffer[filled : filled + _CHUNK])
        if not n:
            break
        filled += n
    return filled


def _count_remaining(stream) -> int:
    count = 0
    while chunk := stream.read(_CHUNK):
        count += len(chunk)
    return count


def mnist_files(folder, split: str = "train") -> tuple[Path, Path]:
    """Paths of the images and labels IDX files of one split in `folder`, raw or .gz.   -> (images, labels)"""
    split = check_choice(split, "split", "mnist_files", tuple(MNIST_FILE_STEMS))
    folder = Path(os.fspath(folder))
    if not folder.is_dir():
        raise FileNotFoundError(
            f"mnist_files expected a folder with the MNIST files at {folder}, but it "
            f"{'is a file' if folder.exists() else 'does not exist'}. "
            "Point --data-dir / LEARNSCOPE_DATA at the folder holding train-images-idx3-ubyte.gz and its siblings."
        )
    found, missing = [], []
    for stem in MNIST_FILE_STEMS[split]:
        # raw first: it reads faster, and a user who unpacked the files meant us to use them
        candidates = [folder / stem, folder / f"{stem}.gz"]
        match = next((c for c in candidates if c.is_file()), None)
        if match is None:
            missing.extend(c.name for c in candidates)
        found.append(match)
    if missing:
        present = sorted(p.name for p in folder.iterdir())
        shown = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "") if present else "nothing"
        raise FileNotFoundError(
            f"mnist_files expected the {split} split in {folder}, looked for {' / '.join(missing)}, "
            f"found {shown}. Download MNIST there, or point --data-dir / LEARNSCOPE_DATA at a folder that has it."
        )
    return found[0], found[1]
