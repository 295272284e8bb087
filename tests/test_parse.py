"""Loading YAML the way kubectl reads it, with exact positions."""

from __future__ import annotations

from kvlint.parse import parse_text


def test_positions_are_one_based_and_keys_point_at_the_key() -> None:
    pf = parse_text("f.yaml", "a:\n  b: [1, 2]\n  c: {d: x}\n")
    doc = pf.documents[0]
    assert doc.pos[("a", "b")][:4] == (2, 3, 2, 6)
    assert doc.pos[("a", "b", 1)][2:4] == (2, 10)
    assert doc.pos[("a", "c", "d")][:2] == (3, 7)


def test_yaml_11_scalars_like_kubectl() -> None:
    data = (
        parse_text("f.yaml", "a: yes\nb: on\nc: 010\nd: 0x1F\ne: '1'\nf: ~\ng: 1.5\nh: 2026-01-01\n").documents[0].data
    )
    assert data == {"a": True, "b": True, "c": 8, "d": 31, "e": "1", "f": None, "g": 1.5, "h": "2026-01-01"}


def test_custom_tags_are_never_constructed() -> None:
    data = parse_text("f.yaml", "a: !!python/object/apply:os.system ['echo hi']\nb: !custom x\n").documents[0].data
    assert data == {"a": ["echo hi"], "b": "x"}


def test_duplicate_keys_are_reported() -> None:
    pf = parse_text("f.yaml", "a: 1\nb: 2\na: 3\n")
    assert [(p.rule, p.line, p.column) for p in pf.problems] == [("KV903", 3, 1)]
    assert pf.documents[0].data["a"] == 3


def test_merge_keys() -> None:
    data = parse_text("f.yaml", "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n").documents[0].data
    assert data["c"] == {"x": 1, "y": 3}


def test_multi_document_and_empty_documents() -> None:
    pf = parse_text("f.yaml", "---\na: 1\n---\n# only a comment\n---\n- 1\n")
    assert [d.data for d in pf.documents] == [{"a": 1}, None, [1]]


def test_alias_bomb_is_bounded() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]\n"
    pf = parse_text("f.yaml", text)
    assert not pf.documents
    assert [p.rule for p in pf.problems] == ["KV905"]


def test_deep_nesting_is_bounded() -> None:
    text = "a: " + "[" * 1000 + "]" * 1000 + "\n"
    pf = parse_text("f.yaml", text)
    assert [p.rule for p in pf.problems] == ["KV905"]


def test_invalid_yaml_has_a_position() -> None:
    pf = parse_text("f.yaml", "a: b\n c: d\n")
    assert pf.problems[0].rule == "KV901"
    assert pf.problems[0].line == 2


def test_json_input() -> None:
    pf = parse_text("f.json", '{"apiVersion": "v1", "kind": "Namespace",\n "metadata": {"name": "x"}}')
    assert pf.documents[0].data["metadata"]["name"] == "x"
    assert pf.documents[0].pos[("metadata", "name")][:2] == (2, 15)


def test_non_string_keys_become_strings() -> None:
    data = parse_text("f.yaml", "1: a\ntrue: b\n").documents[0].data
    assert data == {"1": "a", "true": "b"}
