"""The shape of the code: no import loops between kvlint's modules, and one pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "kvlint"


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The kvlint modules a module imports, at any level (inside functions too), type-only
    imports left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    paths = {_module(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    g = {m: _imports(p, m, modules) for m, p in paths.items()}
    # A package imports its __init__ implicitly: that edge is no loop of its own.
    return {m: {t for t in deps if not m.startswith(t + ".")} for m, deps in g.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


#: Loops known and not broken yet (none: keep it so).
KNOWN: list[list[str]] = []


def test_no_import_loops() -> None:
    assert cycles(graph()) == KNOWN


def test_the_loop_finder_finds_loops() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_lower_layers_never_import_the_pipeline() -> None:
    g = graph()
    upper = {"kvlint.runner", "kvlint.pipeline", "kvlint.shard", "kvlint.cli", "kvlint.cli_fix", "kvlint.cli_explain"}
    lower = ["kvlint.engine", "kvlint.catalog", "kvlint.cache", "kvlint.reader", "kvlint.parse", "kvlint.inventory"]
    for m in lower:
        assert not g[m] & upper, (m, g[m] & upper)
    assert not any(m.startswith("kvlint.checks") and g[m] & upper for m in g)


def test_one_pipeline() -> None:
    # The modules of the former separate ways are gone; every command goes through the runner.
    assert not (PACKAGE / "stream.py").exists() and not (PACKAGE / "parallel.py").exists()
    for cmd in ("cli.py", "cli_fix.py", "cli_explain.py"):
        assert "lint_paths(" in (PACKAGE / cmd).read_text(encoding="utf-8"), cmd
    runner = (PACKAGE / "runner.py").read_text(encoding="utf-8")
    assert "lint_files(" in runner and "Run(" not in runner
