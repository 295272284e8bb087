"""Cache of parsed context files (pre-commit mode: the rest of the repository).

Only what resolution needs is kept per file: the documents of the kinds other objects refer
to (claims, storage, cluster configuration, policies, namespaces, nodes, network
attachments, kustomizations) with their positions, and a slim stub of every workload
(identity and labels, for policy and migration-object checks).

Entries are keyed by the file's path, size and modification time and by the kvlint
version, so a stale entry is never used. The cache lives in ``$KVLINT_CACHE_DIR``, else
``$XDG_CACHE_HOME/kvlint``, else ``~/.cache/kvlint``; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Sequence

from kvlint import __version__, source
from kvlint.parse import Document, ParsedFile

FORMAT = 8
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
    parts = sorted(os.path.realpath(r) for r in roots) + [os.getcwd()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def parse_cached(
    files: Sequence[source.SourceFile], max_size: int, jobs: int, roots: Sequence[str]
) -> list[ParsedFile]:
    """Parse ``files`` for resolution, reusing cached entries that are still valid."""
    from kvlint.runner import parse_sources

    path = os.path.join(cache_dir(), f"context-{_key(roots)}.pickle")
    entries: dict[str, tuple[int, int, ParsedFile]] = {}
    try:
        with open(path, "rb") as fh:
            stored = pickle.load(fh)
        if stored.get("format") == FORMAT and stored.get("version") == __version__:
            entries = stored["entries"]
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, KeyError, TypeError, ValueError):
        entries = {}
    out: list[ParsedFile] = []
    todo: list[source.SourceFile] = []
    fresh: dict[str, tuple[int, int, ParsedFile]] = {}
    stats: dict[str, tuple[int, int]] = {}
    for f in files:
        try:
            st = os.stat(f.real)
        except OSError:
            continue
        stats[f.display] = (st.st_size, st.st_mtime_ns)
        hit = entries.get(f.display)
        if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            fresh[f.display] = hit
        else:
            todo.append(f)
    if todo:
        parsed, _ = parse_sources(todo, max_size, jobs)
        for pf in parsed:
            size, mtime = stats[pf.path]
            fresh[pf.path] = (size, mtime, _slim(pf))
    for f in files:
        hit = fresh.get(f.display)
        if hit is not None:
            out.append(hit[2])
    if todo or len(fresh) != len(entries):
        _store(path, fresh)
    return out


def _store(path: str, entries: dict[str, tuple[int, int, ParsedFile]]) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".context-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(
                {"format": FORMAT, "version": __version__, "entries": entries}, fh, protocol=pickle.HIGHEST_PROTOCOL
            )
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time
