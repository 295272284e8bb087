"""A run in several shards finds exactly what one shard finds, byte for byte, whether the
workloads are kept in full or as summaries, and whatever the start method of the workers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kvlint import report
from kvlint.config import Config
from kvlint.runner import PARALLEL_MIN_FILES, Options, lint_paths
from tests.conftest import ROOT, shared_or_skip


def _render(paths: list[str], config: Config | None, options: Options) -> str:
    options.sarif_fixes = True  # (SARIF fixes are worked out in each shard)
    res = lint_paths(paths, config or Config(), options=options)
    return "".join(report.render(fmt, res) for fmt in ("json", "text", "sarif", "github"))


def both(paths: list[str], config: Config | None = None) -> tuple[str, str]:
    """The output of one shard keeping the workloads in full, and of two shards; one shard
    keeping only the workloads' summaries must match the first."""
    serial = _render(paths, config, Options(jobs=1, keep=True))
    assert _render(paths, config, Options(jobs=1)) == serial
    return serial, _render(paths, config, Options(jobs=2))


def test_corpus_same_findings_in_parallel() -> None:
    corpus = shared_or_skip("corpus")
    serial, parallel = both([str(corpus)])
    assert serial == parallel


def test_examples_tree_replicated_same_findings(tmp_path: Path) -> None:
    # Enough files to take the parallel path: the examples copied into several folders,
    # plus cross-file facts (PVCs, HCO, policies) and suppressions.
    copies = -(-PARALLEL_MIN_FILES // 8) + 1
    for i in range(copies):
        shutil.copytree(ROOT / "examples", tmp_path / f"copy{i}")
    (tmp_path / "copy0" / "policy.yaml").write_text(
        "apiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\n"
        "metadata: {name: db}\nspec:\n  selectors:\n    virtualMachineInstanceSelector: {app: db}\n"
    )
    (tmp_path / "copy1" / "vmim.yaml").write_text(
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\n"
        "metadata: {name: m, namespace: db}\nspec: {vmiName: db-2}\n"
    )
    vm = tmp_path / "copy2" / "apps" / "db" / "vm-db-2.yaml"
    vm.write_text(
        vm.read_text().replace("  name: db-2\n", '  name: db-2\n  annotations:\n    kvlint.io/ignore: "KV311,KV999"\n')
    )
    serial, parallel = both([str(tmp_path)])
    assert "KV603" in serial and "suppressed" in serial and "KV908" in serial
    assert '"fixes"' in serial  # SARIF fixes, worked out in each shard
    assert serial == parallel


@pytest.mark.parametrize("platform", ["hco", "kubevirt"])
def test_parallel_respects_config(tmp_path: Path, platform: str) -> None:
    for i in range(-(-PARALLEL_MIN_FILES // 8) + 1):
        shutil.copytree(ROOT / "examples", tmp_path / f"c{i}")
    cfg = Config(platform=platform, rules={"KV108": "off", "KV101": "warning"})
    serial, parallel = both([str(tmp_path)], cfg)
    assert serial == parallel


def _vm(name: str, extra_devices: str = "", volumes: str = "") -> str:
    return (
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\n"
        f"metadata:\n  name: {name}\n  namespace: apps\n  labels: {{app: {name}}}\n"
        "spec:\n  runStrategy: Always\n  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      domain:\n        memory: {guest: 2Gi}\n"
        f"        devices:\n          interfaces:\n          - {{name: default, masquerade: {{}}}}\n{extra_devices}"
        "      networks:\n      - {name: default, pod: {}}\n" + volumes
    )


def _many_vms(root: Path) -> None:
    (root / "apps").mkdir(parents=True)
    for i in range(PARALLEL_MIN_FILES):
        (root / "apps" / f"vm-{i:03}.yaml").write_text(_vm(f"vm-{i:03}"))


def test_post_copy_names_vfio_vms_in_every_mode(tmp_path: Path) -> None:
    # KV410 on a CR that enables post-copy lists the linted VMs with VFIO devices: a
    # parallel or streaming run only has stubs of them when it checks the CR.
    _many_vms(tmp_path)
    (tmp_path / "apps" / "vm-gpu.yaml").write_text(
        _vm("vm-gpu", "          gpus:\n          - {name: gpu1, deviceName: nvidia.com/A10}\n")
    )
    (tmp_path / "hco.yaml").write_text(
        "apiVersion: hco.kubevirt.io/v1beta1\nkind: HyperConverged\n"
        "metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}\n"
        "spec:\n  liveMigrationConfig:\n    allowPostCopy: true\n"
    )
    serial, parallel = both([str(tmp_path)])
    assert "KV410" in serial and "apps/vm-gpu (GPU gpu1)" in serial
    assert serial == parallel


def test_run_starts_over_when_a_workload_file_holds_another_object(tmp_path: Path) -> None:
    # The second document is written as JSON (no top-level 'kind:' line): the file looks like
    # workloads only, but it holds the claim the VM uses.
    _many_vms(tmp_path)
    vol = "      volumes:\n      - {name: data, persistentVolumeClaim: {claimName: data}}\n"
    (tmp_path / "apps" / "vm-data.yaml").write_text(
        _vm("vm-data", "          disks:\n          - {name: data, disk: {bus: virtio}}\n", vol)
        + '---\n{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", '
        '"namespace": "apps"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": '
        '{"storage": "1Gi"}}}}\n'
    )
    from kvlint.shard import workloads_only

    assert workloads_only((tmp_path / "apps" / "vm-data.yaml").read_text())  # set aside, then found out
    serial, parallel = both([str(tmp_path)])
    assert "vm-data.yaml:23:22: error KV101" in serial
    assert serial == parallel


def test_one_shard_keeps_only_summaries_of_workloads(tmp_path: Path) -> None:
    _many_vms(tmp_path)
    res = lint_paths([str(tmp_path)], Config(), options=Options(jobs=1))
    assert res.inventory is not None
    workloads = res.inventory.workloads
    assert len(workloads) == PARALLEL_MIN_FILES
    assert all(w.obj.stub for w in workloads)
    assert res.objects == PARALLEL_MIN_FILES


def test_workloads_only_reads_top_level_kind_lines() -> None:
    from kvlint.shard import workloads_only

    vm = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\n"
    assert workloads_only(vm)
    assert workloads_only(
        "apiVersion: 'kubevirt.io/v1'\nkind: 'VirtualMachine' # a comment\n---\n"
        'kind: "VirtualMachinePool"\napiVersion: pool.kubevirt.io/v1alpha1\n'
    )
    assert not workloads_only(vm + "---\napiVersion: v1\nkind: PersistentVolumeClaim\n")
    assert not workloads_only("apiVersion: v1\nkind: VirtualMachine\n")  # another group: not a workload
    assert not workloads_only("kind: VirtualMachine\n")  # no apiVersion: not a workload either
    assert not workloads_only("spec:\n  kind: VirtualMachine\n")  # not at the top level
    assert not workloads_only("")


def test_stub_positions_are_those_of_the_document() -> None:
    from kvlint.inventory import as_dict, is_workload_doc, stub_document
    from kvlint.parse import parse_text

    texts = [p.read_text() for p in sorted((ROOT / "examples").rglob("*.yaml"))]
    texts.append(
        _vm("a").replace(
            "  labels: {app: a}\n",
            '  labels: {app: a}\n  annotations:\n    kvlint.io/ignore: "KV101"\n    other: x\n',
        )
    )
    texts.append("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: null\nspec: {}\n")
    texts.append('{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "j"}}\n')
    seen = 0
    for text in texts:
        for doc in parse_text("f.yaml", text).documents:
            if not is_workload_doc(doc.data):
                continue
            stub = stub_document(doc)
            ann = as_dict(as_dict(stub.data.get("metadata")).get("annotations"))
            wanted = [(), ("metadata",), ("metadata", "name"), ("metadata", "annotations")]
            wanted += [("metadata", "annotations", k) for k in ann]
            assert stub.explicit == {p: hit for p in wanted if (hit := doc.exact(p)) is not None}
            seen += 1
    assert seen >= 6


@pytest.mark.parametrize("ahead", ["all", "none"])
def test_parsing_ahead_gives_the_same_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ahead: str) -> None:
    """A worker parses its set-aside files while it waits for the objects; however many it
    got to (it depends on timing), the findings are the same. Forked workers inherit the
    patched stop condition: parse everything ahead, or nothing."""
    from kvlint import shard

    _many_vms(tmp_path)
    (tmp_path / "apps" / "vm-bad.yaml").write_text(_vm("vm-bad").replace("masquerade: {}", "bridge: {}"))
    real = shard.parse_ahead

    def forced(split: shard.Split, stop: object, limit: int) -> None:
        real(split, lambda: ahead == "none", len(split.later))

    monkeypatch.setattr("kvlint.pipeline.parse_ahead", forced)
    serial, parallel = both([str(tmp_path)])
    assert "KV201" in serial and serial == parallel


def test_parse_ahead_stops_when_asked(tmp_path: Path) -> None:
    from kvlint import source
    from kvlint.parse import ParsedFile
    from kvlint.shard import parse_ahead, read_and_split

    _many_vms(tmp_path)
    files, _ = source.discover([str(tmp_path)])
    split = read_and_split(files[:5], 1 << 20)
    assert len(split.later) == 5
    answers = iter([False, False, True])
    parse_ahead(split, lambda: next(answers), 10)
    assert [isinstance(t, ParsedFile) for _, t in split.later] == [True, True, False, False, False]
    parse_ahead(split, lambda: False, 4)
    assert [isinstance(t, ParsedFile) for _, t in split.later] == [True, True, True, True, False]


def test_spawned_workers_find_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Platforms without fork (Windows) or where it is unsafe (macOS) start the workers with
    spawn: forced here on Linux, the findings are the same byte for byte."""
    from kvlint import reader

    _many_vms(tmp_path)
    (tmp_path / "apps" / "vm-bad.yaml").write_text(_vm("vm-bad").replace("masquerade: {}", "bridge: {}"))
    serial, forked = both([str(tmp_path)])
    monkeypatch.setattr(reader, "START_METHOD", "spawn")
    assert reader.mp_context().get_start_method() == "spawn"
    spawned = _render([str(tmp_path)], None, Options(jobs=2))
    assert "KV201" in serial and spawned == forked == serial


@pytest.mark.parametrize(
    ("platform", "methods", "chosen"),
    [
        ("linux", ["fork", "spawn", "forkserver"], "fork"),
        ("linux", ["spawn"], "spawn"),
        ("darwin", ["fork", "spawn", "forkserver"], "spawn"),
        ("win32", ["spawn"], "spawn"),
    ],
)
def test_start_method_per_platform(
    monkeypatch: pytest.MonkeyPatch, platform: str, methods: list[str], chosen: str
) -> None:
    import multiprocessing

    from kvlint import reader

    monkeypatch.setattr(reader.sys, "platform", platform)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: methods)
    assert reader.start_method() == chosen


@pytest.mark.parametrize("where", ["examples", "corpus"])
def test_schema_answers_worked_out_while_reading_change_nothing(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Each shard validates its objects other than workloads as it reads them and the last
    step looks the answers up: the output is the same as validating them there, and the
    answers are used (each is taken once)."""
    from kvlint import pipeline
    from kvlint.checks import schema

    paths = [str(ROOT / "examples")] if where == "examples" else [str(shared_or_skip("corpus"))]
    used: list[int] = []
    real = schema._schema_errors

    def counting(obj: object, release: object, memo: dict[object, object] | None = None) -> object:
        before = len(memo) if memo is not None else 0
        got = real(obj, release, memo)  # type: ignore[arg-type]
        used.append(before - (len(memo) if memo is not None else 0))
        return got

    monkeypatch.setattr(schema, "_schema_errors", counting)
    with_answers = _render(paths, None, Options(jobs=1))
    assert sum(used) >= 10

    class Nothing:
        results: dict[object, object] = {}

        def __call__(self, doc: object) -> None:
            return None

    monkeypatch.setattr(pipeline, "_precheck", lambda job: Nothing())
    used.clear()
    assert _render(paths, None, Options(jobs=1)) == with_answers
    assert sum(used) == 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_schema_check_that_fails_while_reading_is_reported_by_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """An error inside the schema validation of an object other than a workload, met while
    a shard reads, does not stop the run: the check meets it again and reports it on that
    object (KV907), as for any failing check."""
    from kvlint.checks import schema

    _many_vms(tmp_path)
    (tmp_path / "apps" / "pvc.yaml").write_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: apps}\n"
        "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n"
    )
    real = schema._schema_errors_now

    def failing(obj: object, release: object) -> object:
        if getattr(obj, "kind", "") == "PersistentVolumeClaim":
            raise ValueError("a validator that fails")
        return real(obj, release)  # type: ignore[arg-type]

    monkeypatch.setattr(schema, "_schema_errors_now", failing)
    res = lint_paths([str(tmp_path)], Config(), options=Options(jobs=jobs))
    internal = [f for f in res.findings if f.rule == "KV907"]
    assert [f.location.file.rsplit("/", 1)[-1] for f in internal] == ["pvc.yaml"], internal
    assert "a validator that fails" in internal[0].message


def test_a_parent_that_stops_early_lets_its_workers_end_on_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When this process stops while a worker is still sending what it read (an internal
    error here), the worker meets the closed pipe and ends; it is not left writing until it
    is killed (a forked worker once kept its own copy of the parent's end open)."""
    import multiprocessing.process

    from kvlint import pipeline
    from kvlint.checks import schema

    _many_vms(tmp_path)
    # A file that sorts first, in this process's share, and fails there.
    (tmp_path / "apps" / "a-first.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")

    def failing(self: object, doc: object) -> None:
        if getattr(doc, "path", "").endswith("a-first.yaml"):
            raise RuntimeError("an internal error in this process")

    monkeypatch.setattr(schema.Precheck, "__call__", failing)
    monkeypatch.setattr(pipeline, "JOIN_TIMEOUT", 2.0)
    killed: list[object] = []
    real_kill = multiprocessing.process.BaseProcess.kill

    def kill(proc: multiprocessing.process.BaseProcess) -> None:
        killed.append(proc)
        real_kill(proc)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "kill", kill)
    with pytest.raises(RuntimeError, match="internal error in this process"):
        lint_paths([str(tmp_path)], Config(), options=Options(jobs=2))
    assert killed == []
