"""Writing a fixed file: atomically, only when it still holds what was linted, keeping its
owner and mode, never through a read-only file or one of several hard links, and never
leaving a temporary file behind for long (``remove_stale``)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Iterable

from kvlint.fix.edits import Refused
from kvlint.fix.planning import FilePlan, stamp

TEMP_PREFIX = ".kvlint-fix-"
TEMP_SUFFIX = ".tmp"
#: A temporary file this old is a leftover of an interrupted run (a run writes its
#: temporary file and renames it within moments).
STALE_SECONDS = 60

# --------------------------------------------------------------------------- writing


def before_replace(path: str) -> None:
    """Called just before the final check and rename of each file (a hook for tests)."""


class Changed(Exception):
    """The file changed on disk since it was read."""


def write_atomic(fp: FilePlan) -> None:
    """Replace ``fp.real`` with the fixed text: a temporary file in the same folder, written,
    flushed and synced, with the original's mode, renamed over the original only if the
    original still has the size, mtime and content it had when it was read."""
    target = os.path.realpath(fp.real)
    folder = os.path.dirname(target) or "."
    st = os.stat(target)
    writable(target, st)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(fp.new_bytes())
            fh.flush()
            os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
            with contextlib.suppress(OSError):
                os.fchown(fh.fileno(), st.st_uid, st.st_gid)
            os.fsync(fh.fileno())
        before_replace(target)
        try:
            with open(target, "rb") as fh:
                now = fh.read()
            current = stamp(target, now)
        except OSError as e:
            raise Changed(f"cannot read it again: {e.strerror}") from e
        if current != fp.stamp:
            raise Changed("it changed since it was read")
        os.replace(tmp, target)
        tmp = ""
        try:
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def writable(path: str, st: os.stat_result) -> None:
    """Refused when the fix must not replace the file: the user cannot write it, or it is
    read-only (no write permission for anyone: a rename would replace it all the same), or
    it has other hard links (a rename would leave them with the old text)."""
    if not os.access(path, os.W_OK) or not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise Refused("the file is read-only")
    if st.st_nlink > 1:
        raise Refused(f"the file has {st.st_nlink} hard links, which a rewrite would separate")


def remove_stale(folders: Iterable[str], now: float | None = None) -> list[str]:
    """Remove the temporary files an interrupted run left in ``folders`` (older than
    ``STALE_SECONDS``); returns their paths."""
    now = time.time() if now is None else now
    removed = []
    for folder in sorted(set(folders)):
        try:
            entries = list(os.scandir(folder or "."))
        except OSError:
            continue
        for e in entries:
            if not (e.name.startswith(TEMP_PREFIX) and e.name.endswith(TEMP_SUFFIX)):
                continue
            try:
                if e.is_file(follow_symlinks=False) and now - e.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                    os.unlink(e.path)
                    removed.append(e.path)
            except OSError:
                continue
    return removed
