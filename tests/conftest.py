from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """kvlint's caches (context, rule catalog) go to a folder of the test session, never
    to the user's; tests of the cache itself point KVLINT_CACHE_DIR elsewhere."""
    old = os.environ.get("KVLINT_CACHE_DIR")
    os.environ["KVLINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("kvlint-cache"))
    yield
    if old is None:
        os.environ.pop("KVLINT_CACHE_DIR", None)
    else:
        os.environ["KVLINT_CACHE_DIR"] = old


@pytest.fixture
def root() -> Path:
    return ROOT


def shared_or_skip(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is not present (../shared is only next to a checkout)")
    return p
