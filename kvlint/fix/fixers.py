"""The fixers, registered by rule id: each inspects the round-trip document a finding
points into and returns the edits that fix it (or None)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kvlint.fix.edits import (
    ALLOW_BRIDGE_ANN,
    MIGRATION_PORTS,
    MISSING,
    RWX,
    SAFE,
    UNSAFE,
    Edit,
    Expectation,
    Original,
    Refused,
    _ca_item,
    _dq,
    _find,
    _flow,
    _is_map,
    _key_of,
    _new_map,
    _new_seq,
    _node_path,
    _path_text,
    _set_at,
    _set_eol_comment,
    _split_comment,
    bridge_allowed_on_object,
    bridge_annotation_paths,
    bridge_binding_path,
    delete_key,
    fixer,
    node_at,
    object_base,
)
from kvlint.models import Finding
from kvlint.parse import Path

if TYPE_CHECKING:
    from kvlint.engine import Context
    from kvlint.inventory import Workload

# --------------------------------------------------------------------------- fixers: safe


@fixer("KV202", SAFE)
def _move_bridge_annotation(f: Finding, doc: Any) -> list[Edit] | None:
    """Move the bridge annotation from the VM's metadata to its VMI template's metadata."""
    found = bridge_annotation_paths(f)
    if found is None:
        return None
    index, path, base, template_meta = found
    meta_path: Path = base + template_meta
    template = _find(doc, meta_path[:-1])
    src = _find(doc, base + ("metadata", "annotations"))
    if not _is_map(template) or not _is_map(src) or ALLOW_BRIDGE_ANN not in src:
        return None
    meta = template.get("metadata")
    if meta is not None and not _is_map(meta):
        return None
    dest = meta.get("annotations") if meta is not None else None
    if dest is not None and not _is_map(dest):
        return None
    if dest is not None and ALLOW_BRIDGE_ANN in dest:
        return None
    src_touched = base + ("metadata", "annotations") if len(src) == 1 else path
    if meta is None:
        dst_touched = meta_path
    elif dest is None:
        dst_touched = meta_path + ("annotations",)
    else:
        dst_touched = meta_path + ("annotations", ALLOW_BRIDGE_ANN)

    def apply(d: Any, orig: Original) -> list[Expectation]:
        value_before = orig.value(path)
        tpl = node_at(d, meta_path[:-1])
        annotations = node_at(d, base + ("metadata", "annotations"))
        value = annotations[ALLOW_BRIDGE_ANN]
        eol = delete_key(annotations, ALLOW_BRIDGE_ANN)
        if not len(annotations):
            delete_key(node_at(d, base + ("metadata",)), "annotations")
        if "metadata" not in tpl:
            tpl.insert(0, "metadata", _new_map(_flow(tpl)))
        md = tpl["metadata"]
        if "annotations" not in md:
            pos = list(md.keys()).index("labels") + 1 if "labels" in md else len(md)
            md.insert(pos, "annotations", _new_map(_flow(md)))
        target = md["annotations"]
        target[ALLOW_BRIDGE_ANN] = value
        _set_eol_comment(target, ALLOW_BRIDGE_ANN, eol)
        gone: Path = src_touched if src_touched != path else path
        return [(gone, MISSING), (meta_path + ("annotations", ALLOW_BRIDGE_ANN), value_before)]

    return [
        Edit(
            ("KV202", path),
            f"move annotation {ALLOW_BRIDGE_ANN} from metadata.annotations to "
            f"{_path_text(template_meta)}.annotations, where KubeVirt reads it",
            (src_touched, dst_touched),
            apply,
        )
    ]


def _quote_edit(rule: str, path: Path) -> Edit:
    def apply(d: Any, orig: Original) -> list[Expectation]:
        before = orig.value(path)
        if isinstance(before, (str, dict, list)) or before is None or before is MISSING:
            raise Refused(f"the value at {_path_text(path)} is not a boolean or number")
        text = orig.scalar_text(path)
        _set_at(d, path, _dq(text))
        return [(path, text)]

    return Edit(
        (rule, "quote", path),
        f"quote the value at {_path_text(path)} so it stays the string it is written as",
        (path,),
        apply,
    )


def _plain_scalar_node(doc: Any, path: Path) -> bool:
    """The node at ``path`` is an unquoted scalar (what YAML may read as a non-string)."""
    from ruamel.yaml.scalarstring import ScalarString

    node = _find(doc, path)
    return not (node is None or isinstance(node, (dict, list, ScalarString)))


@fixer("KV504", SAFE)
def _quote_selector_value(f: Finding, doc: Any) -> list[Edit] | None:
    """Quote a MigrationPolicy selector value YAML reads as a boolean or number."""
    node = _node_path(f)
    if node is None or not _plain_scalar_node(doc, node[1]):
        return None
    return [_quote_edit("KV504", node[1])]


#: Maps whose values are label / annotation / selector strings.
LABEL_MAPS = frozenset(("labels", "annotations", "matchLabels", "nodeSelector"))


@fixer("KV802", SAFE)
def _quote_label_value(f: Finding, doc: Any) -> list[Edit] | None:
    """Quote a label, annotation or selector value YAML reads as a boolean or number (other
    type errors are not fixed: the right value is not mechanical)."""
    node = _node_path(f)
    if node is None or f.data.get("keyword", "type") != "type":
        return None
    path = node[1]
    expected = f.data.get("expected")
    if not isinstance(expected, tuple) or tuple(t for t in expected if t != "null") != ("string",):
        return None  # (the schema wants something other than a string here)
    if len(path) < 2 or not isinstance(path[-1], str):
        return None
    in_label_map = path[-2] in LABEL_MAPS
    in_policy_selector = len(path) >= 3 and path[-3] == "selectors"
    if not (in_label_map or in_policy_selector) or not _plain_scalar_node(doc, path):
        return None
    return [_quote_edit("KV802", path)]


@fixer("KV503", SAFE)
def _plain_selector(f: Finding, doc: Any) -> list[Edit] | None:
    """Rewrite a MigrationPolicy selector written as a LabelSelector (matchLabels, single-value
    ``In`` expressions) as the plain map it is; other expressions have no plain-map form."""
    node = _node_path(f)
    if node is None:
        return None
    path = node[1]
    if not path or path[-1] not in ("matchLabels", "matchExpressions"):
        return None
    sel_path = path[:-1]
    sel = _find(doc, sel_path)
    if not _is_map(sel):
        return None
    sources: list[tuple[Any, Path, Any, Any]] = []  # (label key, value path, value, comment map)
    for k, v in sel.items():
        if k == "matchLabels":
            if not _is_map(v):
                return None
            for lk, lv in v.items():
                sources.append((lk, sel_path + ("matchLabels", str(lk)), lv, v))
        elif k == "matchExpressions":
            if not isinstance(v, list):
                return None
            for i, expr in enumerate(v):
                if not _is_map(expr) or set(expr) - {"key", "operator", "values"}:
                    return None
                vals = expr.get("values")
                if expr.get("operator") != "In" or not isinstance(vals, list) or len(vals) != 1:
                    return None
                if not isinstance(expr.get("key"), str):
                    return None
                sources.append((expr["key"], sel_path + ("matchExpressions", i, "values", 0), vals[0], None))
        else:
            sources.append((k, sel_path + (str(k),), v, sel))
    seen: dict[str, str] = {}
    for lk, _, lv, _ in sources:
        if isinstance(lv, (dict, list)) or lv is None:
            return None
        text = str(lv)
        if str(lk) in seen and seen[str(lk)] != text:
            return None  # contradictory requirements: no map expresses them
        seen[str(lk)] = text

    def apply(d: Any, orig: Original) -> list[Expectation]:
        old = node_at(d, sel_path)
        new = _new_map(_flow(old))
        expected: dict[str, str] = {}
        for lk, vpath, _, cmap in sources:
            if str(lk) in expected:
                continue
            value = node_at(d, vpath)
            before = orig.value(vpath)
            if isinstance(before, str):
                expected[str(lk)] = before
            elif isinstance(before, (bool, int, float)):
                value = _dq(orig.scalar_text(vpath))
                expected[str(lk)] = str(value)
            else:
                raise Refused(f"the value at {_path_text(vpath)} is not a label value")
            new[lk] = value
            if cmap is not None:
                item = _ca_item(cmap, lk)
                if item is not None and cmap is not old:
                    new.ca.items[lk] = item
        parent = node_at(d, sel_path[:-1])
        parent[_key_of(parent, sel_path[-1])] = new
        return [(sel_path, expected)]

    return [
        Edit(
            ("KV503", sel_path),
            f"write {_path_text(sel_path)} as a plain map of label key to value",
            (sel_path,),
            apply,
        )
    ]


def _enum_values(api_version: str, kind: str, rel: Path) -> tuple[Any, ...] | None:
    from kvlint import schema_validate as sv

    versions = [api_version]
    for dep in sv.index().get("deprecatedApiVersions", ()):
        if dep.get("apiVersion") == api_version and kind in dep.get("kinds", ()):
            versions.append(dep["replacement"])
    for av in versions:
        root = sv.compiled(av, kind)
        if root is None:
            continue
        node = sv.node_at(root, rel)
        if node is not None and node.enum:
            return tuple(node.enum)
    return None


@fixer("KV803", SAFE)
def _enum_case(f: Finding, doc: Any) -> list[Edit] | None:
    """Correct the case of an enum value when exactly one allowed value matches it
    case-insensitively (``livemigrate`` -> ``LiveMigrate``)."""
    node = _node_path(f)
    if node is None or f.object is None or f.data.get("keyword", "enum") != "enum":
        return None
    path = node[1]
    value = _find(doc, path)
    if not isinstance(value, str) or not path:
        return None
    base = object_base(doc, path, f.object.kind)
    if base is None:
        return None
    try:
        allowed = _enum_values(f.object.api_version, f.object.kind, path[len(base) :])
    except Exception:  # noqa: BLE001 - no schema, no fix
        allowed = None
    if allowed is None:
        return None
    matches = [a for a in allowed if isinstance(a, str) and a.lower() == value.lower()]
    if len(matches) != 1 or matches[0] == value:
        return None
    new = matches[0]

    def apply(d: Any, orig: Original) -> list[Expectation]:
        old = node_at(d, path)
        if orig.value(path) != value:
            raise Refused(f"the value at {_path_text(path)} is not {value!r}")
        replacement = type(old)(new) if type(old) is not str else new
        _set_at(d, path, replacement)
        return [(path, new)]

    desc = f"write {new} instead of {value} (values are case-sensitive)"
    return [Edit(("KV803", path), desc, (path,), apply)]


# --------------------------------------------------------------------------- fixers: unsafe


def _port_number(orig: Original, path: Path) -> Any:
    return orig.value(path + ("port",))


def _drop_migration_ports(d: Any, orig: Original, iface_path: Path) -> list[Expectation]:
    """Remove the ports entries 49152/49153 of an interface (and ``ports`` if it empties)."""
    iface = node_at(d, iface_path)
    ports = iface.get("ports")
    before = orig.value(iface_path + ("ports",))
    if not isinstance(ports, list) or not isinstance(before, list) or len(ports) != len(before):
        return []
    keep = [
        i
        for i, p in enumerate(before)
        if not (
            isinstance(p, dict)
            and not isinstance(p.get("port"), bool)
            and _port_number(orig, iface_path + ("ports", i)) in MIGRATION_PORTS
        )
    ]
    if len(keep) == len(before):
        return []
    for i in reversed(range(len(before))):
        if i not in keep:
            del ports[i]
    if not keep:
        delete_key(iface, "ports")
        return [(iface_path + ("ports",), MISSING)]
    return [(iface_path + ("ports",), [before[i] for i in keep])]


def _has_migration_ports(iface: Any) -> bool:
    ports = iface.get("ports")
    if not isinstance(ports, list):
        return False
    return any(_is_map(p) and p.get("port") in MIGRATION_PORTS for p in ports)


@fixer("KV201", UNSAFE)
def _bridge_to_masquerade(f: Finding, doc: Any) -> list[Edit] | None:
    """Bind the pod network with masquerade instead of bridge (the guest no longer gets the
    pod IP itself); drops forwarded ports 49152/49153, which masquerade must not forward."""
    path = bridge_binding_path(f)
    if path is None:
        return None
    iface_path = path[:-1]
    iface = _find(doc, iface_path)
    if not _is_map(iface) or "bridge" not in iface or "masquerade" in iface:
        return None
    if bridge_allowed_on_object(f, doc, path):
        return None  # the safe KV202 fix moves the annotation, which allows bridge
    touched: tuple[Path, ...] = (path, iface_path + ("masquerade",))
    if _has_migration_ports(iface):
        touched += (iface_path + ("ports",),)

    def apply(d: Any, orig: Original) -> list[Expectation]:
        it = node_at(d, iface_path)
        pos = list(it.keys()).index("bridge")
        eol, rest = _split_comment(it, "bridge")
        if rest:
            raise Refused("comment lines after the bridge entry")
        delete_key(it, "bridge")
        it.insert(pos, "masquerade", _new_map())
        _set_eol_comment(it, "masquerade", eol)
        out: list[Expectation] = [(path, MISSING), (iface_path + ("masquerade",), {})]
        return out + _drop_migration_ports(d, orig, iface_path)

    name = iface.get("name")
    return [
        Edit(
            ("KV201", iface_path),
            f"bind interface {name!r} with masquerade instead of bridge (the guest gets a NAT "
            "address instead of the pod IP)",
            touched,
            apply,
        )
    ]


@fixer("KV207", UNSAFE)
def _drop_ports(f: Finding, doc: Any) -> list[Edit] | None:
    """Remove the forwarded ports 49152/49153 from a masquerade interface."""
    node = _node_path(f)
    if node is None:
        return None
    path = node[1]
    if len(path) < 4 or path[-1] != "port" or path[-3] != "ports":
        return None
    iface_path = path[:-3]
    iface = _find(doc, iface_path)
    if not _is_map(iface) or not _has_migration_ports(iface):
        return None

    def apply(d: Any, orig: Original) -> list[Expectation]:
        out = _drop_migration_ports(d, orig, iface_path)
        if not out:
            raise Refused("no port 49152/49153 to remove")
        return out

    return [
        Edit(
            ("ports", iface_path),
            f"stop forwarding ports 49152/49153 on interface {iface.get('name')!r}",
            (iface_path + ("ports",),),
            apply,
        )
    ]


def _prepare_rwx(f: Finding, ctx: Context, w: Workload) -> None:
    """Record, for a KV101 finding on a dataVolumeTemplate, the ReadWriteMany claim property
    set its storage class offers (StorageProfile, configuration or CDI's capability table)."""
    from kvlint.inventory import as_dict, get

    node = _node_path(f)
    if node is None:
        return
    _, vpath = node
    if w.dvt_path is None or vpath[: len(w.obj.base)] != w.obj.base:
        return
    rel = vpath[len(w.obj.base) :]
    vol = get(w.obj.data, *rel[:-1])
    if not isinstance(vol, dict):
        return
    src = as_dict(vol.get(rel[-1]))
    name = src.get("name") if rel[-1] == "dataVolume" else src.get("claimName")
    if not isinstance(name, str):
        return
    acc = ctx.resolver.claim(w, name)
    if acc.source_kind != "template":
        return
    for i, dvt in w.dvts():
        if get(dvt, "metadata", "name") != name:
            continue
        spec = as_dict(dvt.get("spec"))
        has_pvc = isinstance(spec.get("pvc"), dict)
        has_storage = isinstance(spec.get("storage"), dict)
        if has_pvc == has_storage:
            return  # invalid (KV106): no fix
        block = "storage" if has_storage else "pvc"
        claim = as_dict(spec.get(block))
        spec_path = w.dvt_path + (i, "spec")
        # spec.pvc gets the cluster's default class; spec.storage CDI's virt default first.
        kubevirt_content = block == "storage" and spec.get("contentType") in (None, "kubevirt")
        offers = ctx.resolver.class_offers(w.obj, spec_path + (block,), claim, content_kubevirt=kubevirt_content)
        if offers is None:
            return
        sets, origin = offers
        rwx = [s for s in sets if RWX in s.access_modes]
        if not rwx:
            return
        current = claim.get("volumeMode") if isinstance(claim.get("volumeMode"), str) else None
        want = current or ("Filesystem" if block == "pvc" else None)
        same = [s for s in rwx if want is not None and (s.volume_mode or "Filesystem") == want]
        chosen = same[0] if same else rwx[0]
        mode = chosen.volume_mode
        if block == "pvc" and mode is None and current not in (None, "Filesystem"):
            mode = "Filesystem"
        f.data["rwx_fix"] = {
            "spec": w.obj.base + spec_path,
            "block": block,
            "volumeMode": mode,
            "origin": origin,
        }
        return


@fixer("KV101", UNSAFE, prepare=_prepare_rwx, applies=lambda f: isinstance(f.data.get("rwx_fix"), dict))
def _request_rwx(f: Finding, doc: Any) -> list[Edit] | None:
    """Request ReadWriteMany on the dataVolumeTemplate (the storage class offers it); a new
    claim with a different access mode (and maybe volume mode) is a different volume."""
    info = f.data.get("rwx_fix")
    if not isinstance(info, dict):
        return None
    spec_path: Path = tuple(info["spec"])
    block: str = info["block"]
    mode: str | None = info.get("volumeMode")
    claim_path = spec_path + (block,)
    claim = _find(doc, claim_path)
    if not _is_map(claim):
        return None
    modes = claim.get("accessModes")
    if block == "pvc" and not (isinstance(modes, list) and len(modes) == 1):
        return None
    if modes is not None and not isinstance(modes, list):
        return None
    current = claim.get("volumeMode")
    # spec.pvc is copied verbatim, where no volumeMode means Filesystem already.
    set_mode = (
        mode is not None and current != mode and not (block == "pvc" and current is None and mode == "Filesystem")
    )
    touched: tuple[Path, ...] = (claim_path + ("accessModes",),)
    if set_mode:
        touched += (claim_path + ("volumeMode",),)

    def apply(d: Any, orig: Original) -> list[Expectation]:
        c = node_at(d, claim_path)
        am = c.get("accessModes")
        if isinstance(am, list) and len(am) == 1:
            am[0] = type(am[0])(RWX) if type(am[0]) is not str else RWX
        elif isinstance(am, list):
            del am[:]
            am.append(RWX)
        else:
            c.insert(0, "accessModes", _new_seq([RWX], _flow(c)))
        out: list[Expectation] = [(claim_path + ("accessModes",), [RWX])]
        if set_mode:
            assert mode is not None
            if "volumeMode" in c:
                c["volumeMode"] = mode
            else:
                c.insert(list(c.keys()).index("accessModes") + 1, "volumeMode", mode)
            out.append((claim_path + ("volumeMode",), mode))
        return out

    what = f"accessModes [{RWX}]" + (f" and volumeMode {mode}" if set_mode else "")
    return [
        Edit(
            ("rwx", spec_path),
            f"request {what} in {_path_text(claim_path)} (storage class {info.get('origin')} "
            "offers it; the disk becomes a new, shared claim)",
            touched,
            apply,
        )
    ]
