"""The version table (``kvlint/data/versions.json``): version-dependent KubeVirt facts and the
HCO release that ships each KubeVirt version, with its defaults.

Every row names the release tag and the file / function it was read from. HCO v1.(N+10)
is built on KubeVirt v1.N (its ``go.mod`` ``kubevirt.io/api`` and ``hack/config``
``KUBEVIRT_VERSION``); OpenShift Virtualization 4.NN ships HCO v1.(NN-4), so KubeVirt
v1.(NN-14): 4.19 is HCO v1.15 on KubeVirt v1.5. KubeVirt v1.9 is shipped by HCO main
(unreleased at the time of the table).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "versions.json"


@functools.lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _v(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def fact(fact_id: str) -> dict[str, Any]:
    for row in table()["kubevirt"]:
        if row["id"] == fact_id:
            return dict(row)
    raise KeyError(fact_id)


def since(fact_id: str) -> tuple[int, int]:
    """The KubeVirt version a fact holds from."""
    return _v(fact(fact_id)["since"])


def holds(fact_id: str, version: tuple[int, int]) -> bool:
    return version >= since(fact_id)


def cite(fact_id: str) -> str:
    """Where a fact was read: "v1.9.0 pkg/... function"."""
    row = fact(fact_id)
    return f"{row['tag']} {row['source']}"


def hco_release(version: tuple[int, int]) -> dict[str, Any]:
    """The HCO release that ships KubeVirt ``version`` (the oldest row below v1.0, HCO main
    from v1.9)."""
    rows = table()["hco"]
    best = rows[0]
    for row in rows:
        if _v(row["kubevirt"]) <= version:
            best = row
    return dict(best)


def hco_label(row: dict[str, Any]) -> str:
    if row["hco"] == "main":
        return f"HCO main, which ships KubeVirt v{row['kubevirt']}"
    return f"HCO v{row['hco']}, which ships KubeVirt v{row['kubevirt']}"


def openshift_virtualization(release: tuple[int, int]) -> dict[str, Any] | None:
    """The HCO row of an OpenShift Virtualization release (``(4, 19)``), or None."""
    want = f"{release[0]}.{release[1]}"
    for row in table()["hco"]:
        if row.get("openshiftVirtualization") == want:
            return dict(row)
    return None


def openshift_releases() -> list[str]:
    return [str(r["openshiftVirtualization"]) for r in table()["hco"] if r.get("openshiftVirtualization")]


def hco_feature_gates(row: dict[str, Any], enabled: dict[str, bool]) -> set[str]:
    """The KubeVirt feature gates HCO renders into the KubeVirt CR: its hard-coded gates, the
    ones it adds when SSP is deployed (assumed, as on OpenShift), and those of the HCO
    feature gates that are on (``enabled``: HCO gate name -> state, over the release's
    defaults)."""
    gates = set(row["hardcodedFeatureGates"]) | set(row["sspFeatureGates"])
    states = {**row.get("featureGateDefaults", {}), **enabled}
    for hco_gate, kv_gate in row["featureGateMap"].items():
        if states.get(hco_gate) is True:
            gates.add(kv_gate)
    if row["hco"] == "main" and states.get("declarativeHotplugVolumes") is not True:
        gates.add("HotplugVolumes")
    return gates
