"""Finding input files and reading them safely."""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

EXTENSIONS = (".yaml", ".yml", ".json")
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
STDIN = "-"
#: Folders never descended into.
SKIP_DIRS = frozenset((".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__"))


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to lint: ``display`` is how findings name it, ``real`` where it is read."""

    display: str
    real: str
    #: Found by a folder walk that follows no link: the file itself is not a link.
    linkless: bool = False


@dataclass(frozen=True, slots=True)
class SourceError:
    display: str
    message: str


@dataclass(slots=True)
class Text:
    """The decoded text of one input, or the reason it could not be read."""

    display: str
    text: str | None
    error: str | None = None


def display_path(path: str) -> str:
    """How findings name a path: relative to the current folder when below it.

    A ``..`` is resolved the way the system opens the file (after the links before it:
    ``real/link/../vm.yaml`` is in the folder that holds the link's target, not in
    ``real``). A name that is not valid UTF-8 is shown with ``\\xNN`` escapes."""
    if ".." in path and ".." in path.split(os.sep):
        path = _physical(path)
    rel = os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)
    if rel.startswith(".." + os.sep) or rel == "..":
        rel = os.path.normpath(path)
    return printable(rel.replace(os.sep, "/"))


def _folder_display(folder: str) -> str | None:
    """``display_path(folder)``, which the display path of each file the walk finds in it
    extends by the file's name; None for a folder reached through ``..`` (each file's path
    is resolved on its own, see ``display_path``)."""
    if ".." in folder and ".." in folder.split(os.sep):
        return None
    return display_path(folder) if folder not in ("", os.curdir) else "."


def real_paths(files: Iterable[SourceFile]) -> list[str]:
    """The real path of each of ``files`` ("" for stdin), resolving each folder once: a file
    that is not itself a link is its folder's real path joined with its name."""
    folders: dict[str, str] = {}
    out: list[str] = []
    for f in files:
        if f.real == STDIN:
            out.append("")
            continue
        head, name = os.path.split(f.real)
        if not name or name in (os.curdir, os.pardir) or (not f.linkless and os.path.islink(f.real)):
            out.append(os.path.realpath(f.real))
            continue
        real_head = folders.get(head)
        if real_head is None:
            real_head = folders[head] = os.path.realpath(head or os.curdir)
        out.append(os.path.join(real_head, name))
    return out


def _physical(path: str) -> str:
    """``path`` with its folder as the system resolves it, when a link before a ``..``
    makes that differ from reading the ``..`` as text; else ``path`` itself."""
    head, tail = os.path.split(path)
    if tail in ("", ".", ".."):
        head, tail = path, ""
    real = os.path.realpath(head or os.curdir)
    if real == os.path.realpath(os.path.normpath(head or os.curdir)):
        return path
    out = os.path.join(real, tail) if tail else real
    if os.path.isabs(path):
        return out
    # relative to the current folder as it is reached, like the path given
    return os.path.join(os.path.relpath(real, os.path.realpath(os.curdir)), tail) if tail else out


def printable(name: str) -> str:
    """``name`` as valid text: bytes of a file name that are not UTF-8 (kept by Python as
    lone surrogates) become ``\\xNN``, so every report format can carry it."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_excluded(display: str, excludes: Sequence[str]) -> bool:
    """Whether a display path matches one of the ``--exclude`` patterns."""
    for pattern in excludes:
        p = pattern.rstrip("/")
        if fnmatch.fnmatch(display, p) or fnmatch.fnmatch(display, p + "/*"):
            return True
        if display.startswith(p + "/"):
            return True
    return False


def git_files(folder: str, *, untracked: bool) -> list[str] | None:
    """The files git lists under a work tree folder, relative to it, sorted; None when git
    cannot tell (no git, not a work tree).

    ``untracked=False``: the tracked files and what is staged (the index): what a commit
    holds, never untracked scratch files. ``untracked=True``: also the untracked files that
    ``.gitignore`` does not ignore. git runs with the repository's hooks, helpers and
    monitors turned off (:func:`git`)."""
    args = ["ls-files", "-z", "--cached"]
    if untracked:
        args += ["--others", "--exclude-standard"]
    out = git(folder, *args)
    if out is None:
        return None
    return sorted({n for n in out.decode("utf-8", "surrogateescape").split("\0") if n})


def drop_git_ignored(folder: str, found: dict[str, SourceFile]) -> dict[str, SourceFile]:
    """``found`` (files walked under ``folder``) without those ``.gitignore`` ignores, when
    ``folder`` is in a git work tree (tracked files are never ignored); unchanged otherwise."""
    if not found:
        return found
    # (the walk joins each name to ``folder``: its relative path is what follows it)
    head = folder.rstrip(os.sep) + os.sep if folder.rstrip(os.sep) else os.sep
    real = {
        k: f.real[len(head) :] if f.real.startswith(head) else os.path.relpath(f.real, folder) for k, f in found.items()
    }
    # Tracked files are never ignored, so git is asked only about the others: check-ignore
    # takes about 80 µs a path (0.8 s for 10,000 files), listing the index a millisecond.
    listed = git(folder, "ls-files", "-z", "--cached")
    ask = list(real.values())
    if listed is not None:
        tracked = set(listed.decode("utf-8", "surrogateescape").split("\0"))
        ask = [r for r in ask if r not in tracked]
        if not ask:
            return found
    # exit code 1 (nothing ignored) and 128 (not a work tree, no git) both mean "keep all"
    out = git(
        folder,
        "check-ignore",
        "-z",
        "--stdin",
        stdin="\0".join(ask).encode("utf-8", "surrogateescape") + b"\0",
    )
    if out is None:
        return found
    ignored = set(out.decode("utf-8", "surrogateescape").split("\0"))
    return {k: f for k, f in found.items() if real[k] not in ignored}


def discover(
    paths: Iterable[str],
    excludes: Sequence[str] = (),
    follow_symlinks: bool = False,
    gitignore: bool = False,
) -> tuple[list[SourceFile], list[SourceError]]:
    """Expand paths (files, folders, globs, ``-``) into a sorted, de-duplicated file list.

    Folders are walked recursively for ``.yaml``, ``.yml`` and ``.json`` files. Symbolic
    links are not followed unless ``follow_symlinks`` (a link named explicitly is read).
    With ``gitignore``, files that a folder's git work tree ignores are left out of the walk.
    """
    files: dict[str, SourceFile] = {}
    errors: list[SourceError] = []
    stdin_seen = False
    for arg in paths:
        if arg == STDIN:
            stdin_seen = True
            continue
        if os.path.lexists(arg):
            candidates = [arg]
        elif glob.has_magic(arg):
            candidates = _glob(arg, follow_symlinks)
            if not candidates:
                errors.append(SourceError(printable(arg), "no file matches this pattern"))
                continue
        else:
            errors.append(SourceError(display_path(arg), "no such file or folder"))
            continue
        for cand in candidates:
            if os.path.isdir(cand) and (follow_symlinks or not os.path.islink(cand) or cand == arg):
                walked: dict[str, SourceFile] = {}
                _walk(cand, walked, errors, excludes, follow_symlinks)
                if gitignore:
                    walked = drop_git_ignored(cand, walked)
                for key, sf in walked.items():
                    files.setdefault(key, sf)
            else:
                disp = display_path(cand)
                if not is_excluded(disp, excludes):
                    files.setdefault(disp, SourceFile(disp, cand))
    ordered = [files[k] for k in sorted(files)]
    if stdin_seen:
        ordered.insert(0, SourceFile("<stdin>", STDIN))
    return ordered, errors


def _glob(pattern: str, follow_symlinks: bool) -> list[str]:
    """``glob.glob(pattern, recursive=True)``, sorted and de-duplicated, except that links
    are not followed unless ``follow_symlinks`` (as in a folder walk): a match that is a link,
    or lies under one that the pattern's wildcards went through, is dropped; and ``**``
    enters each folder once. (``glob`` follows every link: a loop such as ``a -> .`` repeats
    each file once per level up to the OS's link limit, and two loops never end.)"""
    found = _expand(pattern, follow_symlinks)
    if follow_symlinks:
        return found
    parts = pattern.replace(os.altsep or os.sep, os.sep).split(os.sep)
    fixed = next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))
    return [p for p in found if not _via_link(p, fixed)]


def _via_link(path: str, fixed: int) -> bool:
    """Whether ``path`` is, or is under, a link after its first ``fixed`` components."""
    parts = path.split(os.sep)
    return any(os.path.islink(os.sep.join(parts[:n])) for n in range(fixed + 1, len(parts) + 1))


def _expand(pattern: str, follow_symlinks: bool) -> list[str]:
    parts = pattern.replace(os.altsep or os.sep, os.sep).split(os.sep)
    if "**" not in parts:
        return sorted(glob.glob(pattern, recursive=True))
    i = parts.index("**")
    head, tail = os.sep.join(parts[:i]), os.sep.join(parts[i + 1 :])
    if i == 0:
        bases = [os.curdir]
    elif not head:
        bases = [os.sep]
    else:
        bases = glob.glob(head) if glob.has_magic(head) else [head]
    out: set[str] = set()
    for base in bases:
        if not os.path.isdir(base):
            continue
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, _ in os.walk(base, followlinks=follow_symlinks):
            if follow_symlinks:
                try:
                    st = os.stat(dirpath)
                except OSError:
                    dirnames[:] = []
                    continue
                if (st.st_dev, st.st_ino) in seen:
                    dirnames[:] = []
                    continue
                seen.add((st.st_dev, st.st_ino))
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            d = os.path.normpath(dirpath) if i == 0 else dirpath
            prefix = "" if d == os.curdir else glob.escape(d)
            if tail:
                out.update(_expand(os.path.join(prefix, tail) if prefix else tail, follow_symlinks))
            else:
                if prefix:
                    out.add(d)
                out.update(glob.glob(os.path.join(prefix, "*") if prefix else "*"))
    return sorted(out)


def _walk(
    root: str,
    files: dict[str, SourceFile],
    errors: list[SourceError],
    excludes: Sequence[str],
    follow_symlinks: bool,
) -> None:
    """The files under ``root`` with a manifest extension, top-down, each folder's
    subfolders in name order (as ``os.walk`` would list them). Links are left out unless
    ``follow_symlinks`` (then each folder is entered once). One folder listing gives each
    entry's type, so no file costs a system call of its own."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        dirpath = stack.pop()
        if follow_symlinks:
            try:
                st = os.stat(dirpath)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
        try:
            with os.scandir(dirpath) as it:
                entries = list(it)
        except OSError as err:
            errors.append(SourceError(display_path(err.filename or root), f"cannot read folder: {err.strerror}"))
            continue
        subdirs: list[str] = []
        # Every name of the folder is shown after the folder's own display path (a name
        # from the folder listing has no separator, and is never "." or "..").
        folder_disp: str | None = ""
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if (
                    name not in SKIP_DIRS
                    and not name.startswith(".")
                    and (follow_symlinks or not entry.is_symlink())
                    and not is_excluded(display_path(os.path.join(dirpath, name)), excludes)
                ):
                    subdirs.append(name)
                continue
            if not name.endswith(EXTENSIONS) or (not follow_symlinks and entry.is_symlink()):
                continue
            full = os.path.join(dirpath, name)
            if folder_disp == "":
                folder_disp = _folder_display(dirpath)
            if folder_disp is None:
                disp = display_path(full)
            else:
                disp = printable(name) if folder_disp == "." else folder_disp + "/" + printable(name)
            if is_excluded(disp, excludes):
                continue
            files.setdefault(disp, SourceFile(disp, full, linkless=not follow_symlinks))
        stack.extend(os.path.join(dirpath, d) for d in sorted(subdirs, reverse=True))


def _encoding(data: bytes) -> tuple[str, int]:
    """Codec of ``data`` and the length of the byte-order mark to skip (YAML's rules)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8", 3
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32", 0
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", 0
    return "utf-8", 0


def decode(data: bytes) -> str:
    """Decode bytes the way YAML allows: UTF-8 (with or without BOM), UTF-16/32 with BOM."""
    codec, skip = _encoding(data)
    return data[skip:].decode(codec)


def read(src: SourceFile, max_size: int = DEFAULT_MAX_FILE_SIZE) -> Text:
    """Read and decode one input. Never raises for I/O or encoding problems."""
    try:
        if src.real == STDIN:
            stdin = getattr(sys.stdin, "buffer", None)
            if stdin is None:
                return Text(src.display, None, "cannot read standard input: it is closed")
            data = stdin.read(max_size + 1)
        else:
            # One open (non-blocking, so a FIFO cannot hang it), then fstat: one path
            # lookup per file instead of two.
            try:
                fd = os.open(src.real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            except OSError:
                if not stat.S_ISREG(os.stat(src.real).st_mode):  # a socket cannot be opened
                    return Text(src.display, None, "not a regular file (FIFO, device or socket); skipped")
                raise
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    return Text(src.display, None, "not a regular file (FIFO, device or socket); skipped")
                if st.st_size > max_size:
                    return Text(
                        src.display,
                        None,
                        f"file is {st.st_size} bytes, over the {max_size}-byte limit (raise it with --max-file-size)",
                    )
                data = os.read(fd, max(st.st_size, 1) + 1)
                if len(data) > st.st_size:  # grew since fstat: read the rest
                    chunks = [data]
                    while (chunk := os.read(fd, 1 << 16)) and sum(map(len, chunks)) <= max_size:
                        chunks.append(chunk)
                    data = b"".join(chunks)
            finally:
                os.close(fd)
    except (OSError, ValueError) as e:  # (ValueError: a closed standard input)
        what = "standard input" if src.real == STDIN else "file"
        return Text(src.display, None, f"cannot read {what}: {getattr(e, 'strerror', None) or e}")
    if len(data) > max_size:
        return Text(src.display, None, f"input is over the {max_size}-byte limit (raise it with --max-file-size)")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return Text(src.display, None, "binary file (contains NUL bytes); skipped")
    try:
        return Text(src.display, decode(data))
    except UnicodeDecodeError as e:
        codec, skip = _encoding(data)
        start = e.start + skip
        line = data[:start].decode(codec, "replace").count("\n") + 1
        return Text(src.display, None, f"invalid {codec.upper()} at byte {start} (line {line})")


# -- git -------------------------------------------------------------------------------------

#: Settings that make git run commands or programs a repository can name (its own
#: .git/config, an included file): turned off for every git kvlint runs.
GIT_SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.untrackedCache=false",
    "core.sshCommand=false",
    "core.askPass=",
    "credential.helper=",
    "diff.external=",
    "protocol.allow=never",
)


def git(folder: str, *args: str, timeout: float = 60, stdin: bytes | None = None) -> bytes | None:
    """Standard output of ``git -C folder args`` with the repository's hooks, helpers and
    monitors turned off (``stdin``: bytes to feed it); None when git fails or is missing."""
    import subprocess

    argv = ["git", "--no-pager", "--no-optional-locks"]
    for setting in GIT_SAFE_CONFIG:
        argv += ["-c", setting]
    argv += ["-C", folder, *args]
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_ASKPASS")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", GIT_OPTIONAL_LOCKS="0")
    try:
        if stdin is None:
            out = subprocess.run(
                argv, capture_output=True, timeout=timeout, check=False, env=env, stdin=subprocess.DEVNULL
            )
        else:
            out = subprocess.run(argv, capture_output=True, timeout=timeout, check=False, env=env, input=stdin)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_root(start: str = ".") -> str | None:
    """The top folder of the git work tree holding ``start``; None outside one (or when the
    repository names a work tree that does not hold ``start``)."""
    out = git(start, "rev-parse", "--show-toplevel", timeout=10)
    root = out.decode("utf-8", "surrogateescape").strip() if out else ""
    if not root or not inside(os.path.realpath(start), os.path.realpath(root)):
        return None
    return root


def inside(path: str, top: str) -> bool:
    """Whether the real path ``path`` is ``top`` or below it (both real paths)."""
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def contained(base: str, names: list[str], top: str) -> list[str]:
    """``names`` (relative to the folder ``base``, ``/``-separated as git lists them) that
    do not lead out of the real folder ``top`` through a link: a linked file or folder is
    kept only when its target is in ``top``. (One look at each folder, not one per file.)"""
    by_folder: dict[str, list[str]] = {}
    for n in names:
        by_folder.setdefault(n.rpartition("/")[0], []).append(n)
    keep: set[str] = set()
    real = _RealFolders()
    for d, members in by_folder.items():
        folder = os.path.join(base, d) if d else base
        if not inside(real.of(folder), top):
            continue
        try:
            with os.scandir(folder) as it:
                links = {e.name for e in it if e.is_symlink()}
        except OSError:
            continue
        if not links:
            keep.update(members)
            continue
        for n in members:
            name = n.rpartition("/")[2]
            if name not in links or inside(os.path.realpath(os.path.join(folder, name)), top):
                keep.add(n)
    return [n for n in names if n in keep]


class _RealFolders:
    """``os.path.realpath`` of many folders of one tree, each folder's parent resolved
    once: a folder that is not a link is its parent's real path joined with its name."""

    def __init__(self) -> None:
        self.memo: dict[str, str] = {}

    def of(self, folder: str) -> str:
        hit = self.memo.get(folder)
        if hit is not None:
            return hit
        parent, name = os.path.split(folder)
        if not name or name in (os.curdir, os.pardir) or not parent or parent == folder or os.path.islink(folder):
            out = os.path.realpath(folder)
        else:
            out = os.path.join(self.of(parent), name)
        self.memo[folder] = out
        return out
