"""Tests for kvlint.storage_capabilities and its data file.

Expected values were checked against CDI's
pkg/storagecapabilities/storagecapabilities.go (see the data file's `source:`).
"""

from __future__ import annotations

import pytest
import yaml

from kvlint import storage_capabilities as sc

RWO, ROX, RWX = "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"
BLOCK, FS = "Block", "Filesystem"

RBD = [(RWX, BLOCK), (RWO, BLOCK), (RWO, FS)]
TOPOLVM = [(RWO, BLOCK), (RWO, FS)]


def _raw() -> dict[str, object]:
    with sc.DATA_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


def caps(provisioner: str, **parameters: str) -> list[tuple[str, str]] | None:
    return sc.capabilities(provisioner, parameters)


# ----------------------------------------------------------------- well-known entries


@pytest.mark.parametrize(
    ("provisioner", "expected"),
    [
        ("rbd.csi.ceph.com", RBD),
        ("openshift-storage.rbd.csi.ceph.com", RBD),
        ("rook-ceph.rbd.csi.ceph.com", RBD),
        ("kubernetes.io/rbd", RBD),
        # CDI lists RWO Filesystem after the RWX Filesystem default for CephFS.
        ("cephfs.csi.ceph.com", [(RWX, FS), (RWO, FS)]),
        ("nfs.csi.k8s.io", [(RWX, FS)]),
        ("kubevirt.io.hostpath-provisioner", [(RWO, FS)]),
        ("kubevirt.io/hostpath-provisioner", [(RWO, FS)]),
        ("ebs.csi.aws.com", [(RWO, BLOCK)]),
        ("pd.csi.storage.gke.io", [(RWO, BLOCK)]),
        ("disk.csi.azure.com", [(RWO, BLOCK)]),
        ("file.csi.azure.com", [(RWX, FS)]),
        ("csi.vsphere.vmware.com", [(RWO, BLOCK), (RWO, FS)]),
        ("driver.longhorn.io", [(RWO, BLOCK)]),
        ("topolvm.io", TOPOLVM),
        ("topolvm.cybozu.com", TOPOLVM),
        (
            "linstor.csi.linbit.com",
            [(RWX, BLOCK), (RWO, BLOCK), (RWO, FS), (ROX, BLOCK), (ROX, FS)],
        ),
        (
            "kubesan.gitlab.io",
            [(RWX, BLOCK), (ROX, BLOCK), (RWO, BLOCK), (RWO, FS)],
        ),
    ],
)
def test_well_known_entries_in_order(provisioner: str, expected: list[tuple[str, str]]) -> None:
    assert caps(provisioner) == expected


def test_first_pair_is_the_default() -> None:
    assert (caps("rbd.csi.ceph.com") or [])[0] == (RWX, BLOCK)
    assert (caps("ebs.csi.aws.com") or [])[0] == (RWO, BLOCK)
    assert (caps("cephfs.csi.ceph.com") or [])[0] == (RWX, FS)


def test_returns_fresh_lists() -> None:
    first = caps("rbd.csi.ceph.com")
    assert first is not None
    first.clear()
    assert caps("rbd.csi.ceph.com") == RBD


# ----------------------------------------------------------------- key mappers


def test_longhorn_mapper() -> None:
    assert sc.provisioner_key("driver.longhorn.io", {}) == "driver.longhorn.io"
    assert caps("driver.longhorn.io", migratable="true") == [(RWX, BLOCK), (RWO, BLOCK)]
    assert sc.provisioner_key("driver.longhorn.io", {"migratable": "true"}) == ("driver.longhorn.io/migratable")
    # Only the exact string "true" selects migratable.
    assert caps("driver.longhorn.io", migratable="True") == [(RWO, BLOCK)]
    assert caps("driver.longhorn.io", migratable="false") == [(RWO, BLOCK)]
    # migratable wins over nfsOptions, which wins over fsType.
    assert caps("driver.longhorn.io", migratable="true", nfsOptions="vers=4.1") == [
        (RWX, BLOCK),
        (RWO, BLOCK),
    ]
    assert caps("driver.longhorn.io", nfsOptions="vers=4.1", fsType="ext4") == [
        (RWX, FS),
        (RWO, FS),
    ]
    assert caps("driver.longhorn.io", fsType="ext4") == [(RWO, FS)]
    assert caps("driver.longhorn.io", fsType="") == [(RWO, BLOCK)]


def test_longhorn_migratable_key_is_also_a_table_entry() -> None:
    assert caps("driver.longhorn.io/migratable") == [(RWX, BLOCK), (RWO, BLOCK)]


def test_trident_mapper() -> None:
    assert caps("csi.trident.netapp.io", backendType="ontap-nas") == [(RWX, FS), (RWO, FS)]
    assert caps("csi.trident.netapp.io", backendType="ontap-san") == [(RWX, BLOCK)]
    # prefix match
    assert sc.provisioner_key("csi.trident.netapp.io", {"backendType": "ontap-nas-economy"}) == (
        "csi.trident.netapp.io/ontap-nas"
    )
    assert sc.provisioner_key("csi.trident.netapp.io", {"backendType": "ontap-san-economy"}) == (
        "csi.trident.netapp.io/ontap-san"
    )
    gcnv = {"backendType": "google-cloud-netapp-volumes", "selector": "a=b ; performance=flex"}
    assert sc.provisioner_key("csi.trident.netapp.io", gcnv) == "csi.trident.netapp.io/gcnv-flex"
    assert sc.capabilities("csi.trident.netapp.io", gcnv) == [(RWX, FS), (RWO, FS)]
    no_flex = {"backendType": "google-cloud-netapp-volumes", "selector": "performance=premium"}
    assert sc.capabilities("csi.trident.netapp.io", no_flex) is None
    # No (or another) backendType: CDI maps to UNKNOWN, i.e. no capabilities.
    assert sc.provisioner_key("csi.trident.netapp.io", {}) == "UNKNOWN"
    assert caps("csi.trident.netapp.io") is None
    assert caps("csi.trident.netapp.io", backendType="azure-netapp-files") is None


def test_ebs_and_gke_mappers() -> None:
    assert caps("ebs.csi.aws.com", type="gp3") == [(RWO, BLOCK)]
    assert sc.provisioner_key("ebs.csi.aws.com", {"type": "gp2"}) == "ebs.csi.aws.com/gp"
    assert caps("ebs.csi.aws.com", type="io2") == [(RWX, BLOCK), (RWO, BLOCK), (RWO, FS)]
    assert caps("ebs.csi.aws.com", type="io1") == [(RWO, BLOCK)]
    assert caps("ebs.csi.aws.com", type="sc1") == [(RWO, BLOCK)]
    assert caps("pd.csi.storage.gke.io", type="hyperdisk-balanced") == RBD
    assert caps("pd.csi.storage.gke.io", type="pd-ssd") == [(RWO, BLOCK)]


def test_portworx_mappers() -> None:
    nfs_opts = {"sharedv4_mount_options": "vers=3.0,nolock"}
    assert sc.provisioner_key("pxd.portworx.com", nfs_opts) == "pxd.portworx.com/nfs"
    assert sc.provisioner_key("kubernetes.io/portworx-volume", nfs_opts) == ("kubernetes.io/portworx-volume/nfs")
    assert sc.provisioner_key("pxd.portworx.com", {"sharedv4_mount_options": "vers=3.0"}) == ("pxd.portworx.com")
    assert sc.provisioner_key("pxd.portworx.com", {"backend": "pure_block"}) == ("pxd.portworx.com/pure_block")
    assert sc.provisioner_key("pxd.portworx.com", {"backend": "pure_fa_file"}) == ("pxd.portworx.com/pure_fa_file")
    # A present `backend` parameter turns off the sharedv4 check.
    assert sc.provisioner_key("pxd.portworx.com", {"backend": "other", **nfs_opts}) == ("pxd.portworx.com")


def test_fstype_and_protocol_mappers() -> None:
    vs_nfs = {"csi.storage.k8s.io/fstype": "NFS4"}
    assert sc.provisioner_key("csi.vsphere.vmware.com", vs_nfs) == "csi.vsphere.vmware.com/nfs"
    assert sc.capabilities("csi.vsphere.vmware.com", vs_nfs) == [
        (RWX, FS),
        (RWO, BLOCK),
        (RWO, FS),
    ]
    ps_nfs = {"csi.storage.k8s.io/fstype": "NFS"}
    assert sc.provisioner_key("csi-powerstore.dellemc.com", ps_nfs) == ("csi-powerstore.dellemc.com/nfs")
    # Dell PowerStore needs exactly "nfs", not a substring.
    ps_nfs4 = {"csi.storage.k8s.io/fstype": "nfs4"}
    assert sc.provisioner_key("csi-powerstore.dellemc.com", ps_nfs4) == "csi-powerstore.dellemc.com"
    assert sc.provisioner_key("csi-unity.dellemc.com", {"protocol": "NFS"}) == ("csi-unity.dellemc.com/nfs")
    # Huawei is case-sensitive.
    assert sc.provisioner_key("csi.huawei.com", {"protocol": "NFS"}) == "csi.huawei.com"
    assert sc.provisioner_key("csi.huawei.com", {"protocol": "nfs"}) == "csi.huawei.com/nfs"
    assert sc.provisioner_key("infinibox-csi-driver", {"storage_protocol": "fc"}) == (
        "infinibox-csi-driver/iscsiorfibrechannel"
    )
    assert caps("infinibox-csi-driver") is None
    assert sc.provisioner_key("csi.san.synology.com", {}) == "csi.san.synology.com/iscsi"
    assert caps("csi.san.synology.com", protocol="smb") == [(RWX, FS), (RWO, FS)]
    assert caps("csi.san.synology.com", protocol="ceph") is None


def test_provisioner_without_mapper_is_its_own_key() -> None:
    assert sc.provisioner_key("rbd.csi.ceph.com", {"pool": "x"}) == "rbd.csi.ceph.com"
    assert sc.provisioner_key("example.com/unknown", {}) == "example.com/unknown"


# ----------------------------------------------------------------- unknown / unsupported


def test_unknown_provisioner() -> None:
    assert caps("example.com/not-a-real-provisioner") is None
    assert not sc.is_unsupported("example.com/not-a-real-provisioner")
    assert not sc.is_unsupported("rbd.csi.ceph.com")


@pytest.mark.parametrize(
    "provisioner",
    [
        "kubernetes.io/no-provisioner",
        "openshift-storage.noobaa.io/obc",
        "openshift-storage.ceph.rook.io/bucket",
        "rook-ceph.ceph.rook.io/bucket",
        "stork-snapshot",
    ],
)
def test_unsupported_provisioners(provisioner: str) -> None:
    assert sc.is_unsupported(provisioner)
    assert caps(provisioner) is None


# ----------------------------------------------------------------- data file integrity


def test_every_entry_is_valid_and_non_empty() -> None:
    provisioners = _raw()["provisioners"]
    assert isinstance(provisioners, dict)
    assert len(provisioners) >= 70
    for name, pairs in provisioners.items():
        assert isinstance(pairs, list) and pairs, name
        for pair in pairs:
            assert isinstance(pair, list) and len(pair) == 2, (name, pair)
            assert pair[0] in sc.ACCESS_MODES, (name, pair)
            assert pair[1] in sc.VOLUME_MODES, (name, pair)
        assert len({tuple(p) for p in pairs}) == len(pairs), f"duplicate pair in {name}"
        # the loader agrees with the raw file, order included (every mapper's
        # fallback is its own name, so empty parameters reach the entry itself)
        assert caps(name) == [tuple(p) for p in pairs], name


def test_mapper_targets_exist() -> None:
    raw = _raw()
    provisioners = raw["provisioners"]
    mappers = raw["keyMappers"]
    assert isinstance(provisioners, dict) and isinstance(mappers, dict)
    for name, spec in mappers.items():
        targets = [spec["default"]]
        targets += list(spec.get("values", {}).values())
        targets += [rule["key"] for rule in spec.get("rules", [])]
        for target in targets:
            assert target == "UNKNOWN" or target in provisioners, (name, target)


def test_unsupported_not_in_table() -> None:
    raw = _raw()
    unsupported = raw["unsupported"]
    provisioners = raw["provisioners"]
    assert isinstance(unsupported, list) and isinstance(provisioners, dict)
    assert "kubernetes.io/no-provisioner" in unsupported
    assert not set(unsupported) & set(provisioners)


def test_source() -> None:
    source = _raw()["source"]
    assert isinstance(source, dict)
    assert source["repository"] == "kubevirt/containerized-data-importer"
    assert source["path"] == "pkg/storagecapabilities/storagecapabilities.go"
    assert sc.source_commit() == source["commit"]
    assert sc.source_commit()


def test_malformed_data_is_rejected() -> None:
    base = {"source": {"commit": "x"}, "provisioners": {"a": [["ReadWriteOnce", "Block"]]}}
    with pytest.raises(sc.DataError):
        sc._parse({**base, "provisioners": {"a": [["ReadWriteOnly", "Block"]]}})
    with pytest.raises(sc.DataError):
        sc._parse({**base, "provisioners": {"a": []}})
    with pytest.raises(sc.DataError):
        sc._parse(
            {
                **base,
                "keyMappers": {"a": {"rules": [{"when": {"parameter": "p"}, "key": "a"}], "default": "a"}},
            }
        )
    ok = sc._parse({**base, "keyMappers": {"a": {"parameter": "p", "values": {"": "b"}, "default": "a"}}})
    assert ok.key_mappers["a"].apply({}) == "b"
    assert ok.key_mappers["a"].apply({"p": "z"}) == "a"
