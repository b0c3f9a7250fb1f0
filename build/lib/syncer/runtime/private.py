"""Files written for people to read (saved plans, log exports) hold names and e-mails: mode 0600.

Created 0600, and set to 0600 when the file already existed with a wider mode (``open(..., "w")``
would keep it); the state database is its store's business.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

PRIVATE = 0o600


def open_private(path: Path, *, newline: str | None = None) -> TextIO:
    """``path`` opened for writing text (UTF-8, truncated), readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
        return os.fdopen(fd, "w", encoding="utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, text: str) -> None:
    with open_private(path) as file:
        file.write(text)
