"""KV2xx: interfaces and networks (pod network binding, binding plugins, ports)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kvlint import versions
from kvlint.checks import workload
from kvlint.inventory import Workload, enumerate_dicts, get, name_of
from kvlint.models import Finding

if TYPE_CHECKING:
    from kvlint.engine import Context

ALLOW_BRIDGE_ANN = "kubevirt.io/allow-pod-bridge-network-live-migration"
BINDINGS = ("bridge", "masquerade", "sriov", "slirp", "macvtap", "passt", "passtBinding", "binding")
MIGRATION_PORTS = (49152, 49153)
_IANA_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

MASQUERADE_FIX = (
    "connect the pod network with masquerade instead:\n  interfaces:\n  - name: default\n    masquerade: {}"
)


def binding_of(iface: dict[str, Any]) -> str | None:
    for b in BINDINGS:
        if b in iface and iface[b] is not None:
            return b
    return None


def pod_networks(w: Workload) -> list[tuple[int, dict[str, Any]]]:
    return [(i, n) for i, n in enumerate_dicts(w.spec.get("networks")) if isinstance(n.get("pod"), dict)]


def _version_text(v: tuple[int, int]) -> str:
    return f"v{v[0]}.{v[1]}"


def _bridge_allowed(w: Workload) -> bool:
    return ALLOW_BRIDGE_ANN in w.template_annotations


def _vm_level_annotation(w: Workload) -> bool:
    return w.obj.kind != "VirtualMachineInstance" and ALLOW_BRIDGE_ANN in w.obj.annotations()


def _annotation_fix(w: Workload) -> str:
    where = "metadata.annotations" if w.obj.kind == "VirtualMachineInstance" else "spec.template.metadata.annotations"
    return (
        "connect the pod network with masquerade (interfaces: [{name: default, masquerade: {}}]), "
        f"or, if the guest must keep the pod IP and bridge, add to {where}:\n"
        f'  {ALLOW_BRIDGE_ANN}: ""'
    )


@workload("KV201", "KV202", "KV203", "KV204", "KV205", "KV206")
def pod_interface(ctx: Context, w: Workload) -> Iterator[Finding]:
    version = ctx.cluster.version
    spec = w.spec
    devices = w.devices()
    interfaces = list(enumerate_dicts(devices.get("interfaces")))
    networks = list(enumerate_dicts(spec.get("networks")))

    if _vm_level_annotation(w) and not _bridge_allowed(w):
        yield ctx.finding(
            "KV202",
            w.obj,
            ("metadata", "annotations", ALLOW_BRIDGE_ANN),
            f"annotation {ALLOW_BRIDGE_ANN} is on the VirtualMachine's own metadata, where it has "
            "no effect: KubeVirt reads it from the VMI, i.e. spec.template.metadata.annotations",
        )

    if not interfaces and not networks:
        if devices.get("autoattachPodInterface") is False:
            return
        default = ctx.cluster.default_interface
        if default.value == "bridge" and not _bridge_allowed(w):
            sev = "warning" if default.assumed else "error"
            related = []
            if default.source is not None:
                related.append(
                    default.source.loc(default.path, label=f"default interface set by {default.source.display()}")
                )
            yield ctx.finding(
                "KV206",
                w.obj,
                w.sp("domain", "devices"),
                "no interfaces are declared, so KubeVirt adds a pod interface with the cluster "
                f"default binding 'bridge' ({default.origin()}; platform {ctx.cluster.platform}, "
                f"{ctx.cluster.platform_source}): a VMI bridged to the pod network cannot "
                "live-migrate",
                severity=sev,
                related=related,
                fix=(
                    "declare the pod interface explicitly with masquerade:\n"
                    "  domain:\n    devices:\n      interfaces:\n      - name: default\n"
                    "        masquerade: {}\n  networks:\n  - name: default\n    pod: {}"
                ),
            )
        return
    if not interfaces:
        # No interfaces (after defaulting) is migratable, whatever the networks.
        return

    pods = pod_networks(w)
    if not pods:
        return
    by_name = {name_of(iface): (i, iface) for i, iface in interfaces}
    for ni, net in pods:
        name = name_of(net)
        hit = by_name.get(name) if name is not None else None
        if hit is None:
            if versions.holds("pod-network-needs-interface", version):
                yield ctx.finding(
                    "KV205",
                    w.obj,
                    w.sp("networks", ni),
                    f"pod network {name!r} has no interface of the same name: no primary "
                    f"interface found for network {name}",
                )
            continue
        i, iface = hit
        path = w.sp("domain", "devices", "interfaces", i)
        binding = binding_of(iface)
        if binding == "masquerade" or rejected_binding(ctx, iface) is not None:
            continue  # (a binding admission rejects: binding_admission reports it)
        if binding == "passtBinding":
            if versions.holds("core-passt-binding-migratable", version):
                continue
            yield ctx.finding(
                "KV203",
                w.obj,
                path + ("passtBinding",),
                f"interface {name!r} uses passtBinding, which KubeVirt {_version_text(version)} "
                "does not count as migratable (core passt binding is migratable from v1.8)",
                fix=MASQUERADE_FIX,
            )
            continue
        if binding == "bridge":
            if _bridge_allowed(w):
                continue
            msg = (
                f"interface {name!r} binds the pod network with bridge and the VMI lacks the "
                f"annotation {ALLOW_BRIDGE_ANN}: cannot migrate VMI which does not use "
                "masquerade or a migratable plugin to connect to the pod network"
            )
            if _vm_level_annotation(w):
                msg += " (the annotation sits on the VM's own metadata, where it has no effect)"
            yield ctx.finding("KV201", w.obj, path + ("bridge",), msg, fix=_annotation_fix(w))
            continue
        if binding == "binding":
            plugin = iface.get("binding", {}).get("name") if isinstance(iface.get("binding"), dict) else None
            if not versions.holds("binding-plugin-migratable", version):
                yield ctx.finding(
                    "KV204",
                    w.obj,
                    path + ("binding",),
                    f"interface {name!r} uses binding plugin {plugin!r}: binding plugins are not "
                    f"migratable before KubeVirt v1.2 (target {_version_text(version)})",
                )
                continue
            registry = ctx.cluster.bindings
            known = registry.value
            if known is None or (registry.assumed and not known.get(plugin, False)):
                # Without a KubeVirt CR in view only HCO's own l2bridge is known.
                yield ctx.finding(
                    "KV204",
                    w.obj,
                    path + ("binding",),
                    f"interface {name!r} uses binding plugin {plugin!r} on the pod network; no "
                    "KubeVirt CR is in view to tell whether the plugin declares 'migration'",
                    severity="warning",
                )
            elif not known.get(plugin, False):
                related = []
                if registry.source is not None:
                    related.append(registry.source.loc(registry.path, label="binding plugins"))
                state = "registers it without 'migration'" if plugin in known else "does not register it"
                yield ctx.finding(
                    "KV204",
                    w.obj,
                    path + ("binding", "name"),
                    f"interface {name!r} uses binding plugin {plugin!r}, and the KubeVirt CR "
                    f"{state}: cannot migrate VMI which does not use masquerade or a migratable "
                    "plugin to connect to the pod network",
                    related=related,
                )
            continue
        if binding is None:
            yield ctx.finding(
                "KV203",
                w.obj,
                path,
                f"interface {name!r} on the pod network sets no binding method; KubeVirt counts "
                "only masquerade, passtBinding, annotated bridge or a migratable plugin as "
                "migratable",
                severity="warning",
                fix=MASQUERADE_FIX,
            )
            continue
        yield ctx.finding(
            "KV203",
            w.obj,
            path + (binding,),
            f"interface {name!r} binds the pod network with {binding}: cannot migrate VMI which "
            "does not use masquerade or a migratable plugin to connect to the pod network",
            fix=MASQUERADE_FIX,
        )


def _migration_port_message(iface: object, what: str) -> str:
    return (
        f"interface {iface!r} forwards {what}, which OpenShift documents as reserved for live "
        "migration; only legacy VMIs that migrate over TCP use them, every current launcher "
        "migrates over unix sockets"
    )


def _iter_ports(iface: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    return enumerate_dicts(iface.get("ports"))


@workload("KV207", "KV208", "KV209")
def interface_ports_and_admission(ctx: Context, w: Workload) -> Iterator[Finding]:
    networks = {name_of(n): n for _, n in enumerate_dicts(w.spec.get("networks"))}
    for i, iface in enumerate_dicts(w.devices().get("interfaces")):
        name = name_of(iface)
        net = networks.get(name) if name is not None else None
        on_pod = isinstance(net, dict) and isinstance(net.get("pod"), dict)
        base = w.sp("domain", "devices", "interfaces", i)
        binding = binding_of(iface)
        if binding == "masquerade" and net is not None and not on_pod:
            yield ctx.finding(
                "KV209",
                w.obj,
                base + ("masquerade",),
                f"interface {name!r} uses masquerade on a non-pod network: Masquerade interface "
                "only implemented with pod network",
                fix="use bridge (or sriov) on secondary multus networks; masquerade only on the pod network",
            )
        permit = ctx.cluster.permit_bridge_on_pod
        if binding == "bridge" and on_pod and permit.value is False:
            yield ctx.finding(
                "KV209",
                w.obj,
                base + ("bridge",),
                f"interface {name!r} uses bridge on the pod network, but the KubeVirt CR sets "
                "permitBridgeInterfaceOnPodNetwork: false: Bridge on pod network configuration "
                "is not enabled under kubevirt-config",
                related=[permit.source.loc(permit.path, label="permitBridgeInterfaceOnPodNetwork")]
                if permit.source
                else [],
                fix=MASQUERADE_FIX,
            )
        if not on_pod:
            continue
        seen: set[str] = set()
        for j, port in _iter_ports(iface):
            ppath = base + ("ports", j)
            pname = port.get("name")
            if isinstance(pname, str) and pname:
                if pname in seen:
                    yield ctx.finding(
                        "KV208", w.obj, ppath + ("name",), f"interface {name!r}: Duplicate name of the port: {pname}"
                    )
                seen.add(pname)
                if len(pname) > 15 or not _IANA_NAME.match(pname) or "--" in pname:
                    yield ctx.finding(
                        "KV208", w.obj, ppath + ("name",), f"interface {name!r}: Invalid name of the port: {pname}"
                    )
            number = port.get("port")
            if number is None or number == 0:
                yield ctx.finding("KV208", w.obj, ppath, f"interface {name!r}: Port field is mandatory.")
            elif not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 65536:
                yield ctx.finding(
                    "KV208", w.obj, ppath + ("port",), f"interface {name!r}: Port field must be in range 0 < x < 65536."
                )
            proto = port.get("protocol")
            if proto not in (None, "", "TCP", "UDP"):  # empty means TCP
                yield ctx.finding(
                    "KV208",
                    w.obj,
                    ppath + ("protocol",),
                    f"interface {name!r}: Unknown protocol, only TCP or UDP allowed (got {proto!r})",
                    fix="write the protocol in upper case: TCP or UDP",
                )
            if binding == "masquerade" and number in MIGRATION_PORTS:
                yield ctx.finding(
                    "KV207",
                    w.obj,
                    ppath + ("port",),
                    _migration_port_message(name, f"port {number}, one of the libvirt migration ports 49152/49153"),
                )
        if binding == "masquerade":
            for j, rng in enumerate_dicts(iface.get("portRanges")):
                start, end = rng.get("start"), rng.get("end")
                if not (isinstance(start, int) and isinstance(end, int)):
                    continue  # malformed ranges: schema rules
                hit = [p for p in MIGRATION_PORTS if start <= p <= end]
                if hit:
                    yield ctx.finding(
                        "KV207",
                        w.obj,
                        base + ("portRanges", j),
                        _migration_port_message(
                            name, f"the port range {start}-{end} (covering {', '.join(map(str, hit))})"
                        ),
                    )


#: The discontinued core bindings and the (discontinued) gates that still let v1.3-v1.7
#: admit them.
DISCONTINUED = {"slirp": ("Slirp", None), "passt": ("Passt", "Passt"), "macvtap": ("Macvtap", "Macvtap")}


def rejected_binding(ctx: Context, iface: dict[str, Any]) -> str | None:
    """Why KubeVirt's admission rejects this interface's binding (any network), or None."""
    version = ctx.cluster.version
    binding = binding_of(iface)
    if binding in DISCONTINUED and version >= versions.since("core-slirp-passt-macvtap-discontinued"):
        label, gate = DISCONTINUED[binding]
        if version < versions.since("core-slirp-passt-macvtap-rejected"):
            # v1.3-v1.7: still admitted when the discontinued gate is listed (slirp: when the
            # KubeVirt CR permits it); both are off by default.
            gates = ctx.cluster.feature_gates.value
            kv = ctx.cluster.kubevirt
            if gate is not None and gates is not None and gate in gates:
                return None
            if (
                gate is None
                and kv is not None
                and get(kv.data, "spec", "configuration", "network", "permitSlirpInterface") is True
            ):
                return None
        return f"{label} network binding has been discontinued since v1.3"
    if binding is None and version >= versions.since("interface-needs-one-binding"):
        return f"logical {name_of(iface)} interface must have exactly one binding method or binding plugin"
    return None


@workload("KV203")
def binding_admission(ctx: Context, w: Workload) -> Iterator[Finding]:
    """Bindings KubeVirt's admission rejects, on any network: the VM is never created."""
    for i, iface in enumerate_dicts(w.devices().get("interfaces")):
        why = rejected_binding(ctx, iface)
        if why is None:
            continue
        binding = binding_of(iface)
        path = w.sp("domain", "devices", "interfaces", i)
        yield ctx.finding(
            "KV203",
            w.obj,
            path + ((binding,) if binding else ()),
            f"interface {name_of(iface)!r}: rejected at admission: {why} (KubeVirt "
            f"v{ctx.cluster.version[0]}.{ctx.cluster.version[1]}), so the VM never runs",
            fix=(
                "give the interface exactly one binding: masquerade on the pod network, bridge or "
                "sriov on a secondary network, or a binding plugin (binding: {name: ...})"
            ),
        )
