"""Reading and parsing input files, in this process or across processes.

The lowest layer of the pipeline above ``source`` and ``parse``: used for the files that
feed resolution only (context folders, cluster state) and by the context cache.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from kvlint import source
from kvlint.models import Finding, Location
from kvlint.parse import ParsedFile, parse_input

#: Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 64


def read_error(display: str, message: str) -> Finding:
    return Finding(
        rule="KV906",
        severity="error",
        message=message,
        fix="fix or remove the file, or exclude it (--exclude / exclude: in .kvlint.yaml)",
        location=Location(display, 1, 1, 1, 1),
    )


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


#: The multiprocessing start method; None: the platform's choice (``start_method``).
#: Tests set it to "spawn" to run the platforms without fork on Linux.
START_METHOD: str | None = None


def start_method() -> str:
    """``fork`` where it is safe and available (Linux: workers start at once and inherit
    the loaded modules), else ``spawn`` (Windows has no fork; on macOS fork is unsafe
    with system frameworks, and Python's own default there is spawn)."""
    import multiprocessing

    if START_METHOD is not None:
        return START_METHOD
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def mp_context() -> Any:
    import multiprocessing

    return multiprocessing.get_context(start_method())


def text_stamp(text: str) -> str:
    """What a file held when it was linted (``kvlint fix`` compares it before writing)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def parse_one(src: source.SourceFile, max_size: int) -> ParsedFile | Finding:
    text = source.read(src, max_size)
    if text.text is None:
        return read_error(src.display, text.error or "cannot read file")
    return parse_input(src.display, text.text)


def _parse_chunk(args: tuple[list[source.SourceFile], int]) -> list[ParsedFile | Finding]:
    files, max_size = args
    return [parse_one(f, max_size) for f in files]


def parse_sources(
    files: Sequence[source.SourceFile], max_size: int, jobs: int = 1
) -> tuple[list[ParsedFile], list[Finding]]:
    """Read and parse files, in order; unreadable ones become KV906 findings."""
    jobs = jobs or default_jobs()
    disk = [f for f in files if f.real != source.STDIN]
    if jobs > 1 and len(disk) >= PARALLEL_MIN_FILES and len(disk) == len(files):
        outcomes = _parallel(list(files), max_size, jobs)
    else:
        outcomes = [parse_one(f, max_size) for f in files]
    parsed = [o for o in outcomes if isinstance(o, ParsedFile)]
    errors = [o for o in outcomes if isinstance(o, Finding)]
    return parsed, errors


def _parallel(files: list[source.SourceFile], max_size: int, jobs: int) -> list[ParsedFile | Finding]:
    # Contiguous shares keep related files together and the merge order trivial; more
    # shares than workers even out the load.
    shares = jobs * 4
    size = -(-len(files) // shares)
    chunks = [(files[i : i + size], max_size) for i in range(0, len(files), size)]
    with mp_context().Pool(jobs) as pool:
        results = pool.map(_parse_chunk, chunks, chunksize=1)
    return [r for chunk in results for r in chunk]
