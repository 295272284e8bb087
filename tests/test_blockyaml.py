"""The line-based block reader agrees with libyaml wherever it reads a text itself.

Every test compares :func:`kvlint.blockyaml.read` with the libyaml event reader on the
same text: values and their types, every packed position, document lines, Helm origins and
duplicate-key problems. ``read`` may decline a text (return None); it may never read one
differently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvlint import blockyaml
from kvlint.parse import MAX_DEPTH, ParsedFile, _fast_documents, looks_templated, parse_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def _types(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _types(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_types(v) for v in x]
    return type(x).__name__


def _canon(docs: list[Any], lines: list[int], problems: list[Any]) -> Any:
    return (
        [
            (repr(d.data), _types(d.data), list(d.data), sorted(d.positions(), key=repr), d.index, d.origin, d.root)
            for d in docs
        ],
        lines,
        [(p.rule, p.message, p.line, p.column) for p in problems],
    )


def reference(path: str, text: str) -> Any:
    """What libyaml reads (the event reader, or the node-graph converter for what that
    hands on: aliases, errors)."""
    if looks_templated(text) is None:
        r = parse_text(path, text, block=False)
    else:
        # parse_text stops at a template marker (parse_text reads no such file at all).
        r = ParsedFile(path)
        _fast_documents(text, r)
    return _canon(r.documents, r.doc_lines, r.problems)


def agrees(text: str, path: str = "t.yaml") -> bool:
    """True when read() reads ``text`` the way libyaml does, False when it declines it."""
    got = blockyaml.read(text, path)
    if got is None:
        return False
    assert _canon(*got) == reference(path, text), text
    return True


# -- hand-written cases ----------------------------------------------------------------

READ = {
    "plain": "a: 1\nb: yes\nc: ~\nd: 010\ne: 0x1F\nf: 1_000\ng: 1e3\nh: .inf\ni: -.inf\nj: 2001-12-14\nk: 1:30\n",
    "strings": "a: 'it''s'\nb: \"x: y # z\"\nc: http://h:80/p?q=1#f\nd: a#b\ne: -x\nf: é ü\ng: ''\n",
    "comments": "# top\na: 1 # c\n  # deeper comment\nb:   # empty\n\n   \nc: x\n",
    "nested": "a:\n  b:\n    c: 1\n  d:\n  - 1\n  - x: 2\n    y: 3\n  -   z: 4\ne:\n- p\n- {}\n- []\nf: {}\ng: []  # c\n",
    "indentless": "spec:\n  disks:\n  - name: a\n    disk:\n      bus: virtio\n  - name: b\n  other: 1\n",
    "root list": "- a\n- b: 1\n  c: 2\n-   d\n",
    "literal": "a: |\n  line 1\n\n    indented\n  line 3\n\n\nb: |-\n  x\nc: |+\n  y\n\nd: 1\n",
    "literal at end": "a:\n  s: |\n    #cloud-config\n    x: 1\n",
    "literal keep at end": "a: |+\n  x\n\n\n",
    "docs": "---\na: 1\n---\n# only a comment, then b\nb: 2\n--- # c\n- 1\n",
    "no final newline": "a: 1\nb:\n  c: x",
    "null at end": "a:\n",
    "no-break space": "a: \xa0x\xa0\n",
    "astral characters": '😀: a\nb: 😀x\nc:\n- 😀\n- k😀: v\n  z: 1\nd: "😀 q"\ne: |\n  😀 line\n',
    "dup": "a: 1\nb: 2\na: 3\nc:\n  a: 1\n  a:\n  - 1\n",
    "quoted keys": "'a b': 1\n\"c\": 2\n'': 3\n\"null\": 4\n",
    "deep": "".join(" " * i + f"k{i}:\n" for i in range(60)) + " " * 60 + "v: 1\n",
    "indent 0 root after comment": "#!\n\n  a: 1\n  b: 2\n",
    "flow": "a: [1, 2]\n",
    "flow map": "a: {b: 1}\n",
    "flow manifest": (
        "spec:\n  accessModes: [ReadWriteMany]\n  disks:\n  - {name: root, disk: {bus: virtio}}\n"
        "  - name: b\n    disk: {bus: sata, readonly: true}\n  ports: [{name: http, port: 8080}, {name: x}]\n"
        '  resources: {requests: {memory: 4Gi, cpu: "1"}}  # c\n  empty: { }\n  e2: [ ]\n'
    ),
    "flow spacing and quotes": "a: {  b :  'it''s' ,c: \"d e\",  'f': [ x y , 1.5 ,~, yes] }\nb: [[1, [2]], {}]\n",
    "flow items": "- [a, b]\n- {k: v}\n- {}\n",
    "document end": "a: 1\n...\n",
    "document ends": "a:\n  b: 1\n... # c\n\n...\n---\n- x\n...",
    "document end without a final newline": "a: [1]\n...",
}

DECLINED = {
    "tab": "a:\t1\n",
    "nested item": "- - a\n",
    "cr": "a: 1\r\nb: 2\r\n",
    "anchor": "a: &x 1\nb: *x\n",
    "merge": "a: &x {p: 1}\nb:\n  <<: *x\n",
    "flow over lines": "a: [1,\n  2]\n",
    "flow with a colon": "a: {b: http://x}\n",
    "flow trailing comma": "a: [1, 2, ]\n",
    "flow pair in a sequence": "a: [b: 1]\n",
    "flow duplicate key": "a: {b: 1, b: 2}\n",
    "flow null key": "a: {~: 1}\n",
    "flow then text": "a: {b: 1} c\n",
    "flow as a key": "{a: 1}: b\n",
    "flow root": "{a: 1}\n",
    "flow empty value": "a: {b: }\n",
    "flow alias": "a: [&x 1, *x]\n",
    "folded": "a: >\n  x\n  y\n",
    "indent indicator": "a: |2\n   x\n",
    "multi-line plain": "a: x\n  y\n",
    "multi-line plain 2": "a:\n  x\n  y\n",
    "multi-line quoted": "a: 'x\n  y'\n",
    "escape": 'a: "x\\ty"\n',
    "tag": "a: !!str 1\n",
    "explicit key": "? a\n: 1\n",
    "empty doc": "a: 1\n---\n",
    "empty item": "a:\n-\n- 1\n",
    "null key": "~: 1\n",
    "bad indent": "a:\n    b: 1\n  c: 2\n",
    "mapping in value": "a: b: c\n",
    "directive": "%YAML 1.1\n---\na: 1\n",
    "document end then a document": "a: 1\n...\nb: 2\n",
    "document end first": "...\na: 1\n",
    "document end then text": "a: 1\n... x\n",
    "empty document then end": "---\n...\n",
    "scalar root": "just text\n",
    "spaces line in literal": "a: |\n  x\n   \n  y\n",
    "literal without final newline": "a: |\n  x",
    "bom": "\ufeffa: 1\n",
    "nel": "a: 1\x85b: 2\n",
    "invalid": "a: 1\n b: 2\n",
    "item where key": "a: 1\n- 2\n",
    "second root": "- 1\na: 2\n",
}


@pytest.mark.parametrize("name", sorted(READ))
def test_reads_like_libyaml(name: str) -> None:
    assert agrees(READ[name]), f"{name} was declined"


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_declines_what_it_does_not_read(name: str) -> None:
    assert blockyaml.read(DECLINED[name], "t.yaml") is None


@pytest.mark.parametrize(
    "body",
    ["x:\n- 1", "x:\n  - 1", "x:\n    y: 1", "x: 1", "- a", "a:\n  b:\n    c:\n      d: 1", "- a:\n    - b: 1"],
)
@pytest.mark.parametrize(
    "tail", ["", "\n", " ", "\n ", "\n   ", "\n# c", "\n #c", "\n\n", "\n \n", "\n# c\n ", " # c", "\n     # c"]
)
def test_end_of_text(body: str, tail: str) -> None:
    """Where collections end at the end of the text, with and without a final line break
    (without one, libyaml closes what is deeper than the last line's end on that line)."""
    assert agrees(body + tail)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2])
def test_nesting_limit(depth: int) -> None:
    """Around the nesting limit the reader declines or agrees, as everywhere."""
    maps = "".join(" " * i + "k:\n" for i in range(depth)) + " " * depth + "v: 1\n"
    items = "".join(" " * (2 * i) + "- k:\n" for i in range(depth // 2)) + " " * depth + "- 1\n"
    agrees(maps)
    agrees(items)


def test_empty_texts() -> None:
    for text in ["", "\n", "# only a comment\n", "#\n\n  # more\n"]:
        assert agrees(text)
        got = blockyaml.read(text, "t.yaml")
        assert got is not None and got[0] == []


def test_stdin_documents_name_their_helm_source() -> None:
    text = "---\n# Source: chart/templates/vm.yaml\na: 1\n---\n# Source: chart/templates/dv.yaml\nb: 2\n"
    assert agrees(text, "<stdin>")
    got = blockyaml.read(text, "<stdin>")
    assert got is not None and [d.origin for d in got[0]] == ["chart/templates/vm.yaml", "chart/templates/dv.yaml"]


def test_parse_text_uses_it_and_falls_back() -> None:
    fast = parse_text("f.yaml", "a: 1\nb:\n- x\n")
    assert fast.documents[0].data == {"a": 1, "b": ["x"]}
    slow = parse_text("f.yaml", "a: &x 1\nb: *x\n")
    assert slow.documents[0].data == {"a": 1, "b": 1}


# -- every YAML file of the project and the corpus --------------------------------------


def _yaml_files(base: Path) -> list[Path]:
    out = []
    for dirpath, _, names in os.walk(base):
        out.extend(Path(dirpath) / n for n in names if n.endswith((".yaml", ".yml")))
    return sorted(out)


def test_project_files() -> None:
    manifests = _yaml_files(ROOT / "examples") + _yaml_files(ROOT / "tests")
    read = sum(agrees(p.read_text(encoding="utf-8"), str(p)) for p in manifests)
    # Nearly all manifests are plain block YAML (the rest have aliases, flow style, errors...).
    assert read > 0.6 * len(manifests)
    # The rule files use flow style ('findings: [{line: 1}]'): mostly declined, never misread.
    for p in _yaml_files(ROOT / "rules"):
        agrees(p.read_text(encoding="utf-8"), str(p))


def test_corpus_files() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    files = _yaml_files(CORPUS)
    read = sum(agrees(p.read_text(encoding="utf-8", errors="replace"), str(p)) for p in files)
    assert read > 0.6 * len(files)


# -- generated texts ---------------------------------------------------------------------

KEYS = ["a", "name", "b c", "x.y/z", "a:b", "a#b", "on", "1", "ü", "'q'", '"d"', "'it''s'", '""']
SCALARS = [
    "x",
    "yes",
    "No",
    "off",
    "010",
    "0o17",
    "0x1F",
    "1_000",
    "-3",
    "+4",
    "1e3",
    "1.5",
    ".inf",
    ".NaN",
    "~",
    "null",
    "2001-12-14",
    "1:30",
    "12:30:00",
    "http://h:80/p",
    "a#b",
    "-x",
    "=",
    "<<",
    "y",
    "n",
    "ünï",
    "'s'",
    "'it''s'",
    "''",
    '"d"',
    '"a: b # c"',
    '""',
    "{}",
    "[]",
    "x # comment",
    "a  b",
    "{bus: virtio}",
    "[ReadWriteMany]",
    "[a, 'b', \"c\"]",
    "{a: 1, b: [x, {c: ~}]}",
    "[{name: http, port: 8080}]",
    "{ a: b }",
    "[ ]",
    "{a: yes, b: 010, c: 2001-12-14}",
    "[x] # c",
]
TRICKY = [
    "a: b",
    "- x",
    "-",
    "[a]",
    "{a: 1}",
    "&a x",
    "*a",
    "!t x",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "?x",
    ":x",
    ",x",
    "x:",
    '"e\\"s"',
    "'open",
    '"open',
    "a #",
    "#",
    "x ",
    "#c",
    "|-",
    "|+",
    "{a: 1",
    "[a, ]",
    "{a: b, a: c}",
    "[a: b]",
    "{a}",
    "{a:b}",
    "[a]]",
    "{a: [b}",
    "[a,,b]",
    "{'q' : x}",
    "[-x, #y]",
    "{? a: b}",
    "[a] x",
    "{a: b}:",
]


@st.composite
def documents(draw: Any, tricky: bool) -> str:
    """A block-style text built from random structure, spacing and comments. Without
    ``tricky`` it mostly stays inside the subset; with it, it strays outside often."""
    scalars = SCALARS + (TRICKY if tricky else [])
    keys = KEYS + (["<<", "~", "?k", "-k", "k "] if tricky else [])

    def gap(indent: int) -> str:
        """Comment and blank lines before an entry (in any column)."""
        if draw(st.integers(0, 5)):
            return ""
        return " " * draw(st.integers(0, indent + 3)) + draw(st.sampled_from(["# c", "#", ""])) + "\n"

    def literal(indent: int) -> str:
        header = draw(st.sampled_from(["|", "|-", "|+"]))
        extra = ["  ", "# low"] if tricky else []
        body = draw(
            st.lists(st.sampled_from(["text", "  more", "#x", "", "k: v", "- i", *extra]), min_size=1, max_size=4)
        )
        if not body[0].strip():
            body[0] = "first"
        pad = " " * (indent + draw(st.integers(1, 3)))
        return header + "".join("\n" + (pad + b if b and b != "# low" else b) for b in body)

    def node(indent: int, depth: int, item: bool) -> str:
        """The text after 'key:' or '-' (starting with a space or a line break)."""
        choice = draw(st.integers(0, 9 if depth < 4 else 3))
        if choice <= 2 or (item and not tricky):
            return " " + draw(st.sampled_from(scalars)) + draw(st.sampled_from(["", "", " # t", "  "]))
        if choice == 3:
            return " " + literal(indent) if draw(st.booleans()) else draw(st.sampled_from(["", " # e"]))
        step = draw(st.integers(1, 4))
        if choice <= 6:
            return "\n" + mapping(indent + step, depth + 1)
        return "\n" + sequence(indent + draw(st.sampled_from([0, step])), depth + 1)

    def mapping(indent: int, depth: int) -> str:
        entries = []
        for _ in range(draw(st.integers(1, 4))):
            key = draw(st.sampled_from(keys))
            entries.append(gap(indent) + " " * indent + key + ":" + node(indent, depth, False))
        return "\n".join(entries)

    def sequence(indent: int, depth: int) -> str:
        items = []
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):
                inner = mapping(indent + draw(st.integers(2, 4)), depth + 1)
                head, _, tail = inner.partition("\n") if inner.lstrip(" ").startswith(("#", "\n")) else ("", "", inner)
                items.append(head + ("\n" if head else "") + " " * indent + "-" + tail[indent + 1 :])
            else:
                items.append(gap(indent) + " " * indent + "-" + node(indent, depth, True))
        return "\n".join(items)

    out: list[str] = []
    for d in range(draw(st.integers(1, 3))):
        if d or draw(st.booleans()):
            out.append(draw(st.sampled_from(["---", "--- # doc", "---  ", "...\n---", "... # e\n---"])))
        out.append(gap(0).rstrip("\n") if draw(st.booleans()) else "# head")
        out.append(mapping(0, 0) if draw(st.integers(0, 3)) else sequence(0, 0))
    text = "\n".join(out)
    return text + draw(st.sampled_from(["\n", "\n", "", "\n\n", "\n...\n", "\n..."]))


@settings(max_examples=600, derandomize=True, deadline=None)
@given(documents(tricky=False))
def test_generated_block_yaml(text: str) -> None:
    agrees(text)


@settings(max_examples=600, derandomize=True, deadline=None)
@given(documents(tricky=True))
def test_generated_yaml_with_tricky_scalars(text: str) -> None:
    agrees(text)


@settings(max_examples=600, derandomize=True, deadline=None)
@given(
    documents(tricky=False),
    st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(list(" -:#'\"|\n{}x\t"))), max_size=3),
)
def test_mutated_texts(text: str, edits: list[tuple[int, str]]) -> None:
    for at, ch in edits:
        at %= len(text) + 1
        text = text[:at] + ch + text[at:] if ch != "x" else text[:at] + text[at + 1 :]
    agrees(text)


def test_generated_texts_are_mostly_read() -> None:
    """The generator without tricky scalars stays inside the subset most of the time, so
    the tests above compare real readings rather than declines."""
    seen: list[bool] = []

    @settings(max_examples=200, derandomize=True, deadline=None)
    @given(documents(tricky=False))
    def collect(text: str) -> None:
        seen.append(blockyaml.read(text, "t.yaml") is not None)

    collect()
    assert sum(seen) > 0.5 * len(seen)
