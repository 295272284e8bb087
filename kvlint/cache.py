"""Cache of parsed context files (pre-commit mode: the rest of the repository).

Only what resolution needs is kept per file: the documents of the kinds other objects refer
to (claims, storage, cluster configuration, policies, namespaces, nodes, network
attachments, kustomizations) with their positions, and a slim stub of every workload
(identity and labels, for policy and migration-object checks).

The claims with a namespace (by kind and namespace) and the workload stubs are stored as
separate groups and decoded only when a lookup needs them (``LazyContext``): a pre-commit
run checks one changed file and needs a few of a large repository's objects.

The cache holds data only: an SQLite file whose entries are JSON texts, each with a
checksum; nothing in it is ever run or turned into objects other than plain data and
kvlint's own containers. It is versioned by a key derived from kvlint's own code, and
entries are keyed by each file's path, size and modification time. Any problem reading
it (a missing, foreign, truncated or damaged file, a wrong key, a bad checksum, an
unexpected shape) is a cache miss: the files are parsed again and the cache is rewritten.

It lives in ``$KVLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/kvlint``, else
``~/.cache/kvlint``; a folder owned by another user or writable by others is not used
(one warning). Deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable, Sequence
from typing import Any

from kvlint import __version__, source
from kvlint.parse import Document, ParsedFile, PList, PMap

FORMAT = 11
FULL_KINDS = frozenset(
    (
        "PersistentVolumeClaim",
        "DataVolume",
        "StorageClass",
        "StorageProfile",
        "HyperConverged",
        "KubeVirt",
        "MigrationPolicy",
        "Namespace",
        "Node",
        "NetworkAttachmentDefinition",
        "Kustomization",
        "PersistentVolume",
        "CDIConfig",
        "List",
    )
)


def cache_dir() -> str:
    explicit = os.environ.get("KVLINT_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kvlint")


_warned: set[str] = set()


def _refuse(folder: str, why: str) -> None:
    if folder not in _warned:
        _warned.add(folder)
        with contextlib.suppress(Exception):
            print(f"kvlint: not using the cache folder {folder}: {why}", file=sys.stderr)


def usable_dir(create: bool) -> str | None:
    """The cache folder, when it is safe to use: owned by this user and not writable by
    others (created, with the user's umask and never writable by others, when ``create``).
    None otherwise (with a one-line warning for a folder that is not safe)."""
    folder = cache_dir()
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        if not create:
            return None
        try:
            os.makedirs(folder, mode=0o775, exist_ok=True)
            st = os.stat(folder)
        except OSError:
            return None
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        _refuse(folder, "it is not a folder")
        return None
    uid = os.getuid() if hasattr(os, "getuid") else st.st_uid
    if st.st_uid != uid:
        _refuse(folder, f"it is owned by another user (uid {st.st_uid})")
        return None
    if st.st_mode & stat.S_IWOTH:
        _refuse(folder, "it is writable by other users")
        return None
    return folder


def _slim(pf: ParsedFile) -> ParsedFile:
    from kvlint.inventory import is_workload_doc, stub_document
    from kvlint.kustomize import is_kustomization

    if is_kustomization(pf.path):
        return ParsedFile(pf.path, pf.documents)
    docs: list[Document] = []
    for d in pf.documents:
        data = d.data
        if not isinstance(data, dict):
            continue
        if is_workload_doc(data):
            # Context workloads are never checked; what other objects read of them is kept:
            # identity (a migration object may name one) and labels (policies match them).
            stub = stub_document(d)
            stub.explicit = {}  # no finding is ever placed on a context object
            docs.append(stub)
            continue
        kind = data.get("kind")
        if kind in FULL_KINDS or (isinstance(kind, str) and kind.endswith("List")):
            docs.append(d)
    return ParsedFile(pf.path, docs)


def _key(roots: Sequence[str]) -> str:
    parts = sorted(os.path.realpath(r) for r in roots) + [os.getcwd()]
    return hashlib.sha256("|".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


_CODE_KEY: list[str] = []


def code_key() -> str:
    """A key derived from the code that writes and reads the cache (every module of the
    package, the format number and the version): another kvlint never reads this cache."""
    if not _CODE_KEY:
        h = hashlib.sha256(f"{FORMAT}|{__version__}".encode())
        here = os.path.dirname(os.path.abspath(__file__))
        for dirpath, dirnames, filenames in os.walk(here):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py"):
                    full = os.path.join(dirpath, name)
                    h.update(os.path.relpath(full, here).encode("utf-8", "surrogateescape") + b"\0")
                    try:
                        with open(full, "rb") as fh:
                            h.update(fh.read())
                    except OSError:
                        h.update(b"?")
        _CODE_KEY.append(h.hexdigest())
    return _CODE_KEY[0]


#: Documents of these kinds, with a namespace, are read only when a namespace's claims are
#: looked up; workload stubs only when something reads the workloads in view.
LAZY_KINDS = frozenset(("PersistentVolumeClaim", "DataVolume"))

GroupKey = tuple[str, str]


def _split(pf: ParsedFile) -> tuple[ParsedFile, dict[GroupKey, list[Document]]]:
    from kvlint.inventory import LAZY_WORKLOADS, is_workload_doc

    slim = _slim(pf)
    eager: list[Document] = []
    lazy: dict[GroupKey, list[Document]] = {}
    for d in slim.documents:
        data = d.data
        kind = data.get("kind") if isinstance(data, dict) else None
        meta = data.get("metadata") if isinstance(data, dict) else None
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        if is_workload_doc(data):
            lazy.setdefault(LAZY_WORKLOADS, []).append(d)
        elif kind in LAZY_KINDS and isinstance(ns, str) and ns:
            lazy.setdefault((str(kind), ns), []).append(d)
        else:
            eager.append(d)
    return ParsedFile(pf.path, eager), lazy


# -- data-only encoding --------------------------------------------------------------------
#
# Scalars are JSON scalars. Every container is a JSON array whose first item names it:
# "M" a parsed mapping whose position table follows its keys (key, position, value, ...),
# "L" a parsed list with one position per item (position, value, ...), "m" / "l" the same
# with any other position table, "d" / "a" / "t" a plain dict, list or tuple.


class _Unencodable(Exception):
    pass


_SCALARS = (str, int, float, bool, type(None))


def _enc(x: Any) -> Any:
    t = type(x)
    if t in _SCALARS:
        return x
    if t is PMap:
        p = getattr(x, "_p", None)
        if p is not None and len(p) == len(x) and all(a == b for a, b in zip(p, x, strict=True)):
            out: list[Any] = ["M"]
            for k, v in x.items():
                out += (k, p[k], _enc(v))
            return out
        return ["m", [i for k, v in x.items() for i in (_enc(k), _enc(v))], None if p is None else list(p.items())]
    if t is PList:
        p = getattr(x, "_p", None)
        if p is not None and len(p) == len(x):
            out = ["L"]
            for pos, v in zip(p, x, strict=True):
                out += (pos, _enc(v))
            return out
        return ["l", [_enc(v) for v in x], None if p is None else list(p)]
    if t is dict:
        return ["d", [i for k, v in x.items() for i in (_enc(k), _enc(v))]]
    if t is list:
        return ["a", [_enc(v) for v in x]]
    if t is tuple:
        return ["t", [_enc(v) for v in x]]
    raise _Unencodable(t.__name__)


def _pairs(flat: list[Any]) -> list[tuple[Any, Any]]:
    if len(flat) % 2:
        raise ValueError("odd pair list")
    return [(_dec(flat[i]), _dec(flat[i + 1])) for i in range(0, len(flat), 2)]


def _dec(x: Any) -> Any:
    if type(x) is not list:
        if type(x) in _SCALARS:
            return x
        raise ValueError("not data")
    tag = x[0]
    if tag == "M":
        m = PMap()
        p: Any = {}
        for i in range(1, len(x), 3):
            k, pos = x[i], x[i + 1]
            if type(k) is not str or type(pos) is not int:
                raise ValueError("bad mapping entry")
            m[k] = _dec(x[i + 2])
            p[k] = pos
        if len(x) % 3 != 1:
            raise ValueError("bad mapping")
        m._p = p
        return m
    if tag == "L":
        lst = PList()
        p = []
        if len(x) % 2 != 1:
            raise ValueError("bad list")
        for i in range(1, len(x), 2):
            if type(x[i]) is not int:
                raise ValueError("bad list position")
            p.append(x[i])
            lst.append(_dec(x[i + 1]))
        lst._p = p
        return lst
    if tag == "m":
        m = PMap(_pairs(x[1]))
        if x[2] is not None:
            m._p = {str(k): int(v) for k, v in x[2]}
        return m
    if tag == "l":
        lst = PList(_dec(v) for v in x[1])
        if x[2] is not None:
            lst._p = [int(v) for v in x[2]]
        return lst
    if tag == "d":
        return dict(_pairs(x[1]))
    if tag == "a":
        return [_dec(v) for v in x[1]]
    if tag == "t":
        return tuple(_dec(v) for v in x[1])
    raise ValueError(f"unknown container {tag!r}")


def _enc_doc(d: Document) -> list[Any]:
    explicit = None if d.explicit is None else [[list(p), list(pos)] for p, pos in d.explicit.items()]
    if explicit is not None and any(type(k) not in (str, int) for p, _ in explicit for k in p):
        raise _Unencodable("path")
    return [d.path, d.index, _enc(d.data), explicit, d.origin, d.root]


def _dec_doc(x: Any) -> Document:
    path, index, data, explicit, origin, root = x
    if type(path) is not str or type(index) is not int or type(root) is not int:
        raise ValueError("bad document")
    if origin is not None and type(origin) is not str:
        raise ValueError("bad origin")
    table = None
    if explicit is not None:
        table = {}
        for p, pos in explicit:
            if len(pos) != 6 or any(type(i) is not int for i in pos) or any(type(k) not in (str, int) for k in p):
                raise ValueError("bad position")
            table[tuple(p)] = tuple(pos)
    return Document(path, index, _dec(data), table, origin, root)


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=True).encode("ascii")


def _sum(kind: str, name: str, data: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{code_key()}\0{kind}\0{name}\0".encode("utf-8", "surrogateescape"))
    h.update(data)
    return h.digest()


def _group_name(key: GroupKey) -> str:
    return json.dumps(list(key), ensure_ascii=True)


def _dec_group(blob: bytes) -> dict[str, list[Document]]:
    raw = json.loads(blob)
    if type(raw) is not dict:
        raise ValueError("bad group")
    return {str(p): [_dec_doc(d) for d in docs] for p, docs in raw.items()}


class LazyContext:
    """The context documents not decoded yet: per group, the checked JSON of
    ``{file: documents}`` (``recover`` parses a group's files again should decoding fail)."""

    def __init__(
        self,
        groups: dict[GroupKey, bytes | dict[str, list[Document]]],
        files: Sequence[str],
        recover: Callable[[GroupKey], dict[str, list[Document]]] | None = None,
    ) -> None:
        self.groups = groups
        self.files = list(files)
        self.recover = recover

    def _docs(self, key: GroupKey) -> dict[str, list[Document]]:
        group = self.groups[key]
        if isinstance(group, bytes):
            try:
                group = _dec_group(group)
            except Exception:  # noqa: BLE001 - any problem is a miss: parse the files again
                group = self.recover(key) if self.recover is not None else {}
            self.groups[key] = group
        return group

    def loaders(self, skip: set[str]) -> dict[GroupKey, list[Callable[[], list[Document]]]]:
        """A loader per group (the files in ``skip``, kustomize patches, left out)."""
        order = {f: i for i, f in enumerate(self.files) if f not in skip}

        def loader(key: GroupKey) -> Callable[[], list[Document]]:
            def load() -> list[Document]:
                docs = self._docs(key)
                files = sorted((f for f in docs if f in order), key=order.__getitem__)
                return [d for f in files for d in docs[f]]

            return load

        return {key: [loader(key)] for key in self.groups}

    def materialize(self, files: list[ParsedFile]) -> None:
        """Add every lazy document to its file (for runs that need them all up front)."""
        by_path = {pf.path: pf for pf in files}
        for key in list(self.groups):
            for path, docs in self._docs(key).items():
                pf = by_path.get(path)
                if pf is not None:
                    pf.documents = pf.documents + docs
        self.groups = {}


Stats = dict[str, tuple[int, int, list[GroupKey]]]


def _load(path: str) -> tuple[Stats, dict[str, ParsedFile], dict[GroupKey, bytes]]:
    """The cache file's entries, every one checked; raises on any problem."""
    import sqlite3
    from urllib.parse import quote

    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        raise ValueError("not a cache file of this user")
    # Read only, and without locks or journals: a cache file is replaced, never changed.
    con = sqlite3.connect(f"file:{quote(path)}?mode=ro&immutable=1", uri=True)
    try:
        rows = con.execute("SELECT kind, name, sum, data FROM entry").fetchall()
        (key,) = con.execute("SELECT value FROM meta WHERE name = 'code'").fetchone()
    finally:
        con.close()
    if key != code_key():
        raise ValueError("another kvlint's cache")
    stats: Stats = {}
    eager: dict[str, ParsedFile] = {}
    groups: dict[GroupKey, bytes] = {}
    seen_files = False
    for kind, name, checksum, data in rows:
        if type(kind) is not str or type(name) is not str or type(data) is not bytes:
            raise ValueError("bad entry")
        if checksum != _sum(kind, name, data):
            raise ValueError("bad checksum")
        if kind == "files":
            raw = json.loads(data)
            for p, (size, mtime, keys) in raw.items():
                if type(size) is not int or type(mtime) is not int:
                    raise ValueError("bad stat")
                stats[p] = (size, mtime, [(str(k), str(n)) for k, n in keys])
            seen_files = True
        elif kind == "eager":
            docs = json.loads(data)
            eager[name] = ParsedFile(name, [_dec_doc(d) for d in docs])
        elif kind == "group":
            k, n = json.loads(name)
            groups[(str(k), str(n))] = data
        else:
            raise ValueError("unknown entry")
    if not seen_files:
        raise ValueError("no file table")
    return stats, eager, groups


def parse_cached(
    files: Sequence[source.SourceFile], max_size: int, jobs: int, roots: Sequence[str]
) -> tuple[list[ParsedFile], LazyContext]:
    """Parse ``files`` for resolution, reusing cached entries that are still valid. The
    claims and workload stubs come back undecoded, in a ``LazyContext``; the cache stores
    the other documents only for the few files that have any."""
    from kvlint.kustomize import is_kustomization
    from kvlint.reader import parse_sources

    folder = usable_dir(create=True)
    path = os.path.join(folder, f"context-{_key(roots)}.sqlite") if folder else None
    stats_in: Stats = {}
    eager_in: dict[str, ParsedFile] = {}
    groups_in: dict[GroupKey, bytes | dict[str, list[Document]]] = {}
    if path is not None and os.path.exists(path):
        try:
            stats_in, eager_in, raw_groups = _load(path)
            groups_in = dict(raw_groups)
        except Exception:  # noqa: BLE001 - any problem reading the cache is a miss
            stats_in, eager_in, groups_in = {}, {}, {}
    by_display = {f.display: f for f in files}

    def recover(key: GroupKey) -> dict[str, list[Document]]:
        owners = [by_display[p] for p, (_, _, keys) in stats_in.items() if key in keys and p in by_display]
        parsed, _ = parse_sources(owners, max_size, 1)
        return {pf.path: docs for pf in parsed if (docs := _split(pf)[1].get(key))}

    todo: list[source.SourceFile] = []
    stats: dict[str, tuple[int, int]] = {}
    for f in files:
        try:
            st = os.stat(f.real)
        except OSError:
            continue
        stats[f.display] = (st.st_size, st.st_mtime_ns)
        old = stats_in.get(f.display)
        if old is None or old[:2] != stats[f.display]:
            todo.append(f)
    # Entries of files not listed this time (linted now, or gone) are kept while the file
    # exists: a pre-commit run lints other files each time.
    kept = {p: st[:2] for p, st in stats_in.items() if p not in stats and os.path.exists(p)}
    lazy = LazyContext(groups_in, [f.display for f in files if f.display in stats], recover)
    if todo or len(kept) + len(stats) != len(stats_in):
        parsed, _ = parse_sources(todo, max_size, jobs)
        redo = {f.display for f in todo}
        groups = {key: {p: d for p, d in lazy._docs(key).items() if p not in redo} for key in lazy.groups}
        for p in redo:
            eager_in.pop(p, None)
        for pf in parsed:
            eager, parts = _split(pf)
            if eager.documents or is_kustomization(pf.path):
                eager_in[pf.path] = eager
            for key, docs in parts.items():
                groups.setdefault(key, {})[pf.path] = docs
        live = set(stats) | set(kept)
        for p in redo - {pf.path for pf in parsed}:
            stats.pop(p, None)  # unreadable now: no entry
        eager_in = {p: e for p, e in eager_in.items() if p in live}
        groups = {k: kept_docs for k, g in groups.items() if (kept_docs := {p: d for p, d in g.items() if p in live})}
        if path is not None:
            _store(path, {**kept, **stats}, eager_in, groups)
        lazy = LazyContext(dict(groups), lazy.files)
    out = [eager_in.get(f.display) or ParsedFile(f.display) for f in files if f.display in stats]
    return out, lazy


def _store(
    path: str,
    stats: dict[str, tuple[int, int]],
    eager: dict[str, ParsedFile],
    groups: dict[GroupKey, dict[str, list[Document]]],
) -> None:
    """Write the cache file anew, atomically (a reader sees the old file or the new one); a
    cache that cannot be written only costs time."""
    member: dict[str, list[GroupKey]] = {}
    for key, docs in groups.items():
        for p in docs:
            member.setdefault(p, []).append(key)
    try:
        rows = [("files", "", _dump({p: [s, m, [list(k) for k in member.get(p, [])]] for p, (s, m) in stats.items()}))]
        rows += [("eager", p, _dump([_enc_doc(d) for d in pf.documents])) for p, pf in eager.items()]
        rows += [
            ("group", _group_name(k), _dump({p: [_enc_doc(d) for d in ds] for p, ds in g.items()}))
            for k, g in groups.items()
        ]
    except (_Unencodable, ValueError, RecursionError):
        return  # (nothing kvlint parses is like that; the files are parsed on each run then)
    write_db(path, [(kind, name, _sum(kind, name, data), data) for kind, name, data in rows])


def write_db(path: str, rows: list[tuple[str, str, bytes, bytes]]) -> None:
    import secrets
    import sqlite3

    folder = os.path.dirname(path)
    prefix = f".{os.path.basename(path)}."
    _remove_stale(folder, prefix)
    tmp = os.path.join(folder, f"{prefix}{secrets.token_hex(8)}.tmp")
    try:
        # Created with the user's umask (as any file the user writes), never through a link.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        os.close(fd)
        try:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.execute("PRAGMA journal_mode = OFF")
                con.execute("PRAGMA synchronous = OFF")
                con.execute("BEGIN")
                con.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
                con.execute("CREATE TABLE entry (kind TEXT, name TEXT, sum BLOB, data BLOB, PRIMARY KEY (kind, name))")
                con.execute("INSERT INTO meta VALUES ('code', ?)", (code_key(),))
                con.executemany("INSERT INTO entry VALUES (?, ?, ?, ?)", rows)
                con.execute("COMMIT")
            finally:
                con.close()
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, sqlite3.Error):
        pass


def _remove_stale(folder: str, prefix: str, age: float = 600) -> None:
    """Remove temporary files of writers that were killed (older than ``age`` seconds)."""
    import time

    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as it:
        for e in it:
            if e.name.startswith(prefix) and e.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    if e.is_file(follow_symlinks=False) and now - e.stat(follow_symlinks=False).st_mtime > age:
                        os.unlink(e.path)
