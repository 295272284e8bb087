"""The context cache holds data only: nothing in the cache folder can run code or change a
verdict. Any damage is a cache miss (parse again, rewrite, go on); ``--no-cache`` reads
nothing; a cache folder of another user, or writable by others, is refused.

The tests hold whatever files the cache folder has: they act on every file in it.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvlint import cache, report
from kvlint.config import Config
from kvlint.runner import Options, lint_paths

EXE = shutil.which("kvlint", path=os.path.dirname(sys.executable)) or shutil.which("kvlint")

PVCS = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: apps}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared, namespace: apps}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
---
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata: {name: dv, namespace: other}
spec: {storage: {accessModes: [ReadWriteMany]}, source: {blank: {}}}
"""
CLUSTER = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: rbd}
provisioner: openshift-storage.rbd.csi.ceph.com
---
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec: {liveMigrationConfig: {allowPostCopy: true}}
"""
VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {{name: {name}, namespace: apps, labels: {{app: {name}}}}}
spec:
  runStrategy: Always
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      evictionStrategy: LiveMigrate
      domain:
        devices:
          disks: [{{name: d, disk: {{}}}}]
          interfaces: [{{name: default, masquerade: {{}}}}]
      networks: [{{name: default, pod: {{}}}}]
      volumes:
      - name: d
        persistentVolumeClaim: {{claimName: {claim}}}
"""
POLICY = """\
apiVersion: migrations.kubevirt.io/v1alpha1
kind: MigrationPolicy
metadata: {name: p}
spec:
  selectors:
    virtualMachineInstanceSelector: {app: web}
"""
MIGRATION = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstanceMigration
metadata: {name: m, namespace: apps}
spec: {vmiName: web}
"""
TARGETS = ("vms/db.yaml", "policies/p.yaml", "vms/migrate.yaml")


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    files = {
        "storage/pvcs.yaml": PVCS,
        "cluster/cluster.yaml": CLUSTER,
        "vms/db.yaml": VM.format(name="db", claim="data"),
        "vms/web.yaml": VM.format(name="web", claim="shared"),
        "policies/p.yaml": POLICY,
        "vms/migrate.yaml": MIGRATION,
        "base/kustomization.yaml": "namespace: shop\nresources: [pvc.yaml]\n",
        "base/pvc.yaml": PVCS.split("---\n")[0],
    }
    for rel, text in files.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    subprocess.run(["git", "init", "-q", str(repo)], check=True, capture_output=True)
    # context is what the repository tracks (or stages): stage every file
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, capture_output=True)
    return repo


def findings(repo: Path, use_cache: bool) -> list[str]:
    """The JSON report of each target, linted with the rest of the repository as context."""
    out = []
    for rel in TARGETS:
        opts = Options(context=[str(repo)], cache=use_cache)
        out.append(report.render("json", lint_paths([str(repo / rel)], Config(), options=opts)))
    return out


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KVLINT_CACHE_DIR", str(tmp_path / "cache"))
    return make_repo(tmp_path)


def cache_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_cache_gives_the_findings_of_a_run_without_it(repo: Path, tmp_path: Path) -> None:
    plain = findings(repo, False)
    assert not (tmp_path / "cache").exists()  # --no-cache writes nothing either
    assert findings(repo, True) == plain  # cold
    assert cache_files(tmp_path / "cache")
    assert findings(repo, True) == plain  # warm
    assert '"KV101"' in plain[0] and '"KV511"' not in plain[1]


class Payload:
    """Unpickling this runs a shell command (what a crafted pickle cache file would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_pickle_payloads_in_the_cache_folder_run_nothing(repo: Path, tmp_path: Path) -> None:
    if EXE is None:
        pytest.fail("the kvlint console script is not installed (pip install -e .)")
    folder = tmp_path / "cache"
    marker = tmp_path / "PWNED"
    env = {**os.environ, "KVLINT_CACHE_DIR": str(folder), "NO_COLOR": "1"}

    def run(*extra: str) -> tuple[int, str]:
        p = subprocess.run(
            [EXE, "lint", "--no-config", "-f", "json", *extra, "vms/db.yaml"],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
        return p.returncode, p.stdout

    baseline = run("--no-cache")
    assert baseline[0] == 1 and '"KV101"' in baseline[1]
    assert run() == baseline  # fills the cache
    payload = pickle.dumps(Payload(marker))
    # Every file kvlint wrote, and files named like any cache kvlint ever kept.
    targets = cache_files(folder) + [folder / "catalog-00000000.pickle", folder / "context-0000000000000000.pickle"]
    assert len(targets) > 2
    for p in targets:
        p.write_bytes(payload)
    for extra in ((), ("--no-cache",), ()):
        assert run(*extra) == baseline, extra
        assert not marker.exists(), "a cache file ran code"
    run("--no-cache", "--no-context")
    assert not marker.exists(), "a cache file ran code"
    with open(marker.parent / "sanity", "wb") as fh:  # the payload does run when unpickled
        fh.write(payload)
    pickle.loads((marker.parent / "sanity").read_bytes())
    assert marker.exists()


_BYTES = settings(
    max_examples=int(os.environ.get("KVLINT_CACHE_EXAMPLES", "40")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def warm() -> Iterator[tuple[Path, Path, list[str], dict[Path, bytes]]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old = os.environ.get("KVLINT_CACHE_DIR")
        os.environ["KVLINT_CACHE_DIR"] = str(root / "cache")
        try:
            repo = make_repo(root)
            plain = findings(repo, False)
            assert findings(repo, True) == plain
            files = {p: p.read_bytes() for p in cache_files(root / "cache")}
            assert files
            yield repo, root / "cache", plain, files
        finally:
            if old is None:
                os.environ.pop("KVLINT_CACHE_DIR", None)
            else:
                os.environ["KVLINT_CACHE_DIR"] = old


@_BYTES
@given(st.data())
def test_flipping_any_byte_of_any_cache_file_never_changes_findings(
    warm: tuple[Path, Path, list[str], dict[Path, bytes]], data: st.DataObject
) -> None:
    repo, folder, plain, files = warm
    shutil.rmtree(folder)
    folder.mkdir()
    for p, content in files.items():
        p.write_bytes(content)
    victim = data.draw(st.sampled_from(sorted(files)))
    content = bytearray(files[victim])
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(content) - 1))
        content[i] ^= data.draw(st.integers(1, 255))
    victim.write_bytes(bytes(content))
    os.environ["KVLINT_CACHE_DIR"] = str(folder)
    assert findings(repo, True) == plain
    # ... and the cache works again afterwards (rewritten, or unchanged where the damage was
    # somewhere SQLite never reads).
    assert findings(repo, True) == plain


def test_a_flipped_bit_in_a_cached_access_mode_changes_nothing(repo: Path, tmp_path: Path) -> None:
    # One bit in a cached claim ("ReadWriteOnce" -> "ReadWriteOncg") once turned KV101 (an
    # error) into KV102 (a warning) on every later run.
    plain = findings(repo, False)
    findings(repo, True)
    hits = 0
    for p in cache_files(tmp_path / "cache"):
        content = p.read_bytes()
        i = content.find(b"ReadWriteOnce")
        while i >= 0:
            hits += 1
            flipped = bytearray(content)
            flipped[i + 12] ^= 0x02
            p.write_bytes(bytes(flipped))
            assert findings(repo, True) == plain
            p.write_bytes(content)
            i = content.find(b"ReadWriteOnce", i + 1)
    assert hits


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b"SQLite format 3\x00" + b"\xff" * 200, id="bad-header"),
        pytest.param(lambda b: os.urandom(len(b)), id="random"),
    ],
)
def test_damaged_cache_file_is_a_miss_and_is_rewritten(repo: Path, tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    plain = findings(repo, False)
    findings(repo, True)
    (db,) = cache_files(tmp_path / "cache")
    db.write_bytes(damage(db.read_bytes()))
    assert findings(repo, True) == plain
    good = db.read_bytes()
    assert good.startswith(b"SQLite format 3\x00") and cache._load(str(db))  # rewritten


def _entries(db: Path) -> list[tuple[str, str, bytes, bytes]]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT kind, name, sum, data FROM entry").fetchall()
    finally:
        con.close()


def _rewrite(db: Path, rows: list[tuple[str, str, bytes, bytes]]) -> None:
    db.unlink()
    cache.write_db(str(db), rows)


def test_bad_checksum_or_foreign_code_key_is_a_miss(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = findings(repo, False)
    findings(repo, True)
    (db,) = cache_files(tmp_path / "cache")
    rows = _entries(db)
    kinds = {r[0] for r in rows}
    assert kinds == {"files", "eager", "group"}
    # A well-formed entry with a checksum that does not match (a claim turned RWX).
    changed = [
        (k, n, s, d.replace(b"ReadWriteOnce", b"ReadWriteMany")) if k == "group" else (k, n, s, d)
        for k, n, s, d in rows
    ]
    assert changed != rows
    _rewrite(db, changed)
    assert findings(repo, True) == plain
    # A cache written by other code (another key), even with matching checksums.
    monkeypatch.setattr(cache, "_CODE_KEY", ["another kvlint"])
    forged = [(k, n, cache._sum(k, n, d), d) for k, n, _, d in changed]
    _rewrite(db, forged)
    monkeypatch.setattr(cache, "_CODE_KEY", [])
    assert findings(repo, True) == plain


def test_a_group_that_cannot_be_decoded_is_parsed_again(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = findings(repo, False)
    findings(repo, True)

    def broken(blob: bytes) -> object:
        raise ValueError("damaged")

    monkeypatch.setattr(cache, "_dec_group", broken)
    assert findings(repo, True) == plain


def test_data_only_encoding_round_trips() -> None:
    from kvlint.parse import parse_text

    text = PVCS + "---\n" + VM.format(name="x", claim="y") + "---\na: [1, 2.5, .nan, -.inf, null, true, 'x']\n"
    pf = parse_text("f.yaml", text)
    for d in pf.documents:
        back = cache._dec_doc(cache._enc_doc(d))
        assert repr(back.data) == repr(d.data)
        assert sorted(back.positions()) == sorted(d.positions())
    with pytest.raises(cache._Unencodable):
        cache._enc({"x": object()})
    for bad in (["?"], ["M", "k"], ["L", "x", 1], {"a": 1}, ["d", [1]]):
        with pytest.raises((ValueError, IndexError, TypeError)):
            cache._dec(bad)


AUDIT = """
import os, sys
folder = os.path.realpath(os.environ["KVLINT_CACHE_DIR"])
def hook(event, args):
    if event in ("open", "sqlite3.connect", "os.listdir", "os.scandir") and args:
        target = args[0]
        if isinstance(target, (str, bytes, os.PathLike)):
            target = os.fsdecode(target)
            if target.startswith("file:"):
                from urllib.parse import unquote
                target = unquote(target[5:].split("?")[0])
            if os.path.realpath(target).startswith(folder):
                sys.stderr.write(f"CACHE-ACCESS {event} {target}\\n")
sys.addaudithook(hook)
from kvlint.cli import main
sys.argv = ["kvlint", *sys.argv[1:]]
main()
"""


def test_no_cache_reads_nothing_from_the_cache_folder(repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "KVLINT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", AUDIT, "lint", "--no-config", "-f", "json", *extra, "vms/db.yaml"],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    warm = run()
    assert "CACHE-ACCESS" in warm.stderr  # the hook sees cache use
    for p in cache_files(tmp_path / "cache"):
        p.write_bytes(b"garbage")
    cold = run("--no-cache")
    assert cold.returncode == 1, cold.stderr
    assert "CACHE-ACCESS" not in cold.stderr, cold.stderr


def _assert_refused(repo: Path, folder: Path, why: str, capsys: pytest.CaptureFixture[str]) -> None:
    plain = findings(repo, False)
    capsys.readouterr()
    cache._warned.clear()
    before = {p: p.read_bytes() for p in cache_files(folder)}
    assert findings(repo, True) == plain
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "cache folder" in line]
    assert lines == [f"kvlint: not using the cache folder {folder}: {why}"], err  # once per run
    assert {p: p.read_bytes() for p in cache_files(folder)} == before  # not written


def test_cache_folder_writable_by_others_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "context-0000000000000000.sqlite").write_bytes(b"planted")
    folder.chmod(0o777)
    _assert_refused(repo, folder, "it is writable by other users", capsys)


def test_cache_folder_of_another_user_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    other = os.getuid() + 4242
    try:
        os.chown(folder, other, -1)
    except PermissionError:
        pytest.skip("changing a folder's owner needs root")
    _assert_refused(repo, folder, f"it is owned by another user (uid {other})", capsys)


def test_cache_files_follow_the_umask(repo: Path, tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        findings(repo, True)
    finally:
        os.umask(old)
    folder = tmp_path / "cache"
    assert folder.stat().st_mode & 0o777 == 0o750
    files = cache_files(folder)
    assert files and all(p.stat().st_mode & 0o777 == 0o640 for p in files)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    # Even with a umask that would allow it, kvlint never makes a folder others can write.
    shutil.rmtree(folder)
    old = os.umask(0)
    try:
        findings(repo, True)
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o775
    assert all(p.stat().st_mode & 0o777 == 0o666 for p in cache_files(folder))


def test_temporary_files_of_killed_writers_are_removed(repo: Path, tmp_path: Path) -> None:
    findings(repo, True)
    (db,) = cache_files(tmp_path / "cache")
    stale = db.parent / f".{db.name}.0123456789abcdef.tmp"
    fresh = db.parent / f".{db.name}.fedcba9876543210.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (1, 1))
    (repo / "storage" / "more.yaml").write_text(PVCS.replace("name: data", "name: more"))
    subprocess.run(["git", "-C", str(repo), "add", "storage/more.yaml"], check=True, capture_output=True)
    findings(repo, True)  # a context file changed: the cache is written again
    assert not stale.exists() and fresh.exists()  # (a writer may still be at work on the other)
