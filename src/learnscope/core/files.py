"""Writing files so that nothing is lost: a crash mid-write leaves the old file or the new one, never half of
one — and nothing that is not a regular file is ever replaced.

write_atomically writes a temporary file beside the target, flushes it to disk and renames it over the target.
A rename replaces whatever has the name, so before it: a symbolic link is followed (the link stays, the file it
points to is written), a device, FIFO, socket or folder is refused, a file with other hard links is written in
place (a rename would cut it off from them), and the new file gets the old file's permissions (or, for a new
file, those the umask gives), not mkstemp's private 0600.
"""

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Written:
    """Where write_atomically put the bytes: `path` is the file written, `via_link` the link the caller named when
    it was a symbolic link to `path` (else None)."""

    path: Path
    via_link: Path | None = None

    def describe(self) -> str:
        """'out.safetensors', or 'models/a.safetensors (through the link out.safetensors)'."""
        return f"{self.path}" if self.via_link is None else f"{self.path} (through the link {self.via_link})"


def check_output_path(path) -> Path:
    """The file that writing to `path` would write (a symbolic link's target); ValueError if that is anything but
    a regular file or a new name. Call it before long work, so a bad output path fails first."""
    requested = Path(path)
    target = requested.resolve() if requested.is_symlink() else requested     # the file a link points to
    existing = _existing(target)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        suggestion = requested / "out.safetensors" if stat.S_ISDIR(existing.st_mode) else "out.safetensors"
        raise ValueError(f"{requested} is {_kind(existing.st_mode)}, not a regular file; learnscope writes only "
                         f"regular files and leaves anything else untouched. Give the path of a file instead, e.g. "
                         f"{suggestion}.")
    return target


def write_atomically(path, payload: bytes) -> Written:
    """Write `payload` to `path`, all or nothing (see the module docstring); ValueError for a target that is not
    a regular file, naming what it is and what to do instead."""
    requested = Path(path)
    target = check_output_path(requested)
    existing = _existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        if existing is not None and existing.st_nlink > 1:
            _write_in_place(target, temporary)
        else:
            _take_permissions(temporary, existing)
            os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Written(target, requested if target != requested else None)


def _existing(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):    # nothing there yet (writing will say if it cannot be)
        return None


def _take_permissions(temporary: str, existing: os.stat_result | None) -> None:
    """The replaced file's mode and owner, or for a new file the mode the umask gives (mkstemp makes 0600)."""
    if existing is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        return
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))
    if hasattr(os, "chown"):
        with contextlib.suppress(PermissionError):      # only root may give a file away: the writer keeps it
            os.chown(temporary, existing.st_uid, existing.st_gid)


def _write_in_place(target: Path, temporary: str) -> None:
    """Copy the finished temporary file into `target`'s own inode, so every hard link sees the new content.
    NOTE: not atomic (a crash mid-copy leaves a partial file), but the payload is already safe on disk beside it
    and the copy is the smallest window there is without cutting the links."""
    with open(temporary, "rb") as source, open(target, "r+b") as destination:
        destination.truncate(0)
        while chunk := source.read(1 << 20):
            destination.write(chunk)
        destination.flush()
        os.fsync(destination.fileno())
    os.unlink(temporary)


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a regular file")
