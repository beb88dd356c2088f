"""Writing files atomically: a temporary file in the same folder, fsync, then one rename over the target."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: str | bytes, *, mode: int = 0o644) -> int:
    """Write `data` (text as UTF-8) to `path` so that readers see the old file or the new one, never half of
    one, and no temporary file is left on failure; returns the size in bytes."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); the file it replaces was an ordinary readable one.
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(payload)
