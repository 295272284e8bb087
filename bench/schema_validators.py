#!/usr/bin/env python3
"""Schema validation time per object: kvlint's in-house validator against jsonschema-rs and
fastjsonschema, on the same parsed objects (a benchmark, not a test).

    .venv/bin/python bench/schema_validators.py PATH... [--release 1.9] [--repeat 5]

PATHs are manifest files or folders (the shared corpus, a tree from bench/generate.py). Every
object whose apiVersion/kind kvlint has a schema for is validated, as kvlint parses it (its
position-carrying dict and list subclasses), against the view of the target release:

  in-house        kvlint.schema_validate (the compiled graph kvlint runs)
  jsonschema-rs   validator_for(root, registry=Registry(every schema file)); is_valid, and
                  iter_errors on the invalid objects           (when installed)
  fastjsonschema  compile(root, handlers resolving the schema files); raises on the first
                  error                                        (when installed)

For the libraries the release view is built the way kvlint builds it: properties whose
x-kvlint-releases excludes the target are dropped. Reported: µs per object (best of
--repeat), and how many objects each one finds invalid. jsonschema-rs is a dependency of
kvlint (its fast path for valid objects); fastjsonschema is not: install it by hand.

Run it with PYTHONPATH pointing at another checkout to measure that one's in-house validator
(a kvlint without per-release schemas is measured on its own single view).
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parent))  # after PYTHONPATH: measure another checkout with it

from kvlint import schema_validate as sv  # noqa: E402
from kvlint.catalog import resource_dir  # noqa: E402
from kvlint.parse import parse_text  # noqa: E402

RANGE_KEY = "x-kvlint-releases"
ID_BASE = "https://kvlint.example/schemas/"


def manifests(paths: Iterable[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(q for q in path.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file()))
        elif path.is_file():
            out.append(path)
    return out


def objects(paths: Iterable[str]) -> list[tuple[str, str, Any]]:
    idx = sv.index()["schemas"]
    out: list[tuple[str, str, Any]] = []
    for f in manifests(paths):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for doc in parse_text(str(f), text).documents:
            data = doc.data
            if isinstance(data, dict) and f"{data.get('apiVersion')}/{data.get('kind')}" in idx:
                out.append((str(data["apiVersion"]), str(data["kind"]), data))
    return out


def schema_docs(release: tuple[int, int]) -> dict[str, Any]:
    d = resource_dir("schemas")
    return {
        p.name: sv.release_view(json.loads(p.read_text(encoding="utf-8")), release)
        for p in d.glob("*.json")
        if p.name != "index.json"
    }


def best_us(fn: Callable[[], object], n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best / max(n, 1) * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--release", default="1.9")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    major, _, minor = args.release.lstrip("v").partition(".")
    release = (int(major), int(minor or 0))
    objs = objects(args.paths)
    if not objs:
        print("no object with a kvlint schema under", args.paths, file=sys.stderr)
        return 1
    results: dict[str, Any] = {"objects": len(objs), "release": sv_name(release)}

    # In-house (any kvlint version: older ones have no release parameter).
    takes_release = "release" in inspect.signature(sv.compiled).parameters
    roots = {}
    for av, kind, _ in objs:
        if (av, kind) not in roots:
            roots[(av, kind)] = sv.compiled(av, kind, release) if takes_release else sv.compiled(av, kind)
    pairs = [(roots[(av, kind)], data) for av, kind, data in objs]

    def inhouse() -> int:
        return sum(1 for root, data in pairs if sv.validate_node(root, data))

    invalid = inhouse()
    results["in-house"] = {"us_per_object": best_us(inhouse, len(pairs), args.repeat), "invalid": invalid}

    docs = schema_docs(release)
    idx = sv.index()["schemas"]
    try:
        import jsonschema_rs
    except ImportError:
        jsonschema_rs = None
    if jsonschema_rs is not None:
        registry = jsonschema_rs.Registry([(ID_BASE + name, doc) for name, doc in docs.items()])
        vals = {key: jsonschema_rs.validator_for(docs[idx[f"{key[0]}/{key[1]}"]], registry=registry) for key in roots}
        vpairs = [(vals[(av, kind)], data) for av, kind, data in objs]

        def rs_valid() -> int:
            return sum(1 for v, data in vpairs if not v.is_valid(data))

        bad = [(v, data) for v, data in vpairs if not v.is_valid(data)]

        def rs_errors() -> int:
            return sum(len(list(v.iter_errors(data))) for v, data in bad)

        results["jsonschema-rs"] = {
            "version": getattr(jsonschema_rs, "__version__", "?"),
            "us_per_object": best_us(rs_valid, len(vpairs), args.repeat),
            "invalid": rs_valid(),
            "us_per_invalid_object_all_errors": best_us(rs_errors, len(bad), args.repeat) if bad else None,
        }
    try:
        import fastjsonschema
    except ImportError:
        fastjsonschema = None
    if fastjsonschema is not None:

        def handler(uri: str) -> Any:
            return fs_docs[uri.rsplit("/", 1)[-1]]

        fs_docs = copy.deepcopy(docs)
        for doc in fs_docs.values():
            doc.pop("$schema", None)  # draft-07 semantics (the keyword subset is the same)
        funcs = {
            key: fastjsonschema.compile(fs_docs[idx[f"{key[0]}/{key[1]}"]], handlers={"https": handler})
            for key in roots
        }
        fpairs = [(funcs[(av, kind)], data) for av, kind, data in objs]

        def fast() -> int:
            n = 0
            for f, data in fpairs:
                try:
                    f(data)
                except fastjsonschema.JsonSchemaException:
                    n += 1
            return n

        results["fastjsonschema"] = {
            "version": fastjsonschema.VERSION,
            "us_per_object": best_us(fast, len(fpairs), args.repeat),
            "invalid": fast(),
        }
    for name in ("in-house", "jsonschema-rs", "fastjsonschema"):
        r = results.get(name)
        if r:
            print(f"{name:15} {r['us_per_object']:8.1f} µs/object  invalid {r['invalid']}/{len(objs)}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def sv_name(r: tuple[int, int]) -> str:
    return f"v{r[0]}.{r[1]}"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
