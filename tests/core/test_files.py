"""write_atomically writes regular files only: a FIFO or a device is refused and left alone, a link is followed, a
hard-linked file keeps its links, permissions are the old file's or the umask's — and a crash leaves no half file."""

import os
import stat

import pytest

from learnscope.cli import main
from learnscope.core.files import write_atomically


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"is a FIFO \(named pipe\), not a regular file"):
        write_atomically(fifo, b"model")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]                # no temporary file left behind


def test_a_character_device_is_refused(tmp_path):
    # a device node of our own (never the machine's /dev/null: a broken writer would replace it)
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        message = "making a device node needs root"
        if os.environ.get("CI"):                            # CI runs as root: there the test must run
            pytest.fail(message)
        pytest.skip(message)
    with pytest.raises(ValueError, match="is a character device"):
        write_atomically(device, b"model")
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "real.safetensors"
    real.write_bytes(b"old")
    link = tmp_path / "latest.safetensors"
    link.symlink_to(real)
    written = write_atomically(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert written.path == real and written.via_link == link and "through the link" in written.describe()


def test_a_hard_linked_file_is_written_in_place_so_every_link_sees_it(tmp_path):
    first = tmp_path / "a.safetensors"
    first.write_bytes(b"old")
    second = tmp_path / "b.safetensors"
    os.link(first, second)
    inode = first.stat().st_ino
    write_atomically(first, b"new content")
    assert second.read_bytes() == b"new content" and first.stat().st_ino == inode and first.stat().st_nlink == 2


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umasks(tmp_path):
    existing = tmp_path / "shared.html"
    existing.write_bytes(b"old")
    existing.chmod(0o640)
    write_atomically(existing, b"new")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    old_umask = os.umask(0o022)
    try:
        written = write_atomically(tmp_path / "report.html", b"<html>")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(written.path.stat().st_mode) == 0o644          # readable by others, as a report should be


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_train_refuses_a_fifo_output_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / "out.safetensors"
    os.mkfifo(fifo)
    code = main(["train", "xor", "--no-record", "-o", str(fifo)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and "not a regular file" in err
    assert len(err.strip().splitlines()) == 1 and "Model saved" not in capsys.readouterr().out
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
