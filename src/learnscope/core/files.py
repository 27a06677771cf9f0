"""Writing files so that nothing is lost: a crash mid-write leaves the old file or the new one,
never half of one."""

import os
import tempfile
from pathlib import Path


def write_atomically(path, payload: bytes) -> Path:
    """Write to a temporary file in the same folder, flush it to disk, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
