"""Cache of parsed context files (pre-commit mode: the rest of the repository).

Only what resolution needs is kept per file: the documents of the kinds other objects refer
to (claims, storage, cluster configuration, policies, namespaces, nodes, network
attachments, kustomizations) with their positions, and a slim stub of every workload
(identity and labels, for policy and migration-object checks).

The claims with a namespace (by kind and namespace) and the workload stubs are stored as
separately pickled groups and read only when a lookup needs them (``LazyContext``): a
pre-commit run checks one changed file and needs a few of a large repository's objects.

Entries are keyed by the file's path, size and modification time and by the kvlint
version, so a stale entry is never used. The cache lives in ``$KVLINT_CACHE_DIR``, else
``$XDG_CACHE_HOME/kvlint``, else ``~/.cache/kvlint``; deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable, Sequence

from kvlint import __version__, source
from kvlint.parse import Document, ParsedFile

FORMAT = 10
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
    import hashlib

    parts = sorted(os.path.realpath(r) for r in roots) + [os.getcwd()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


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


class LazyContext:
    """The context documents not read yet: per group, the pickled ``{file: documents}``."""

    def __init__(self, groups: dict[GroupKey, bytes | dict[str, list[Document]]], files: Sequence[str]) -> None:
        self.groups = groups
        self.files = list(files)

    def _docs(self, key: GroupKey) -> dict[str, list[Document]]:
        group = self.groups[key]
        if isinstance(group, bytes):
            group = self.groups[key] = pickle.loads(group)
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


def parse_cached(
    files: Sequence[source.SourceFile], max_size: int, jobs: int, roots: Sequence[str]
) -> tuple[list[ParsedFile], LazyContext]:
    """Parse ``files`` for resolution, reusing cached entries that are still valid. The
    claims and workload stubs come back unread, in a ``LazyContext``; the cache stores the
    other documents only for the few files that have any."""
    from kvlint.kustomize import is_kustomization
    from kvlint.reader import parse_sources

    path = os.path.join(cache_dir(), f"context-{_key(roots)}.pickle")
    stats_in: dict[str, tuple[int, int]] = {}
    eager_in: dict[str, ParsedFile] = {}
    groups_in: dict[GroupKey, bytes | dict[str, list[Document]]] = {}
    try:
        with open(path, "rb") as fh:
            stored = pickle.load(fh)
        if stored.get("format") == FORMAT and stored.get("version") == __version__:
            stats_in, eager_in, groups_in = stored["files"], stored["eager"], stored["groups"]
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, KeyError, TypeError, ValueError):
        stats_in, eager_in, groups_in = {}, {}, {}
    todo: list[source.SourceFile] = []
    stats: dict[str, tuple[int, int]] = {}
    for f in files:
        try:
            st = os.stat(f.real)
        except OSError:
            continue
        stats[f.display] = (st.st_size, st.st_mtime_ns)
        if stats_in.get(f.display) != stats[f.display]:
            todo.append(f)
    # Entries of files not listed this time (linted now, or gone) are kept while the file
    # exists: a pre-commit run lints other files each time.
    kept = {p: st for p, st in stats_in.items() if p not in stats and os.path.exists(p)}
    lazy = LazyContext(groups_in, [f.display for f in files if f.display in stats])
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
    blobs = {key: pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL) for key, docs in groups.items()}
    store(path, {"format": FORMAT, "version": __version__, "files": stats, "eager": eager, "groups": blobs})


def store(path: str, value: object) -> None:
    """Pickle ``value`` to the cache file ``path``, atomically (a reader sees the old file or
    the new one); a cache that cannot be written only costs time."""
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".kvlint-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass
