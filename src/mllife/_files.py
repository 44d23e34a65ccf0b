"""Writing files atomically: a temporary file next to the target, flushed, then renamed.

One place for the write every saved artefact uses (bundles, reports, monitor
state): a crash or a full disk never leaves a half-written file under the
target's name, and the temporary file is removed when the write fails.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, mode: int | None = None,
                 fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    Parameters
    ----------
    path : str or Path
        The target; its folder is created when missing.
    data : bytes or str
        Text is written as UTF-8.
    mode : int, optional
        Permissions of the file (``0o644`` for a report meant to be shared);
        by default those of :func:`tempfile.mkstemp`, readable by the owner only.
    fsync : bool, default=True
        Flush the data to the disk before the rename.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "hello").read_text()
    'hello'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
