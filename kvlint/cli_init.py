"""``kvlint init``: write a commented starter ``.kvlint.yaml``."""

from __future__ import annotations

import os
import sys

import click

STARTER = """\
# kvlint configuration. Found upward from the current folder; see 'kvlint --help'.
# Unknown keys are errors, so a typo never silently does nothing.

# Platform defaults: hco (OpenShift Virtualization: masquerade pod binding, LiveMigrate
# eviction) or kubevirt (plain KubeVirt: bridge pod binding, no eviction strategy).
# Default: detected from a HyperConverged / KubeVirt CR in view, else hco.
# platform: hco

# Target KubeVirt version for version-dependent rules (quote it).
# kubevirtVersion: "1.9"

# Lowest severity that fails the run: error | warning | info
failOn: error

# Per-rule levels: off | info | warning | error  (kvlint rules  lists them)
rules:
  # KV108: info     # off by default: VMs whose migrations copy local disks

# Path globs that are never linted.
exclude:
  # - "charts/*/templates/*"

# Suppressions by rule and path / namespace / name / kind (globs), with a reason.
ignore:
  # - rules: [KV101]
  #   namespace: scratch
  #   reason: throw-away VMs, never drained

# Facts that are not in the linted files.
assumptions:
  # defaultStorageClass: ocs-storagecluster-ceph-rbd
  # storageClasses:
  #   nfs-legacy: [{accessModes: [ReadWriteMany], volumeMode: Filesystem}]
  # claims:
  #   apps/shared-data: [ReadWriteMany]
  # objects:
  #   - {apiVersion: v1, kind: Node, metadata: {name: worker-1, labels: {kubevirt.io/cpumanager: "true"}}}
"""


@click.command()
@click.option("--path", "target", default=".kvlint.yaml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(target: str, force: bool) -> None:
    """Write a commented starter .kvlint.yaml."""
    if os.path.exists(target) and not force:
        click.echo(f"kvlint: {target} exists (use --force to overwrite)", err=True)
        sys.exit(2)
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(STARTER)
    click.echo(f"wrote {target}")
