"""Small file-system helpers shared by every area that writes durable files."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path | str) -> None:
    """Flush a file's or a directory's metadata to disk (a rename or link is durable only once
    its directory is fsync'd)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
