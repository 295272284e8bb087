"""kvlint: offline live-migratability linter for KubeVirt manifests."""

__version__ = "0.1.0"
