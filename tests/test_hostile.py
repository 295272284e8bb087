"""Hostile and malformed input: every class of bad file is reported by name (and line where
there is one), never crashes or hangs kvlint, and never stops the rest of the run.

Each test lints the hostile file together with ``good.yaml``, a VMI with a host device
(KV301 at line 7), and checks that this finding is still reported. Errors make the exit
code 2; a few tests run the installed console script to check that end to end (with a
timeout, and no "Traceback" anywhere in its output).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from kvlint import parse, report, source
from kvlint.config import Config
from kvlint.engine import Result, fails
from kvlint.runner import Options, lint_paths, lint_text
from tests.helpers import git

T = TypeVar("T")
#: Most function calls a bounded hostile input may cost (they take 0.002 to 2 million
#: today; an expansion that escaped its bound costs hundreds of millions).
WORK_LIMIT = 10_000_000

EXE = shutil.which("kvlint", path=os.path.dirname(sys.executable)) or shutil.which("kvlint")

GOOD = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: gpu, namespace: apps}
spec:
  domain:
    devices:
      hostDevices: [{name: acc, deviceName: example.com/ACC}]
      interfaces: [{name: default, masquerade: {}}]
  networks: [{name: default, pod: {}}]
"""
GOOD_LINE = 7

#: Rules for problems with the input itself (KV908, unused suppressions, is not one).
INPUT_ERRORS = frozenset(f"KV90{i}" for i in range(1, 8))

LOADERS = [
    pytest.param(getattr(yaml, "CSafeLoader", None), id="libyaml"),
    pytest.param(yaml.SafeLoader, id="pure-python"),
]


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder, the current directory (short display names), with good.yaml."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    return tmp_path


def lint(*paths: str, max_size: int = source.DEFAULT_MAX_FILE_SIZE, jobs: int = 1) -> Result:
    return lint_paths(list(paths), Config(), options=Options(max_size=max_size, jobs=jobs, cache=False))


def exit_code(result: Result) -> int:
    """What ``kvlint lint`` exits with for this result (cli.lint)."""
    if result.input_errors:
        return 2
    return 1 if fails(result.findings, Config().fail_on) else 0


def calls_made(fn: Callable[[], T]) -> tuple[T, int]:
    """``fn()`` and the number of function calls (Python and C) it made: a bound on work that
    does not depend on the machine or its load (a timing belongs in the benchmark)."""
    n = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal n
        if event == "call" or event == "c_call":
            n += 1

    sys.setprofile(count)
    try:
        out = fn()
    finally:
        sys.setprofile(None)
    return out, n


def of(result: Result, file: str, rule: str | None = None) -> list[Any]:
    return [f for f in result.findings if f.location.file == file and (rule is None or f.rule == rule)]


def assert_sane(result: Result) -> None:
    """No internal error, and the report formats render."""
    internal = [f"{f.location.file}:{f.location.line} {f.message}" for f in result.findings if f.rule == "KV907"]
    assert not internal, internal
    doc = json.loads(report.render("json", result))
    assert doc["version"] == 1
    json.loads(report.render("sarif", result))


def assert_rest_goes_on(result: Result, file: str = "good.yaml") -> None:
    hits = of(result, file, "KV301")
    assert [f.location.line for f in hits] == [GOOD_LINE], [
        (f.rule, f.location.file, f.location.line) for f in result.findings
    ]


def only(result: Result, file: str, rule: str) -> Any:
    """The one finding of ``file``, which must be ``rule``."""
    found = of(result, file)
    assert [f.rule for f in found] == [rule], [(f.rule, f.message) for f in found]
    return found[0]


def cli(cwd: Path, *args: str, timeout: float = 60, stdin: Any = subprocess.DEVNULL) -> tuple[int, dict[str, Any], str]:
    """Run the console script: (exit code, JSON report, stderr)."""
    if EXE is None:
        pytest.fail("the kvlint console script is not installed (pip install -e .)")
    p = subprocess.run(
        [EXE, "lint", "--no-config", "--no-context", "--no-cache", "-f", "json", *args],
        cwd=cwd,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    assert p.returncode in (0, 1, 2), (p.returncode, p.stderr)
    return p.returncode, json.loads(p.stdout), p.stderr


def cli_findings(doc: dict[str, Any], file: str, rule: str | None = None) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["file"] == file and (rule is None or f["rule"] == rule)]


def assert_cli_rest_goes_on(doc: dict[str, Any]) -> None:
    assert [f["line"] for f in cli_findings(doc, "good.yaml", "KV301")] == [GOOD_LINE]


# --------------------------------------------------------------------------- syntax


def test_invalid_yaml(work: Path) -> None:
    (work / "bad.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n labels: {}\n")
    res = lint(".")
    f = only(res, "bad.yaml", "KV901")
    assert f.location.line == 5 and f.severity == "error"
    assert_rest_goes_on(res)
    assert exit_code(res) == 2
    code, doc, _ = cli(work, ".")
    assert code == 2
    assert [(f["rule"], f["line"]) for f in cli_findings(doc, "bad.yaml")] == [("KV901", 5)]
    assert_cli_rest_goes_on(doc)


def test_unclosed_flow_collection_and_quote(work: Path) -> None:
    (work / "bracket.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: vm, labels: [a\n")
    (work / "quote.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: 'x\n")
    res = lint(".")
    assert only(res, "bracket.yaml", "KV901").location.line == 4
    assert only(res, "quote.yaml", "KV901").location.line >= 4
    assert_rest_goes_on(res)


def test_tab_indentation(work: Path) -> None:
    (work / "tabs.yaml").write_text("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n\tname: x\n")
    res = lint(".")
    f = only(res, "tabs.yaml", "KV901")
    assert (f.location.line, f.location.column) == (4, 1)
    assert_rest_goes_on(res)
    assert exit_code(res) == 2


def test_control_character_is_reported_at_its_line(work: Path) -> None:
    (work / "ctl.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \x07bell\n")
    res = lint(".")
    f = only(res, "ctl.yaml", "KV901")
    assert (f.location.line, f.location.column) == (4, 9)
    assert_rest_goes_on(res)


@pytest.mark.parametrize("loader", LOADERS)
def test_control_character_with_either_loader(loader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # PyYAML's pure-Python reader rejects it in the loader's constructor.
    if loader is None:
        pytest.skip("PyYAML without libyaml")
    monkeypatch.setattr(parse, "_Loader", loader)
    pf = parse.parse_text("f.yaml", "a: b\n" * 100 + "c: \x00\n")
    assert [(p.rule, p.line, p.column) for p in pf.problems] == [("KV901", 101, 4)]


def test_duplicate_keys(work: Path) -> None:
    (work / "dup.yaml").write_text(
        GOOD.replace("gpu", "dup").replace(
            "  networks:", "  evictionStrategy: None\n  evictionStrategy: LiveMigrate\n  networks:"
        )
    )
    res = lint(".")
    dup = of(res, "dup.yaml", "KV903")
    assert [(f.location.line, f.location.column) for f in dup] == [(10, 3)]
    assert "evictionStrategy" in dup[0].message
    # The object is still linted (the last value wins, as in most YAML readers).
    assert [f.location.line for f in of(res, "dup.yaml", "KV301")] == [GOOD_LINE]
    assert_rest_goes_on(res)
    assert exit_code(res) == 2


def test_duplicate_key_in_an_aliased_mapping_is_reported_once() -> None:
    pf = parse.parse_text("f.yaml", "a: &a {x: 1, x: 2}\nb: *a\nc: *a\n")
    assert [(p.rule, p.line, p.column) for p in pf.problems] == [("KV903", 1, 14)]


# --------------------------------------------------------------------------- bombs


def billion_laughs(levels: int = 9) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    names = "abcdefghijklmnop"
    for prev, name in zip(names[: levels - 1], names[1:levels], strict=True):
        text += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
    return text


def test_alias_bomb(work: Path) -> None:
    (work / "bomb.yaml").write_text(billion_laughs(9))
    res, calls = calls_made(lambda: lint("."))
    assert calls < WORK_LIMIT
    f = only(res, "bomb.yaml", "KV905")
    assert str(parse.MAX_ALIAS_NODES) in f.message
    assert_rest_goes_on(res)
    code, doc, _ = cli(work, ".", timeout=60)
    assert code == 2
    assert [f["rule"] for f in cli_findings(doc, "bomb.yaml")] == ["KV905"]
    assert_cli_rest_goes_on(doc)


@pytest.mark.parametrize(
    "text",
    [
        # 5,000 anchors, each a list holding the previous one: 5,000 levels deep.
        pytest.param(
            "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 5000)),
            id="list-chain",
        ),
        pytest.param(
            "a0: &a0 {k: v}\n" + "".join(f"a{i}: &a{i} {{k: *a{i - 1}}}\n" for i in range(1, 5000)),
            id="map-chain",
        ),
        # Each level doubles: 2**60 nodes if expanded.
        pytest.param(
            "a0: &a0 {k: v}\n" + "".join(f"a{i}: &a{i} {{x: *a{i - 1}, y: *a{i - 1}}}\n" for i in range(1, 60)),
            id="doubling-chain",
        ),
        # Merge keys chained 3,000 times (each map merges the previous one).
        pytest.param(
            "a0: &a0 {k0: 0}\n" + "".join(f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: {i}}}\n" for i in range(1, 3000)),
            id="merge-chain",
        ),
        pytest.param(
            "a0: &a0 {k0: 0}\n"
            + "".join(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], k{i}: {i}}}\n" for i in range(1, 3000)),
            id="merge-doubling-chain",
        ),
        # A mapping that contains itself.
        pytest.param("a: &a {b: *a}\n", id="self-reference"),
        pytest.param("a: &a [*a, *a, *a, *a, *a, *a, *a, *a]\n", id="self-reference-wide"),
    ],
)
def test_deep_alias_chains_are_bounded_and_fast(work: Path, text: str) -> None:
    (work / "chain.yaml").write_text(text)
    res, calls = calls_made(lambda: lint("."))
    assert calls < WORK_LIMIT
    f = only(res, "chain.yaml", "KV905")
    assert f.location.line >= 1
    assert_rest_goes_on(res)
    assert exit_code(res) == 2


def test_short_alias_chains_are_fine() -> None:
    text = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 100))
    pf = parse.parse_text("f.yaml", text)
    assert not pf.problems
    value = pf.documents[0].data["a99"]
    for _ in range(99):
        value = value[0]
    assert value == ["x"]


def _nested(style: str, depth: int) -> str:
    if style == "flow-sequence":
        return "a: " + "[" * depth + "]" * depth + "\n"
    if style == "flow-mapping":
        return "{a: " * depth + "x" + "}" * depth + "\n"
    if style == "block-mapping":
        return "".join(" " * i + "k:\n" for i in range(depth)) + " " * depth + "v\n"
    if style == "block-sequence":
        return "- " * depth + "x\n"
    if style == "block-sequence-indented":
        return "".join(" " * (2 * i) + "-\n" for i in range(depth)) + " " * (2 * depth) + "x\n"
    raise AssertionError(style)


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize(
    "style",
    ["flow-sequence", "flow-mapping", "block-mapping", "block-sequence", "block-sequence-indented"],
)
def test_documents_nested_5000_levels(work: Path, style: str, loader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if loader is None:
        pytest.skip("PyYAML without libyaml")
    monkeypatch.setattr(parse, "_Loader", loader)
    text = _nested(style, 5000)
    (work / "deep.yaml").write_text(text)
    res, calls = calls_made(lambda: lint(".", max_size=2 * len(text.encode())))  # the block styles are over 10 MiB
    assert calls < WORK_LIMIT
    f = only(res, "deep.yaml", "KV905")
    assert f.location.line >= 1
    assert_rest_goes_on(res)


def test_just_under_the_depth_limit_is_read(work: Path) -> None:
    (work / "deep.yaml").write_text(_nested("flow-sequence", parse.MAX_DEPTH - 2))
    res = lint(".")
    assert of(res, "deep.yaml") == []
    assert_rest_goes_on(res)


def test_deep_and_wide_document_is_bounded() -> None:
    # 250 levels holding 200,000 scalars: when positions were keyed by full paths, each key
    # was a 250-tuple (about 500 MB for this 400 kB file). Positions now live in the
    # containers, a fixed size per node, so it is read quickly and in little memory.
    import tracemalloc

    text = "[" * 250 + ",".join(["x"] * 200_000) + "]" * 250 + "\n"
    tracemalloc.start()
    try:
        pf, calls = calls_made(lambda: parse.parse_text("f.yaml", text))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert calls < WORK_LIMIT
    assert pf.problems == [] and len(pf.documents) == 1
    assert peak < 100 * 1024 * 1024


def test_nested_5000_deep_via_the_cli(work: Path) -> None:
    (work / "flow.yaml").write_text(_nested("flow-sequence", 5000))
    (work / "block.yaml").write_text(_nested("block-sequence", 5000))
    code, doc, _ = cli(work, ".", timeout=60)
    assert code == 2
    assert [f["rule"] for f in cli_findings(doc, "flow.yaml")] == ["KV905"]
    assert [f["rule"] for f in cli_findings(doc, "block.yaml")] == ["KV905"]
    assert_cli_rest_goes_on(doc)


# --------------------------------------------------------------------------- size


@pytest.mark.parametrize("quoted", [False, True])
def test_very_long_scalar_line_is_linted(work: Path, quoted: bool) -> None:
    value = "x" * 5_000_000
    value = f'"{value}"' if quoted else value
    text = GOOD.replace("gpu", "long").replace(
        "metadata: {name: long, namespace: apps}",
        f"metadata:\n  name: long\n  namespace: apps\n  annotations:\n    note: {value}",
    )
    (work / "long.yaml").write_text(text)
    res, calls = calls_made(lambda: lint(".", max_size=6_000_000))
    assert calls < WORK_LIMIT
    assert [f.rule for f in of(res, "long.yaml") if f.severity == "error"] == ["KV301"]
    assert_rest_goes_on(res)
    assert exit_code(res) == 1


def test_long_line_over_the_size_limit(work: Path) -> None:
    (work / "long.yaml").write_text("a: " + "x" * 5_000_000 + "\n")
    res = lint(".", max_size=4_000_000)
    f = only(res, "long.yaml", "KV906")
    assert "over the 4000000-byte limit" in f.message
    assert_rest_goes_on(res)


def test_file_over_the_size_limit(work: Path) -> None:
    (work / "big.yaml").write_text(GOOD.replace("gpu", "big") + "# " + "padding " * 300 + "\n")
    code, doc, _ = cli(work, "--max-file-size", "1000", ".")
    assert code == 2
    big = cli_findings(doc, "big.yaml")
    assert [f["rule"] for f in big] == ["KV906"]
    assert "over the 1000-byte limit" in big[0]["message"] and "--max-file-size" in big[0]["message"]
    assert_cli_rest_goes_on(doc)


# --------------------------------------------------------------------------- encodings


def test_binary_file(work: Path) -> None:
    (work / "image.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, doc, _ = cli(work, ".")
    assert code == 2
    found = cli_findings(doc, "image.yaml")
    assert [f["rule"] for f in found] == ["KV906"] and "binary" in found[0]["message"]
    assert_cli_rest_goes_on(doc)


def test_invalid_utf8(work: Path) -> None:
    (work / "latin1.yaml").write_bytes(b'apiVersion: v1\nkind: Namespace\nmetadata: {name: "caf\xe9"}\n')
    res = lint(".")
    f = only(res, "latin1.yaml", "KV906")
    assert "invalid UTF-8" in f.message and "(line 3)" in f.message
    assert_rest_goes_on(res)
    assert exit_code(res) == 2


@pytest.mark.parametrize(
    "codec, bom",
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
        ("utf-8", b"\xef\xbb\xbf"),
    ],
)
def test_unicode_with_byte_order_mark_lints_normally(work: Path, codec: str, bom: bytes) -> None:
    (work / "wide.yaml").write_bytes(bom + GOOD.replace("gpu", "wide").encode(codec))
    res = lint(".")
    assert [(f.rule, f.location.line) for f in of(res, "wide.yaml") if f.severity == "error"] == [("KV301", GOOD_LINE)]
    assert_rest_goes_on(res)
    assert exit_code(res) == 1


def test_utf16_via_the_cli(work: Path) -> None:
    (work / "le.yaml").write_bytes(b"\xff\xfe" + GOOD.replace("gpu", "le").encode("utf-16-le"))
    (work / "be.yaml").write_bytes(b"\xfe\xff" + GOOD.replace("gpu", "be").encode("utf-16-be"))
    code, doc, _ = cli(work, ".")
    assert code == 1
    for name in ("le.yaml", "be.yaml", "good.yaml"):
        assert [f["line"] for f in cli_findings(doc, name, "KV301")] == [GOOD_LINE]


@pytest.mark.parametrize(
    "data, codec",
    [
        (b"\xff\xfe" + "a: 1\nb: 2\n".encode("utf-16-le") + b"x", "UTF-16"),  # odd length
        (b"\xfe\xff" + "a: 1\n".encode("utf-16-be") + b"\xd8\x00\x00a", "UTF-16"),  # lone surrogate
        (b"\xff\xfe\x00\x00" + "a: 1\n".encode("utf-32-le") + b"\xff\xff\xff\xff", "UTF-32"),
        (b"\xef\xbb\xbfa: 1\nb: \xff\n", "UTF-8"),
    ],
    ids=["utf-16-odd-length", "utf-16-lone-surrogate", "utf-32-out-of-range", "utf-8-bom"],
)
def test_invalid_encoding_after_a_byte_order_mark(work: Path, data: bytes, codec: str) -> None:
    (work / "broken.yaml").write_bytes(data)
    res = lint(".")
    f = only(res, "broken.yaml", "KV906")
    assert f.message.startswith(f"invalid {codec} at byte "), f.message
    assert "(line 2)" in f.message or "(line 3)" in f.message
    assert_rest_goes_on(res)


# --------------------------------------------------------------------------- empty and odd files


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n   \n",
        "# only\n# comments\n",
        "---\n",
        "---\n...\n",
        "--- # c\n---\n---\n",
        "~\n",
        "null\n",
    ],
    ids=["empty", "blank", "comments", "dashes", "dashes-dots", "three-empty", "tilde", "null"],
)
def test_files_without_objects(work: Path, text: str) -> None:
    (work / "nothing.yaml").write_text(text)
    res = lint(".")
    assert of(res, "nothing.yaml") == []
    assert res.files == 2
    assert_rest_goes_on(res)
    assert exit_code(res) == 1
    res = lint("nothing.yaml")
    assert exit_code(res) == 0 and res.objects == 0


def test_empty_file_via_the_cli(work: Path) -> None:
    (work / "empty.yaml").write_text("")
    code, doc, _ = cli(work, "empty.yaml")
    assert code == 0 and doc["findings"] == []


@pytest.mark.parametrize(
    "text",
    [
        "just a string\n",
        "42\n",
        "- a\n- b\n",
        "--- 1\n--- [a]\n--- text\n",
        "!!binary aGVsbG8=\n",
    ],
    ids=["string", "int", "list", "mixed-documents", "binary-tag"],
)
def test_top_level_scalars_and_lists(work: Path, text: str) -> None:
    # Not manifests at all: there is nothing to lint in them. (A top-level list of objects,
    # or a scalar next to objects, is reported: see test_every_document_gets_an_answer.)
    (work / "odd.yaml").write_text(text)
    res = lint(".")
    assert_sane(res)
    assert of(res, "odd.yaml") == []
    assert res.objects == 1
    assert_rest_goes_on(res)


# --------------------------------------------------------------------------- keys and tags


def test_int_and_bool_keys_become_strings_like_kubectl() -> None:
    data = parse.parse_text("f.yaml", "1: a\ntrue: b\n0.5: c\n").documents[0].data
    assert data == {"1": "a", "true": "b", "0.5": "c"}


@pytest.mark.parametrize(
    "key, col, what",
    [
        ("~", 5, "null"),
        ("null", 5, "null"),
        ("!!null x", 5, "null"),
        ("{a: b}", 5, "collection"),
        ("[a, b]", 5, "collection"),
        ("? [c]\n    ", 7, "collection"),  # an explicit key: "? [c]" then ": x"
    ],
)
def test_null_and_complex_keys(work: Path, key: str, col: int, what: str) -> None:
    text = GOOD.replace("gpu", "keys").replace(
        "metadata: {name: keys, namespace: apps}",
        f"metadata:\n  name: keys\n  namespace: apps\n  labels:\n    {key}: x\n    app: keys",
    )
    (work / "keys.yaml").write_text(text)
    res = lint(".")
    assert_sane(res)
    bad = of(res, "keys.yaml", "KV904")
    assert [(f.location.line, f.location.column) for f in bad] == [(7, col)]
    assert what in bad[0].message
    host_line = text.splitlines().index("      hostDevices: [{name: acc, deviceName: example.com/ACC}]") + 1
    assert [f.location.line for f in of(res, "keys.yaml", "KV301")] == [host_line]
    assert_rest_goes_on(res)
    assert exit_code(res) == 2


def test_merge_keys(work: Path) -> None:
    # Anchors do not cross documents: a List holds both objects.
    (work / "merge.yaml").write_text(
        "apiVersion: v1\n"
        "kind: List\n"
        "items:\n"
        "- apiVersion: kubevirt.io/v1\n"
        "  kind: VirtualMachineInstance\n"
        "  metadata:\n"
        "    name: merged\n"
        "    namespace: apps\n"
        "    labels: &labels {app: merged}\n"
        "    annotations:\n"
        "      <<: [*labels, {team: db}]\n"
        "  spec:\n"
        "    domain:\n"
        "      devices: &devices\n"
        "        hostDevices: [{name: acc, deviceName: example.com/ACC}]\n"
        "        interfaces: [{name: default, masquerade: {}}]\n"
        "- apiVersion: kubevirt.io/v1\n"
        "  kind: VirtualMachineInstance\n"
        "  metadata: {name: merged-2, namespace: apps}\n"
        "  spec:\n"
        "    domain:\n"
        "      devices:\n"
        "        <<: *devices\n"
        "        autoattachGraphicsDevice: false\n"
    )
    res = lint(".")
    assert_sane(res)
    assert not [f for f in of(res, "merge.yaml") if f.rule in INPUT_ERRORS]
    hits = of(res, "merge.yaml", "KV301")
    assert {f.object.name for f in hits} == {"merged", "merged-2"}
    assert_rest_goes_on(res)


def test_merge_key_semantics() -> None:
    text = (
        "a: &a {x: 1, y: 1}\n"
        "b: &b {<<: *a, y: 2, z: 2}\n"
        "c: {<<: *b, z: 3}\n"  # a merge of a mapping that merges itself
        "d: {<<: [*a, {x: 9, w: 4}], v: 5}\n"  # earlier sources win
        "e: {<<: 1, k: v}\n"  # not a mapping: nothing merged
    )
    pf = parse.parse_text("f.yaml", text)
    assert not pf.problems
    data = pf.documents[0].data
    assert data["c"] == {"x": 1, "y": 2, "z": 3}
    assert data["d"] == {"x": 1, "y": 1, "w": 4, "v": 5}
    assert data["e"] == {"k": "v"}


TAGGED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: tags
  namespace: apps
  annotations:
    apply: !!python/object/apply:os.system ["touch PWNED"]
    name: !!python/name:os.system
    new: !!python/object/new:os.system ["touch PWNED2"]
    module: !!python/module:os
    custom: !custom {a: b}
    local: !local "x"
data:
  bin: !!binary aGVsbG8=
"""


def test_custom_tags_are_never_constructed(work: Path) -> None:
    (work / "tags.yaml").write_text(TAGGED)
    code, doc, _ = cli(work, ".")
    assert not (work / "PWNED").exists() and not (work / "PWNED2").exists()
    assert code == 1
    assert cli_findings(doc, "tags.yaml") == []
    assert_cli_rest_goes_on(doc)
    data = parse.parse_text("tags.yaml", TAGGED).documents[0].data
    ann = data["metadata"]["annotations"]
    assert ann["apply"] == ["touch PWNED"]
    assert ann["name"] == "" and ann["module"] == ""
    assert ann["custom"] == {"a": "b"} and ann["local"] == "x"
    assert data["data"]["bin"] == "aGVsbG8="
    assert not (work / "PWNED").exists() and not (work / "PWNED2").exists()


def test_custom_tags_on_kubevirt_fields(work: Path) -> None:
    (work / "tagged-vmi.yaml").write_text(
        GOOD.replace("gpu", "tagged")
        .replace("hostDevices: [", "hostDevices: !!python/object/apply:os.system [")
        .replace("interfaces: [", "interfaces: !custom [")
    )
    res = lint(".")
    assert_sane(res)
    assert not (work / "PWNED").exists()
    assert [f.location.line for f in of(res, "tagged-vmi.yaml", "KV301")] == [GOOD_LINE]
    assert_rest_goes_on(res)


# --------------------------------------------------------------------------- wrong types everywhere


#: Realistic manifests of every kind kvlint reads; they refer to each other (claims,
#: storage classes, networks, policy selectors, the migration's VMI).
MANIFESTS = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: db
  namespace: apps
  labels: {app: db, tier: data}
  annotations: {kvlint.io/ignore: KV311, kvlint.io/ignore-reason: test}
spec:
  runStrategy: Always
  instancetype: {name: u1.large, kind: VirtualMachineClusterInstancetype}
  preference: {name: rhel.9}
  dataVolumeTemplates:
  - metadata:
      name: db-root
      labels: {app: db}
    spec:
      storage:
        accessModes: [ReadWriteOnce]
        volumeMode: Block
        resources:
          requests: {storage: 30Gi}
        storageClassName: ceph-rbd
      sourceRef: {kind: DataSource, name: rhel9, namespace: os-images}
  - metadata: {name: db-scratch}
    spec:
      pvc:
        accessModes: [ReadWriteMany]
        resources:
          requests: {storage: 1Gi}
      source:
        blank: {}
      contentType: kubevirt
  template:
    metadata:
      labels: {app: db, kubevirt.io/domain: db}
      annotations: {a: b}
    spec:
      evictionStrategy: LiveMigrate
      nodeSelector: {kubernetes.io/hostname: node-1}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: kubernetes.io/hostname
                operator: In
                values: [node-1]
      domain:
        cpu: {model: host-passthrough, cores: 4, dedicatedCpuPlacement: true}
        memory:
          guest: 8Gi
          hugepages: {pageSize: 1Gi}
        resources:
          requests: {memory: 8Gi}
          limits: {cpu: '4'}
        features:
          hyperv:
            relaxed: {}
            vapic: {}
            reenlightenment: {}
            tlbflush: {}
          smm: {}
        clock:
          timer:
            hpet: {present: false}
        firmware:
          bootloader:
            efi: {secureBoot: true, persistent: true}
        launchSecurity:
          sev: {}
        devices:
          disks:
          - name: root
            disk: {bus: virtio}
          - name: scratch
            disk: {bus: virtio}
          - name: data
            disk: {bus: scsi}
            shareable: true
          - name: iso
            cdrom: {bus: sata, readonly: true}
          - name: ci
            disk: {bus: virtio}
          interfaces:
          - name: default
            bridge: {}
            ports:
            - {port: 80, protocol: TCP}
          - name: storage
            sriov: {}
          - name: l2
            binding: {name: l2bridge}
          hostDevices:
          - {name: acc, deviceName: example.com/ACC}
          gpus:
          - name: gpu
            deviceName: nvidia.com/GRID_T4-1Q
            virtualGPUOptions:
              display: {enabled: false}
          filesystems:
          - name: shared
            virtiofs: {}
          tpm: {persistent: true}
      networks:
      - name: default
        pod: {}
      - name: storage
        multus: {networkName: sriov-net}
      - name: l2
        multus: {networkName: apps/bridge-net}
      volumes:
      - name: root
        dataVolume: {name: db-root}
      - name: scratch
        dataVolume: {name: db-scratch}
      - name: data
        persistentVolumeClaim: {claimName: db-data}
      - name: iso
        dataVolume: {name: installer}
      - name: shared
        persistentVolumeClaim: {claimName: shared-fs}
      - name: ci
        cloudInitNoCloud: {userData: '#cloud-config

            password: x

            '}
      - name: cd
        containerDisk: {image: 'quay.io/x/y:latest'}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: web
  namespace: apps
  labels: {app: web}
spec:
  evictionStrategy: LiveMigrateIfPossible
  domain:
    cpu: {model: Haswell-noTSX}
    devices:
      disks:
      - name: root
        disk: {}
      interfaces:
      - name: default
        masquerade: {}
        ports:
        - {name: http, port: 8080}
      hostDevices:
      - {name: acc, deviceName: example.com/ACC}
    features:
      hyperv:
        passthrough: {}
  networks:
  - name: default
    pod: {}
  volumes:
  - name: root
    persistentVolumeClaim: {claimName: db-data}
  tolerations:
  - {key: k, operator: Exists}
---
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata:
  name: installer
  namespace: apps
  annotations: {cdi.kubevirt.io/storage.bind.immediateRequested: 'true'}
spec:
  source:
    http: {url: 'https://example.com/x.iso', certConfigMap: ca}
  storage:
    accessModes: [ReadWriteOnce]
    resources:
      requests: {storage: 5Gi}
    storageClassName: local-nvme
  contentType: archive
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: db-data
  namespace: apps
  labels: {cdi.kubevirt.io/applyStorageProfile: 'true'}
spec:
  accessModes: [ReadWriteOnce, ReadWriteMany]
  volumeMode: Filesystem
  resources:
    requests: {storage: 100Gi}
    limits: {storage: 200Gi}
  storageClassName: ceph-rbd
  dataSource: {kind: PersistentVolumeClaim, name: seed}
---
apiVersion: cdi.kubevirt.io/v1beta1
kind: StorageProfile
metadata: {name: ceph-rbd}
spec:
  claimPropertySets:
  - accessModes: [ReadWriteMany]
    volumeMode: Block
  cloneStrategy: csi-clone
status:
  provisioner: openshift-storage.rbd.csi.ceph.com
  storageClass: ceph-rbd
  claimPropertySets:
  - accessModes: [ReadWriteMany]
    volumeMode: Block
  - accessModes: [ReadWriteOnce]
    volumeMode: Filesystem
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ceph-rbd
  annotations: {storageclass.kubevirt.io/is-default-virt-class: 'true'}
provisioner: openshift-storage.rbd.csi.ceph.com
parameters: {clusterID: openshift-storage, pool: rbd, imageFeatures: layering}
reclaimPolicy: Delete
volumeBindingMode: Immediate
allowVolumeExpansion: true
mountOptions: [discard]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local-nvme}
provisioner: kubevirt.io.hostpath-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata:
  name: kubevirt-hyperconverged
  namespace: openshift-cnv
  annotations:
    kubevirt.kubevirt.io/jsonpatch: >-
      [{"op": "add", "path": "/spec/configuration/migrations/allowPostCopy", "value": false}]
spec:
  evictionStrategy: LiveMigrate
  liveMigrationConfig: {parallelMigrationsPerCluster: 5, parallelOutboundMigrationsPerNode: 2,
    completionTimeoutPerGiB: 150, progressTimeout: 150, bandwidthPerMigration: 512Mi,
    allowPostCopy: true, allowAutoConverge: false, network: migration-net}
  featureGates: {deployKubeSecondaryDNS: false, decentralizedLiveMigration: true}
  permittedHostDevices:
    pciHostDevices:
    - {pciDeviceSelector: '10DE:1EB8', resourceName: nvidia.com/TU104GL_Tesla_T4}
    mediatedDevices:
    - {mdevNameSelector: GRID T4-1Q, resourceName: nvidia.com/GRID_T4-1Q}
  workloadUpdateStrategy:
    workloadUpdateMethods: [LiveMigrate, Evict]
    batchEvictionSize: 10
  infra:
    nodePlacement:
      nodeSelector: {infra: 'true'}
---
apiVersion: hco.kubevirt.io/v1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec:
  virtualization:
    evictionStrategy: LiveMigrate
    liveMigrationConfig: {parallelMigrationsPerCluster: 5, parallelOutboundMigrationsPerNode: 2,
      completionTimeoutPerGiB: 150, progressTimeout: 150, bandwidthPerMigration: 512Mi,
      allowPostCopy: true, allowAutoConverge: false, network: migration-net}
    permittedHostDevices:
      mediatedDevices:
      - {mdevNameSelector: GRID T4-1Q, resourceName: nvidia.com/GRID_T4-1Q}
  liveMigrationConfig: {completionTimeoutPerGiB: 800}
  featureGates: {enableCommonBootImageImport: true}
---
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt, namespace: kubevirt}
spec:
  configuration:
    developerConfiguration:
      featureGates: [LiveMigration, HostDevices, GPU]
      useEmulation: false
    network:
      defaultNetworkInterface: bridge
      permitBridgeInterfaceOnPodNetwork: false
      binding:
        passt:
          sidecarImage: quay.io/x/passt
          migration: {method: link-refresh}
        l2bridge: {domainAttachmentType: managedTap}
    migrations: {bandwidthPerMigration: 64Mi, completionTimeoutPerGiB: 800,
      parallelMigrationsPerCluster: 5, allowPostCopy: false, network: migration-net}
    permittedHostDevices:
      pciHostDevices:
      - pciVendorSelector: '10DE:1EB8'
        resourceName: nvidia.com/T4
        externalResourceProvider: false
      mediatedDevices:
      - {mdevNameSelector: GRID T4-1Q, resourceName: nvidia.com/GRID_T4-1Q}
    cpuModel: Haswell
    architectureConfiguration:
      defaultArchitecture: amd64
      amd64: {machineType: q35}
    evictionStrategy: LiveMigrate
    vmRolloutStrategy: LiveUpdate
  workloadUpdateStrategy:
    workloadUpdateMethods: [LiveMigrate]
  infra: {replicas: 2}
---
apiVersion: migrations.kubevirt.io/v1alpha1
kind: MigrationPolicy
metadata: {name: db}
spec:
  selectors:
    namespaceSelector: {tier: data}
    virtualMachineInstanceSelector: {app: db}
  allowAutoConverge: true
  allowPostCopy: true
  allowWorkloadDisruption: false
  bandwidthPerMigration: 1Gi
  completionTimeoutPerGiB: 300
---
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstanceMigration
metadata:
  name: migrate-db
  namespace: apps
  labels: {a: b}
spec:
  vmiName: db
  addedNodeSelector: {zone: b}
  sendTo: {migrationID: m1, connectionURL: 'https://x'}
  receive: {migrationID: m2}
---
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: migration-net
  namespace: openshift-cnv
  annotations: {k8s.v1.cni.cncf.io/resourceName: bridge.network.kubevirt.io/br1}
spec: {config: '{"cniVersion": "0.3.1", "name": "migration-bridge", "plugins":
    [{"type": "macvlan", "master": "eth1", "mode": "bridge", "ipam": {"type":
    "whereabouts", "range": "10.200.5.0/24"}}]}'}
---
apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {tier: data}
"""
(
    VM,
    VMI,
    DATA_VOLUME,
    PVC,
    STORAGE_PROFILE,
    STORAGE_CLASS,
    LOCAL_CLASS,
    HCO_V1BETA1,
    HCO_V1,
    KUBEVIRT,
    MIGRATION_POLICY,
    VMIM,
    NAD,
    NAMESPACE,
) = (dict(d) for d in yaml.safe_load_all(MANIFESTS))

#: The kinds kvlint reads, each with a realistic manifest.
KINDS: dict[str, dict[str, Any]] = {
    "VirtualMachine": VM,
    "VirtualMachineInstance": VMI,
    "DataVolume": DATA_VOLUME,
    "PersistentVolumeClaim": PVC,
    "StorageProfile": STORAGE_PROFILE,
    "StorageClass": STORAGE_CLASS,
    "HyperConverged-v1beta1": HCO_V1BETA1,
    "HyperConverged-v1": HCO_V1,
    "KubeVirt": KUBEVIRT,
    "MigrationPolicy": MIGRATION_POLICY,
    "VirtualMachineInstanceMigration": VMIM,
    "NetworkAttachmentDefinition": NAD,
}
CONTEXT = [
    VM,
    VMI,
    DATA_VOLUME,
    PVC,
    STORAGE_PROFILE,
    STORAGE_CLASS,
    LOCAL_CLASS,
    HCO_V1BETA1,
    KUBEVIRT,
    MIGRATION_POLICY,
    VMIM,
    NAD,
    NAMESPACE,
]
REPLACEMENTS = (None, "a string", 7, [])


def container_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every mapping and list in ``node`` (the root included)."""
    if isinstance(node, dict):
        yield path
        for k, v in node.items():
            yield from container_paths(v, path + (k,))
    elif isinstance(node, list):
        yield path
        for i, v in enumerate(node):
            yield from container_paths(v, path + (i,))


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(doc)
    cur = out
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return out


def bundle(doc: Any, original: dict[str, Any]) -> str:
    """The mutated object with every other kind in view (references resolve through it);
    an HCO variant replaces the v1beta1 HCO so that it is the one the cluster facts use."""
    others = [
        d
        for d in CONTEXT
        if d is not original and not (original["kind"] == "HyperConverged" and d["kind"] == "HyperConverged")
    ]
    return yaml.safe_dump_all([doc, *others], sort_keys=False)


def test_every_kind_has_a_realistic_manifest() -> None:
    text = yaml.safe_dump_all(CONTEXT + [HCO_V1], sort_keys=False)
    res = lint_text(text)
    assert_sane(res)
    assert not res.input_errors
    assert res.objects == len(CONTEXT) + 1
    # The manifests are rich enough to make the checks work.
    rules = {f.rule for f in res.findings}
    assert {"KV101", "KV301"} <= rules, sorted(rules)


@pytest.mark.parametrize("kind", list(KINDS))
def test_wrong_types_at_every_level(kind: str) -> None:
    """null, a string, an int and an empty list in place of every mapping and list."""
    original = KINDS[kind]
    paths = list(container_paths(original))
    assert len(paths) >= 3
    failures = []
    for path in paths:
        for value in REPLACEMENTS:
            text = bundle(replaced(original, path, value), original)
            try:
                res = lint_text(text, path="bundle.yaml")
                internal = [f.message for f in res.findings if f.rule == "KV907"]
                report.render("json", res)
            except Exception as e:  # noqa: BLE001 - collected, reported below
                internal = [f"{type(e).__name__}: {e}"]
            if internal:
                failures.append((path, value, internal))
    assert not failures, "\n".join(f"{p} = {v!r}: {m}" for p, v, m in failures[:20])


def _swap(node: Any) -> Any:
    """Every list becomes a mapping and every mapping a list, recursively."""
    if isinstance(node, dict):
        return [{k: _swap(v)} for k, v in node.items()]
    if isinstance(node, list):
        return {f"item{i}": _swap(v) for i, v in enumerate(node)}
    return node


def _swapped(doc: dict[str, Any], path: tuple[Any, ...] = ("spec",)) -> dict[str, Any]:
    """``doc`` with the node at ``path`` and everything under it swapped."""
    return replaced(doc, path, _swap(_at(doc, path)))


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def test_lists_and_mappings_swapped(work: Path) -> None:
    docs = [_swapped(VM), _swapped(VMI)]
    # spec stays a mapping, everything below is swapped
    docs += [{**d, "spec": {k: _swap(v) for k, v in d["spec"].items()}} for d in (VM, VMI)]
    # one node at a time
    docs += [_swapped(VM, path) for path in container_paths(VM["spec"], ("spec",))]
    (work / "swapped.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    res = lint(".")
    assert_sane(res)
    assert not [f for f in of(res, "swapped.yaml") if f.rule in INPUT_ERRORS]
    assert res.objects == len(docs) + 1
    assert_rest_goes_on(res)


# --------------------------------------------------------------------------- file system


def bounded(code: str, timeout: float = 30) -> str:
    """Run Python code in a child process, so that a regression fails instead of hanging."""
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=os.getcwd(),
    )
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_symlink_loop_inside_the_scanned_folder(work: Path) -> None:
    d = work / "tree"
    (d / "sub").mkdir(parents=True)
    shutil.move(work / "good.yaml", d / "good.yaml")
    (d / "sub" / "other.yaml").write_text(GOOD.replace("gpu", "other"))
    os.symlink(".", d / "loop")
    os.symlink("..", d / "sub" / "up")
    os.symlink("loop", d / "loop2")
    expected = ["tree/good.yaml", "tree/sub/other.yaml"]
    for args in (["tree"], ["tree/**/*.yaml"], ["tree/*"], ["tree/**"]):
        # The console script first: with a timeout, a regression fails instead of hanging.
        code, doc, _ = cli(work, *args, timeout=60)
        assert code == 1, (args, doc["findings"])
        assert sorted(f["file"] for f in doc["findings"] if f["rule"] == "KV301") == expected, args
        res = lint(*args)
        assert_sane(res)
        assert not res.input_errors, [(f.rule, f.location.file, f.message) for f in res.findings]
        assert sorted(f.location.file for f in res.findings if f.rule == "KV301") == expected, args


def test_symlink_loops_with_follow_symlinks_terminate(work: Path) -> None:
    d = work / "tree"
    d.mkdir()
    shutil.move(work / "good.yaml", d / "good.yaml")
    os.symlink(".", d / "a")
    os.symlink(".", d / "b")
    os.symlink("..", d / "up")
    out = bounded(
        "import json, os\n"
        "from kvlint.source import discover\n"
        "for pattern in ('tree', 'tree/**/*.yaml', 'tree/**'):\n"
        "    files, errors = discover([pattern], follow_symlinks=True)\n"
        "    reals = sorted({os.path.realpath(f.real) for f in files})\n"
        "    print(json.dumps([pattern, reals, len(errors)]))\n"
    )
    good = os.path.realpath(d / "good.yaml")
    for line in out.splitlines():
        pattern, reals, errors = json.loads(line)
        assert good in reals and errors == 0, pattern


def _outside(work: Path) -> Path:
    root = work / "root"
    outside = work / "outside"
    root.mkdir()
    outside.mkdir()
    shutil.move(work / "good.yaml", root / "good.yaml")
    (outside / "secret.yaml").write_text(GOOD.replace("gpu", "secret"))
    os.symlink(outside / "secret.yaml", root / "linked.yaml")
    os.symlink(outside, root / "linked-dir")
    return root


def test_symlinks_leaving_the_scanned_root_are_not_followed(work: Path) -> None:
    _outside(work)
    for args in (["root"], ["root/**/*.yaml"], ["root/*"]):
        res = lint(*args)
        assert_sane(res)
        assert not res.input_errors, [(f.rule, f.location.file, f.message) for f in res.findings]
        assert sorted({f.location.file for f in res.findings}) == ["root/good.yaml"], args
    # A link named explicitly is read (the user asked for it).
    res = lint("root/linked.yaml")
    assert [f.object.name for f in res.findings if f.rule == "KV301"] == ["secret"]


def test_follow_symlinks_reads_what_links_point_to(work: Path) -> None:
    root = _outside(work)
    if EXE is not None:
        help_text = subprocess.run([EXE, "lint", "--help"], capture_output=True, text=True, timeout=60).stdout
    else:  # pragma: no cover
        help_text = ""
    if "--follow-symlinks" in help_text:
        code, doc, _ = cli(work, "--follow-symlinks", "root")
        names = {f["object"]["name"] for f in doc["findings"] if f["rule"] == "KV301"}
        assert names == {"gpu", "secret"}
    else:
        # No CLI option (yet): the library option.
        files, errors = source.discover([str(root)], follow_symlinks=True)
        assert not errors
        assert sorted(os.path.basename(f.display) for f in files) == [
            "good.yaml",
            "linked.yaml",
            "secret.yaml",
        ]


def _chmod_000(path: Path) -> None:
    path.chmod(0)
    if os.access(path, os.R_OK):
        path.chmod(0o755 if path.is_dir() else 0o644)
        pytest.skip("running as root (or with CAP_DAC_OVERRIDE): a mode-000 path is still readable")


def test_unreadable_file(work: Path) -> None:
    p = work / "secret.yaml"
    p.write_text(GOOD.replace("gpu", "secret"))
    _chmod_000(p)
    try:
        res = lint(".")
        f = only(res, "secret.yaml", "KV906")
        assert "Permission denied" in f.message
        assert_rest_goes_on(res)
        assert exit_code(res) == 2
    finally:
        p.chmod(0o644)


def test_unreadable_folder(work: Path) -> None:
    d = work / "locked"
    d.mkdir()
    (d / "x.yaml").write_text(GOOD)
    _chmod_000(d)
    try:
        res = lint(".")
        errors = [f for f in res.findings if f.rule == "KV906"]
        assert [f.location.file for f in errors] == ["locked"]
        assert "cannot read folder" in errors[0].message
        assert_rest_goes_on(res)
        assert exit_code(res) == 2
    finally:
        d.chmod(0o755)


def test_fifo_does_not_hang(work: Path) -> None:
    os.mkfifo(work / "pipe.yaml")
    for args in ([".", "--jobs", "1"], ["pipe.yaml", "good.yaml"], ["*.yaml"]):
        code, doc, _ = cli(work, *args, timeout=30)
        assert code == 2, args
        found = cli_findings(doc, "pipe.yaml")
        assert [f["rule"] for f in found] == ["KV906"]
        assert "not a regular file" in found[0]["message"]
        assert_cli_rest_goes_on(doc)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_devices_named_explicitly(work: Path) -> None:
    code, doc, _ = cli(work, "/dev/null", "/dev/zero", "good.yaml", timeout=30)
    assert code == 2
    for dev in ("/dev/null", "/dev/zero"):
        found = cli_findings(doc, dev)
        assert [f["rule"] for f in found] == ["KV906"] and "not a regular file" in found[0]["message"]
    assert_cli_rest_goes_on(doc)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_endless_stdin_is_cut_at_the_size_limit(work: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        code, doc, _ = cli(work, "--max-file-size", "100000", "-", "good.yaml", timeout=30, stdin=zero)
    assert code == 2
    found = cli_findings(doc, "<stdin>")
    assert [f["rule"] for f in found] == ["KV906"] and "over the 100000-byte limit" in found[0]["message"]
    assert_cli_rest_goes_on(doc)


def test_socket_in_the_tree(work: Path) -> None:
    import socket

    path = work / "s.yaml"
    if len(str(path)) > 100:
        pytest.skip("path too long for a Unix socket")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
        res = lint(".")
        f = only(res, "s.yaml", "KV906")
        assert "not a regular file" in f.message
        assert_rest_goes_on(res)
    finally:
        sock.close()


def test_missing_paths_and_empty_globs(work: Path) -> None:
    res = lint("nope.yaml", "nothing/**/*.yaml", "good.yaml")
    msgs = {(f.location.file, f.message) for f in res.findings if f.rule == "KV906"}
    assert msgs == {
        ("nope.yaml", "no such file or folder"),
        ("nothing/**/*.yaml", "no file matches this pattern"),
    }
    assert_rest_goes_on(res)
    assert exit_code(res) == 2


# --------------------------------------------------------------------------- parallel parsing


def test_hostile_files_in_worker_processes(work: Path) -> None:
    """Over runner.PARALLEL_MIN_FILES files: parsed in worker processes, same report."""
    from kvlint import runner

    hostile = {
        "bomb.yaml": billion_laughs(9).encode(),
        "deep.yaml": _nested("flow-sequence", 5000).encode(),
        "bad.yaml": b"kind: ConfigMap\na: [\n",
        "bin.yaml": b"\x00\x01\x02",
        "latin1.yaml": b"a: caf\xe9\n",
        "dup.yaml": b"kind: ConfigMap\na: 1\na: 2\n",
        "le.yaml": b"\xff\xfe" + GOOD.replace("gpu", "le").encode("utf-16-le"),
    }
    for name, data in hostile.items():
        (work / name).write_bytes(data)
    for i in range(runner.PARALLEL_MIN_FILES):
        (work / f"vm-{i:03}.yaml").write_text(GOOD.replace("gpu", f"vm-{i}"))
    serial = report.render("json", lint(".", jobs=1))
    parallel = report.render("json", lint(".", jobs=2))
    assert serial == parallel
    doc = json.loads(serial)
    rules = {f["file"]: f["rule"] for f in doc["findings"] if f["rule"].startswith("KV9")}
    assert rules == {
        "bomb.yaml": "KV905",
        "deep.yaml": "KV905",
        "bad.yaml": "KV901",
        "bin.yaml": "KV906",
        "latin1.yaml": "KV906",
        "dup.yaml": "KV903",
    }


# --------------------------------------------------------------------------- known check bugs

#: Hostile values that still break a check (reported to the owners of kvlint/effective.py and
#: kvlint/checks/cluster.py; not fixed here). Strict xfails: each turns into a failure
#: (XPASS) once its bug is fixed, and the marker can go.
_HCO_META = {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv"}
_DEEP_JSON = "[" * 100_000
HOSTILE_VALUES: dict[str, list[dict[str, Any]]] = {
    # effective._jsonpatch_ops: json.loads raises RecursionError, only ValueError is caught
    "hco-jsonpatch-annotation-nested-100000-deep": [
        {
            **HCO_V1BETA1,
            "metadata": {
                **_HCO_META,
                "annotations": {"kubevirt.kubevirt.io/jsonpatch": _DEEP_JSON},
            },
        },
        VMI,
    ],
    # checks/cluster._nad_config: json.loads raises RecursionError, only JSONDecodeError is caught
    "migration-network-config-nested-100000-deep": [
        HCO_V1BETA1,
        {**NAD, "spec": {"config": _DEEP_JSON}},
        VMI,
    ],
    # effective.parse_quantity: Fraction() of a number over 4,300 digits raises ValueError
    "bandwidth-with-5000-digits": [
        {**HCO_V1BETA1, "spec": {"liveMigrationConfig": {"bandwidthPerMigration": "1" * 5000}}},
        VMI,
    ],
    "guest-memory-with-5000-digits": [
        {
            **VMI,
            "spec": {
                **VMI["spec"],
                "domain": {**VMI["spec"]["domain"], "memory": {"guest": "1" * 5000 + "Gi"}},
            },
        },
    ],
}


@pytest.mark.parametrize("name", list(HOSTILE_VALUES))
def test_hostile_value_in_a_check(name: str) -> None:
    # Each of these once raised inside a check (KV907); now a plain finding or nothing.
    res = lint_text(yaml.safe_dump_all(HOSTILE_VALUES[name], sort_keys=False))
    assert_sane(res)


def test_quantity_with_a_huge_exponent_is_fast(work: Path) -> None:
    # 1e99999999 once took minutes (Fraction(10) ** exponent).
    hco = {**HCO_V1BETA1, "spec": {"liveMigrationConfig": {"bandwidthPerMigration": "1e99999999"}}}
    (work / "hco.yaml").write_text(yaml.safe_dump(hco))
    code, _, _ = cli(work, "hco.yaml", "good.yaml", timeout=30)
    assert code in (0, 1, 2)


# --------------------------------------------------------------------------- nothing read runs code
#
# Arguments, git, streams, shapes and paths: each case once let an input run a command,
# change a verdict, stop the run or go unanswered.

BAD_VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: bad, namespace: apps}
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices:
          disks: [{name: d, disk: {}}]
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
      volumes:
      - name: d
        persistentVolumeClaim: {claimName: data}
"""
RWO_PVC = (
    "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: apps}\n"
    "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n"
)
RWX_PVC = RWO_PVC.replace("ReadWriteOnce", "ReadWriteMany")


def raw_cli(cwd: Path, *args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    if EXE is None:
        pytest.fail("the kvlint console script is not installed (pip install -e .)")
    env = {**os.environ, "NO_COLOR": "1", **kw.pop("env", {})}
    p = subprocess.run([EXE, *args], cwd=cwd, capture_output=True, timeout=timeout, env=env, **kw)
    assert b"Traceback" not in p.stdout + p.stderr, p.stderr
    assert b"internal error" not in p.stderr, p.stderr
    return p


# -- arguments


@pytest.fixture(scope="module")
def precommit_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    """pre-commit, a home for its environments (shared by the tests) and this project's
    HEAD as the hook repository."""
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    root = Path(__file__).resolve().parent.parent
    rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    if rev.returncode != 0:
        pytest.skip("the project is not a git checkout with a commit")
    return pre_commit, tmp_path_factory.mktemp("pc-home"), rev.stdout.strip()


def test_precommit_lints_a_file_named_like_an_option(tmp_path: Path, precommit_home: tuple[str, Path, str]) -> None:
    # A committed '--exclude=*.yaml' once made the real pre-commit report "Passed" on a
    # repository with a VM that cannot migrate.
    pre_commit, home, rev = precommit_home
    root = Path(__file__).resolve().parent.parent
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "pvc.yaml").write_text(RWO_PVC)
    (repo / "vm.yaml").write_text(BAD_VM)
    (repo / "--exclude=*.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    (repo / ".pre-commit-config.yaml").write_text(f"repos:\n- repo: {root}\n  rev: {rev}\n  hooks:\n  - id: kvlint\n")
    git(repo, "add", "--", ".")
    p = subprocess.run(
        [pre_commit, "run", "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PRE_COMMIT_HOME": str(home), "KVLINT_CACHE_DIR": str(tmp_path / "cache")},
    )
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert "Failed" in out and "KV101" in out and "vm.yaml" in out, out


def test_paths_after_double_dash_are_never_options(work: Path) -> None:
    (work / "--exclude=*.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    (work / "-o").write_text(GOOD.replace("gpu", "dash"))
    before = (work / "good.yaml").read_bytes()
    p = raw_cli(
        work,
        "lint",
        "--no-config",
        "--no-context",
        "--no-cache",
        "-f",
        "json",
        "--",
        "--exclude=*.yaml",
        "-o",
        "good.yaml",
    )
    doc = json.loads(p.stdout)
    assert p.returncode == 1, p.stderr
    assert sorted({f["file"] for f in doc["findings"] if f["rule"] == "KV301"}) == ["-o", "good.yaml"]
    assert doc["summary"]["files"] == 3
    assert (work / "good.yaml").read_bytes() == before


@pytest.mark.parametrize(
    "option",
    [
        "--output=good.yaml",
        "-ogood.yaml",
        "--format=json:good.yaml",
        "--format=sarif:./good.yaml",
        "--write-baseline=good.yaml",
    ],
)
def test_a_report_never_overwrites_an_input(work: Path, option: str) -> None:
    before = (work / "good.yaml").read_bytes()
    (work / "sub").mkdir()
    p = raw_cli(work, "lint", "--no-config", "--no-context", "--no-cache", "good.yaml", option)
    assert p.returncode == 2
    assert p.stderr.decode().count("\n") == 1 and "refusing to write a report to" in p.stderr.decode()
    assert (work / "good.yaml").read_bytes() == before
    # Also when the input is found in a folder, or through another spelling of its path.
    p = raw_cli(
        work, "lint", "--no-config", "--no-context", "--no-cache", ".", option.replace("good.yaml", "sub/../good.yaml")
    )
    assert p.returncode == 2 and (work / "good.yaml").read_bytes() == before
    # A report next to the inputs is fine.
    p = raw_cli(
        work, "lint", "--no-config", "--no-context", "--no-cache", "good.yaml", option.replace("good.yaml", "out.txt")
    )
    assert p.returncode in (0, 1) and (work / "out.txt").exists()


# -- git


def _context_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "vms").mkdir(parents=True)
    (repo / "storage").mkdir()
    (repo / "vms" / "vm.yaml").write_text(BAD_VM)
    (repo / "storage" / "pvc.yaml").write_text(RWO_PVC)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    return repo


@pytest.mark.parametrize(
    "setting",
    [
        "core.fsmonitor",
        "core.hooksPath",  # (a folder of hooks: none runs for what kvlint asks git)
        "core.pager",
        "diff.external",
        "core.sshCommand",
        "credential.helper",
    ],
)
def test_git_runs_no_command_a_repository_configures(tmp_path: Path, setting: str) -> None:
    repo = _context_repo(tmp_path)
    marker = tmp_path / "PWNED"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    script.chmod(0o755)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("post-index-change", "fsmonitor-watchman", "reference-transaction", "post-checkout"):
        shutil.copy(script, hooks / name)
    value = str(hooks) if setting == "core.hooksPath" else str(script)
    git(repo, "config", setting, value)
    git(repo, "config", "core.untrackedCache", "true")
    p = raw_cli(
        repo, "lint", "--no-config", "-f", "json", "vms/vm.yaml", env={"KVLINT_CACHE_DIR": str(tmp_path / "cache")}
    )
    assert not marker.exists(), f"{setting} ran a command"
    # The context still came from git: the claim committed elsewhere decides the verdict.
    doc = json.loads(p.stdout)
    assert [f["rule"] for f in doc["findings"] if f["rule"].startswith("KV1")] == ["KV101"], doc


def test_a_work_tree_named_by_the_repository_is_not_context(tmp_path: Path) -> None:
    repo = _context_repo(tmp_path)
    (repo / "storage" / "pvc.yaml").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pvc.yaml").write_text(RWX_PVC)  # would make the VM pass
    git(repo, "config", "core.worktree", str(elsewhere))
    res = lint_paths([str(repo / "vms/vm.yaml")], Config(), options=Options(context=[], cache=False))
    from kvlint.runner import git_root

    assert git_root(str(repo / "vms")) is None
    assert "KV101" not in {f.rule for f in res.findings}


# -- links and paths


def test_context_never_follows_links_out_of_the_repository(tmp_path: Path) -> None:
    repo = _context_repo(tmp_path)
    (repo / "storage" / "pvc.yaml").unlink()
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "pvc.yaml").write_text(RWX_PVC)
    (outside / "dir" / "pvc.yaml").write_text(RWX_PVC)
    os.symlink(outside / "pvc.yaml", repo / "storage" / "linked.yaml")
    os.symlink(outside / "dir", repo / "linked-dir")
    os.symlink("../vms/vm.yaml", repo / "storage" / "inside.yaml")  # a link inside the repository is fine
    git(repo, "add", "-A")
    (repo / "later").mkdir()
    (repo / "later" / "pvc.yaml").write_text(RWX_PVC)
    git(repo, "add", "-A")
    shutil.rmtree(repo / "later")
    os.symlink(outside / "dir", repo / "later")  # the index names later/pvc.yaml; a link now
    for cache in (False, True):
        opts = Options(context=[str(repo)], cache=cache)
        res = lint_paths([str(repo / "vms/vm.yaml")], Config(), options=opts)
        claims = {f.rule for f in res.findings if f.rule.startswith("KV1")}
        assert claims == {"KV102"}, (cache, claims)  # the claim is not in view: not RWX from outside
        assert not [f for f in res.findings if "outside" in f.location.file]


def test_dot_dot_after_a_link_names_the_file_that_is_read(work: Path) -> None:
    (work / "real").mkdir()
    (work / "other" / "sub").mkdir(parents=True)
    os.symlink("../other/sub", work / "real" / "link")
    vm = yaml.safe_load(BAD_VM)
    vm["spec"]["template"]["spec"]["volumes"] = [{"name": "d", "containerDisk": {"image": "x"}}]
    vm["metadata"]["annotations"] = {"kubevirt.io/allow-pod-bridge-network-live-migration": ""}
    (work / "other" / "vm.yaml").write_text(yaml.safe_dump(vm, sort_keys=False))
    clean = GOOD.replace("gpu", "clean")
    (work / "real" / "vm.yaml").write_text(clean)
    res = lint("real/link/../vm.yaml")
    assert {f.location.file for f in res.findings} == {"other/vm.yaml"}
    assert "KV202" in {f.rule for f in res.findings}
    p = raw_cli(work, "fix", "--no-config", "--no-context", "--no-cache", "real/link/../vm.yaml")
    assert p.returncode in (0, 1), p.stderr
    assert (work / "real" / "vm.yaml").read_text() == clean
    fixed = yaml.safe_load((work / "other" / "vm.yaml").read_text())
    assert "annotations" not in fixed["metadata"]


# -- crashes that stopped the run


def test_kind_that_is_a_list_does_not_stop_the_run(work: Path) -> None:
    (work / "k.yaml").write_text("apiVersion: kubevirt.io/v1\nkind: [VirtualMachine]\nmetadata: {name: a}\n")
    (work / "items.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: [x]}\n- {apiVersion: {a: b}, kind: Namespace}\n"
    )
    for jobs in ("1", "2"):
        code, doc, _ = cli(work, "--jobs", jobs, ".")
        assert code == 2
        assert [(f["rule"], f["line"]) for f in cli_findings(doc, "k.yaml")] == [("KV909", 2)]
        assert [(f["rule"], f["line"]) for f in cli_findings(doc, "items.yaml")] == [("KV909", 4), ("KV909", 5)]
        assert_cli_rest_goes_on(doc)


@pytest.mark.parametrize(
    "literal",
    ["0x" + "f" * 3600, "0o" + "7" * 5000, "0b" + "1" * 14000, "9" * 3600, "1" + ":59" * 2600, "-0x" + "F" * 3590],
    ids=["hex-3600", "octal-5000", "binary-14000", "decimal-3600", "sexagesimal", "negative-hex"],
)
def test_huge_integers_are_read_safely(work: Path, literal: str) -> None:
    for doc in (VMI, HCO_V1BETA1, MIGRATION_POLICY, VMIM, PVC):
        for field in _int_fields(doc):
            text = yaml.safe_dump(replaced(doc, field, "@@"), sort_keys=False).replace("'@@'", literal)
            res = lint_text(text)
            assert_sane(res)
            for fmt in ("text", "github", "junit"):
                report.render(fmt, res)


def _int_fields(doc: Any) -> list[tuple[Any, ...]]:
    out = []
    for path in _leaf_paths(doc):
        if path and path[-1] in (
            "name",
            "port",
            "completionTimeoutPerGiB",
            "bandwidthPerMigration",
            "storage",
            "vmiName",
        ):
            out.append(path)
    return out[:6]


def _leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaf_paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaf_paths(v, path + (i,))
    else:
        yield path


def test_huge_integer_stays_text() -> None:
    pf = parse.parse_text("f.yaml", "a: 0x" + "f" * 3600 + "\nb: 0x" + "f" * 100 + "\n")
    data = pf.documents[0].data
    assert data["a"] == "0x" + "f" * 3600 and data["b"] == int("f" * 100, 16)


NON_UTF8 = b"caf\xe9-\xff.yaml"


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_non_utf8_file_names_are_escaped_in_every_format(work: Path) -> None:
    try:
        with open(os.path.join(os.fsencode(work), NON_UTF8), "wb") as fh:
            fh.write(GOOD.replace("gpu", "latin").encode())
    except OSError:
        pytest.skip("this file system needs UTF-8 names")
    shown = "caf\\xe9-\\xff.yaml"
    for fmt in ("text", "json", "sarif", "junit", "github"):
        p = raw_cli(work, "lint", "--no-config", "--no-context", "--no-cache", "-f", fmt, ".")
        assert p.returncode == 1, (fmt, p.stderr)
        out = p.stdout.decode("utf-8")  # strict: valid UTF-8
        from urllib.parse import quote

        # (SARIF names it by a URI: percent-encoded)
        assert shown in out or json.dumps(shown)[1:-1] in out or quote(shown) in out, (fmt, out[:500])
        if fmt in ("json", "sarif"):
            json.loads(out)
            assert "\\udc" not in out  # no lone surrogate escapes (invalid Unicode)
        if fmt == "junit":
            import xml.etree.ElementTree as ET

            ET.fromstring(p.stdout)
    files = {
        f["file"]
        for f in json.loads(raw_cli(work, "lint", "--no-cache", "--no-context", "-f", "json", ".").stdout)["findings"]
    }
    assert files == {"good.yaml", shown}
    # ... also as an explicit argument, and in SARIF written to a file.
    p = raw_cli(work, "lint", "--no-cache", "--no-context", "-f", "sarif:out.sarif", os.fsdecode(NON_UTF8))
    assert p.returncode == 1
    json.loads((work / "out.sarif").read_text(encoding="utf-8"))


def test_closed_or_full_standard_streams(work: Path) -> None:
    args = [EXE or "kvlint", "lint", "--no-config", "--no-context", "--no-cache", "good.yaml"]
    # closed stdout
    p = subprocess.run(
        args, cwd=work, stdout=None, stderr=subprocess.PIPE, timeout=60, close_fds=True, preexec_fn=lambda: os.close(1)
    )
    err = p.stderr.decode()
    assert p.returncode == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and "cannot write the output" in err, err
    if os.path.exists("/dev/full"):
        with open("/dev/full", "wb") as full:
            p = subprocess.run(args, cwd=work, stdout=full, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        assert p.returncode == 2 and err.count("\n") == 1 and "No space left" in err, err
        with open("/dev/full", "wb") as full:
            p = subprocess.run(
                [*args[:-1], "-f", "json", "good.yaml"], cwd=work, stdout=full, stderr=subprocess.PIPE, timeout=60
            )
        assert p.returncode == 2 and p.stderr.decode().count("\n") == 1
    # closed stdin
    p = subprocess.run(
        [*args[:-1], "-f", "json", "-", "good.yaml"],
        cwd=work,
        capture_output=True,
        timeout=60,
        preexec_fn=lambda: os.close(0),
    )
    assert p.returncode == 2 and b"Traceback" not in p.stderr, p.stderr
    doc = json.loads(p.stdout)
    assert [(f["rule"], f["message"]) for f in cli_findings(doc, "<stdin>")] == [
        ("KV906", "cannot read standard input: it is closed")
    ]
    assert_cli_rest_goes_on(doc)


# -- every input gets an answer


@pytest.mark.parametrize(
    "name, text, found",
    [
        ("quiet-toplist.yaml", BAD_VM.replace("\n", "\n  ").replace("apiVersion", "- apiVersion", 1), [1]),
        ("scalar.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\njust text\n", [5]),
        ("list-doc.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n- a\n- b\n", [5]),
        ("no-kind.yaml", "apiVersion: v1\nmetadata: {name: a}\n", [1]),
        ("kind-number.yaml", "apiVersion: v1\nkind: 2\nmetadata: {name: a}\n", [2]),
        ("kind-null.yaml", "apiVersion: v1\nkind:\nmetadata: {name: a}\n", [2]),
        ("api-list.yaml", "apiVersion: [v1]\nkind: Namespace\nmetadata: {name: a}\n", [1]),
        ("items-scalar.yaml", "apiVersion: v1\nkind: List\nitems: 3\n", [3]),
        ("items-mapping.yaml", "apiVersion: v1\nkind: List\nitems: {a: b}\n", [3]),
        (
            "items-bad.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- 1\n- null\n- {kind: 2}\n- {metadata: {}}\n",
            [4, 5, 6, 7],
        ),
    ],
)
def test_every_document_gets_an_answer(work: Path, name: str, text: str, found: list[int]) -> None:
    (work / name).write_text(text)
    code, doc, _ = cli(work, ".")
    assert code == 2
    hits = cli_findings(doc, name, "KV909")
    assert [f["line"] for f in hits] == found, [(f["rule"], f["line"], f["message"]) for f in cli_findings(doc, name)]
    assert_cli_rest_goes_on(doc)


@pytest.mark.parametrize(
    "text",
    ["---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n", "- name: task\n  run: make\n", "a: 1\n"],
    ids=["empty-documents", "not-a-manifest-list", "not-a-manifest-mapping"],
)
def test_what_is_not_a_manifest_is_not_reported(work: Path, text: str) -> None:
    (work / "x.yaml").write_text(text)
    res = lint(".")
    assert of(res, "x.yaml", "KV909") == []


def test_a_failing_check_reports_kv907_for_that_object_only(work: Path) -> None:
    import dataclasses

    from kvlint import checks

    registry = checks.load_all()
    index, target = next((i, c) for i, c in enumerate(registry) if c.scope == "workload" and "KV301" not in c.rules)
    original = target.fn

    def flaky(ctx: Any, w: Any, *rest: Any) -> Any:
        if w.obj.name == "boom":
            raise TypeError("unexpected shape")
        return original(ctx, w, *rest)

    registry[index] = dataclasses.replace(target, fn=flaky)
    try:
        (work / "boom.yaml").write_text(GOOD.replace("gpu", "boom"))
        for keep in (True, False):  # workloads kept in full, or only their summaries
            res = lint_paths(["."], Config(), options=Options(cache=False, keep=keep))
            internal = [f for f in res.findings if f.rule == "KV907"]
            assert [(f.location.file, f.object.name if f.object else None) for f in internal] == [("boom.yaml", "boom")]
            assert_rest_goes_on(res)
            assert [f.location.line for f in of(res, "boom.yaml", "KV301")] == [GOOD_LINE]
    finally:
        registry[index] = target


def test_a_report_in_a_linted_folder_needs_exclude(work: Path) -> None:
    # A report that already exists in a linted folder is an input: it is written only when
    # excluded (then it is not read either).
    (work / "report.json").write_text("{}\n")
    p = raw_cli(work, "lint", "--no-config", "--no-context", "--no-cache", "-f", "json", "-o", "report.json", ".")
    assert p.returncode == 2 and "--exclude it" in p.stderr.decode()
    p = raw_cli(
        work,
        "lint",
        "--no-config",
        "--no-context",
        "--no-cache",
        "-f",
        "json",
        "-o",
        "report.json",
        "--exclude",
        "report.json",
        ".",
    )
    assert p.returncode == 1
    assert json.loads((work / "report.json").read_text())["summary"]["files"] == 1


def _walk_by_os(root: str, follow: bool) -> list[tuple[str, str]]:
    """The files the folder walk should find, listed the plain way: ``os.walk``, one
    ``lstat`` and one ``display_path`` per file."""
    found: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow):
        if follow:
            st = os.stat(dirpath)
            if (st.st_dev, st.st_ino) in seen:
                dirnames[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if d not in source.SKIP_DIRS and not d.startswith("."))
        for name in filenames:
            full = os.path.join(dirpath, name)
            if name.endswith(source.EXTENSIONS) and (follow or not os.path.islink(full)):
                found.append((source.display_path(full), full))
    return sorted(found)


@pytest.mark.parametrize("root", ["tree", "./tree/", "tree/../tree", "ABS"])
@pytest.mark.parametrize("follow", [False, True])
def test_the_folder_walk_and_real_paths_agree_with_the_plain_way(
    work: Path, monkeypatch: pytest.MonkeyPatch, root: str, follow: bool
) -> None:
    monkeypatch.chdir(work)
    d = work / "tree"
    for sub in ("a/b", "a/.hidden", "node_modules/x", "c"):
        (d / sub).mkdir(parents=True)
    for f in ("one.yaml", "a/two.yml", "a/b/three.json", "a/.hidden/no.yaml", "node_modules/x/no.yaml", "c/n.txt"):
        (d / f).write_text(GOOD)
    (work / "outside").mkdir()
    (work / "outside" / "far.yaml").write_text(GOOD)
    os.symlink("../outside", d / "c" / "linked-dir")
    os.symlink("../one.yaml", d / "a" / "linked.yaml")
    os.symlink("missing.yaml", d / "c" / "dangling.yaml")
    os.symlink("..", d / "a" / "b" / "up")
    top = str(d) if root == "ABS" else root
    files, errors = source.discover([top], follow_symlinks=follow)
    assert not errors
    assert sorted((f.display, f.real) for f in files) == _walk_by_os(top, follow)
    assert source.real_paths(files) == [os.path.realpath(f.real) for f in files]
    named = [source.SourceFile("x", str(d / "a" / "linked.yaml")), source.SourceFile("-", source.STDIN)]
    assert source.real_paths(named) == [os.path.realpath(d / "one.yaml"), ""]


def test_contained_agrees_with_resolving_every_path(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The names kept by ``source.contained`` (one look per folder, parents resolved once)
    are those whose every link stays inside the top folder, resolved path by path."""
    monkeypatch.chdir(work)
    top = work / "repo"
    for sub in ("a/b", "c", "inner"):
        (top / sub).mkdir(parents=True)
    (work / "outside").mkdir()
    for f in ("a/x.yaml", "a/b/y.yaml", "c/z.yaml", "inner/w.yaml", "../outside/o.yaml"):
        (top / f).write_text("kind: x\n")
    os.symlink("../outside", top / "out")  # a folder link leaving the repository
    os.symlink("../inner", top / "a" / "in")  # a folder link staying inside
    os.symlink("../../outside/o.yaml", top / "c" / "far.yaml")  # a file link leaving
    os.symlink("../a/x.yaml", top / "c" / "near.yaml")  # a file link staying inside
    names = [
        "a/x.yaml",
        "a/b/y.yaml",
        "c/z.yaml",
        "out/o.yaml",
        "a/in/w.yaml",
        "c/far.yaml",
        "c/near.yaml",
        "missing/m.yaml",
        "top.yaml",
    ]
    real_top = os.path.realpath(top)
    for base in ("repo", str(top), "repo/../repo"):
        expected = [
            n
            for n in names
            if os.path.isdir(os.path.join(base, os.path.dirname(n)))  # (a folder it cannot list: left out)
            and source.inside(os.path.realpath(os.path.join(base, os.path.dirname(n))), real_top)
            and source.inside(os.path.realpath(os.path.join(base, n)), real_top)
        ]
        assert source.contained(base, names, real_top) == expected, base
    assert "out/o.yaml" not in expected and "c/far.yaml" not in expected and "a/in/w.yaml" in expected
