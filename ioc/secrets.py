"""Writing and checking secret files: whole or not at all, and never readable by others."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class InsecureFileError(PermissionError):
    pass


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` atomically: a broker reloading on SIGHUP never reads half a file, and the
    content is never on disk with a wider mode than ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_private(path: Path) -> None:
    """Refuse a secret (key, registry) that group or others may read, naming the file and mode."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InsecureFileError(
            f"{path}: mode {mode:04o} lets other users read a secret; run `chmod 600 {path}`"
        )


def read_secret(path: Path) -> str:
    """A password or token kept in a file (never in YAML committed to git): the first line, after
    checking that nobody else can read the file."""
    check_private(path)
    return path.read_text(encoding="utf-8").splitlines()[0].strip() if path.stat().st_size else ""
