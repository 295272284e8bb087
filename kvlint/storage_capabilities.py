"""CDI's built-in storage-provisioner capability table.

CDI (containerized-data-importer) fills a StorageClass's StorageProfile with an
ordered list of (accessMode, volumeMode) pairs taken from a table of well-known
provisioners; the first pair is what a DataVolume gets when it does not say
otherwise. That table lives in ``kvlint/data/storage-capabilities.yaml`` (see its
header for the format and how to refresh it). This module loads it lazily, on the
first call, and answers questions about it:

* :func:`provisioner_key` - the table key CDI uses for a StorageClass (some
  provisioners choose a key from the StorageClass ``parameters``);
* :func:`capabilities` - the ordered pairs, or ``None`` when CDI has none;
* :func:`is_unsupported` - whether CDI lists the provisioner as not working;
* :func:`source_commit` - the CDI commit the data was taken from.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

__all__ = [
    "ACCESS_MODES",
    "DATA_FILE",
    "VOLUME_MODES",
    "capabilities",
    "is_unsupported",
    "provisioner_key",
    "source_commit",
    "source_label",
]

DATA_FILE = Path(__file__).resolve().parent / "data" / "storage-capabilities.yaml"

ACCESS_MODES = frozenset({"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"})
VOLUME_MODES = frozenset({"Filesystem", "Block"})

# The one provisioner for which CDI derives capabilities from existing PVs at run time.
_NO_PROVISIONER = "kubernetes.io/no-provisioner"

_TESTS = ("equals", "prefix", "contains", "nonEmpty", "present", "splitContainsAll")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class _ParamMatcher:
    parameter: str
    lowercase: bool
    test: str
    values: tuple[str, ...] = ()  # equals
    text: str = ""  # prefix / contains
    separator: re.Pattern[str] | None = None  # splitContainsAll
    items: tuple[str, ...] = ()  # splitContainsAll

    def matches(self, parameters: Mapping[str, str]) -> bool:
        if self.test == "present":
            return self.parameter in parameters
        value = parameters.get(self.parameter, "")
        if self.lowercase:
            value = value.lower()
        if self.test == "equals":
            return value in self.values
        if self.test == "prefix":
            return value.startswith(self.text)
        if self.test == "contains":
            return self.text in value
        if self.test == "nonEmpty":
            return value != ""
        # splitContainsAll
        assert self.separator is not None
        pieces = self.separator.split(value)
        return all(item in pieces for item in self.items)


@dataclass(frozen=True)
class _AllMatcher:
    matchers: tuple[_Matcher, ...]

    def matches(self, parameters: Mapping[str, str]) -> bool:
        return all(m.matches(parameters) for m in self.matchers)


_Matcher: TypeAlias = "_ParamMatcher | _AllMatcher"


@dataclass(frozen=True)
class _Rule:
    when: _Matcher
    key: str


@dataclass(frozen=True)
class _KeyMapper:
    rules: tuple[_Rule, ...]
    default: str

    def apply(self, parameters: Mapping[str, str]) -> str:
        for rule in self.rules:
            if rule.when.matches(parameters):
                return rule.key
        return self.default


@dataclass(frozen=True)
class _Table:
    commit: str
    provisioners: Mapping[str, tuple[tuple[str, str], ...]]
    key_mappers: Mapping[str, _KeyMapper]
    unsupported: frozenset[str]


# --------------------------------------------------------------------------- parsing


class DataError(ValueError):
    """The capability data file is malformed."""


def _mapping(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise DataError(f"{where}: expected a mapping with string keys")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"{where}: expected a string, got {value!r}")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not value:
        raise DataError(f"{where}: expected a string or a non-empty list of strings")
    return tuple(_string(v, where) for v in value)


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise DataError(f"{where}: expected true or false, got {value!r}")
    return value


def _parse_pairs(value: object, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not value:
        raise DataError(f"{where}: expected a non-empty list of [accessMode, volumeMode]")
    pairs: list[tuple[str, str]] = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2):
            raise DataError(f"{where}: expected [accessMode, volumeMode], got {item!r}")
        access, volume = _string(item[0], where), _string(item[1], where)
        if access not in ACCESS_MODES:
            raise DataError(f"{where}: unknown access mode {access!r}")
        if volume not in VOLUME_MODES:
            raise DataError(f"{where}: unknown volume mode {volume!r}")
        pairs.append((access, volume))
    return tuple(pairs)


def _parse_matcher(value: object, where: str) -> _Matcher:
    spec = _mapping(value, where)
    if "all" in spec:
        if len(spec) != 1:
            raise DataError(f"{where}: 'all' must be the only key")
        parts = spec["all"]
        if not isinstance(parts, list) or not parts:
            raise DataError(f"{where}: 'all' needs a non-empty list")
        return _AllMatcher(tuple(_parse_matcher(p, f"{where}.all") for p in parts))

    unknown = set(spec) - {"parameter", "lowercase", *_TESTS}
    if unknown:
        raise DataError(f"{where}: unknown matcher keys {sorted(unknown)}")
    tests = [t for t in _TESTS if t in spec]
    if len(tests) != 1:
        raise DataError(f"{where}: need exactly one of {list(_TESTS)}")
    test = tests[0]
    parameter = _string(spec.get("parameter"), f"{where}.parameter")
    lowercase = _flag(spec.get("lowercase", False), f"{where}.lowercase")
    arg = spec[test]
    if test == "equals":
        return _ParamMatcher(parameter, lowercase, test, values=_strings(arg, where))
    if test in ("prefix", "contains"):
        return _ParamMatcher(parameter, lowercase, test, text=_string(arg, where))
    if test in ("nonEmpty", "present"):
        if arg is not True:
            raise DataError(f"{where}: {test} must be true")
        return _ParamMatcher(parameter, lowercase, test)
    split = _mapping(arg, f"{where}.splitContainsAll")
    try:
        separator = re.compile(_string(split.get("separator"), f"{where}.separator"))
    except re.error as exc:
        raise DataError(f"{where}.separator: bad regex: {exc}") from exc
    items = _strings(split.get("items"), f"{where}.items")
    return _ParamMatcher(parameter, lowercase, test, separator=separator, items=items)


def _parse_mapper(value: object, where: str) -> _KeyMapper:
    spec = _mapping(value, where)
    default = _string(spec.get("default"), f"{where}.default")
    if "rules" in spec:
        unknown = set(spec) - {"rules", "default"}
        if unknown:
            raise DataError(f"{where}: unknown keys {sorted(unknown)}")
        raw_rules = spec["rules"]
        if not isinstance(raw_rules, list):
            raise DataError(f"{where}.rules: expected a list")
        rules: list[_Rule] = []
        for i, raw in enumerate(raw_rules):
            rule = _mapping(raw, f"{where}.rules[{i}]")
            if set(rule) != {"when", "key"}:
                raise DataError(f"{where}.rules[{i}]: expected exactly 'when' and 'key'")
            when = _parse_matcher(rule["when"], f"{where}.rules[{i}].when")
            rules.append(_Rule(when, _string(rule["key"], f"{where}.rules[{i}].key")))
        return _KeyMapper(tuple(rules), default)

    # Lookup form: desugar into one `equals` rule per value, in file order.
    unknown = set(spec) - {"parameter", "lowercase", "values", "default"}
    if unknown:
        raise DataError(f"{where}: unknown keys {sorted(unknown)}")
    parameter = _string(spec.get("parameter"), f"{where}.parameter")
    lowercase = _flag(spec.get("lowercase", False), f"{where}.lowercase")
    values = _mapping(spec.get("values"), f"{where}.values")
    lookup = tuple(
        _Rule(
            _ParamMatcher(parameter, lowercase, "equals", values=(val,)),
            _string(key, f"{where}.values.{val}"),
        )
        for val, key in values.items()
    )
    return _KeyMapper(lookup, default)


def _parse(document: object) -> _Table:
    root = _mapping(document, "document")
    source = _mapping(root.get("source"), "source")
    commit = _string(source.get("commit"), "source.commit")

    provisioners = {
        _string(name, "provisioners"): _parse_pairs(pairs, f"provisioners.{name}")
        for name, pairs in _mapping(root.get("provisioners"), "provisioners").items()
    }
    key_mappers = {
        name: _parse_mapper(spec, f"keyMappers.{name}")
        for name, spec in _mapping(root.get("keyMappers", {}), "keyMappers").items()
    }
    raw_unsupported = root.get("unsupported", [])
    if not isinstance(raw_unsupported, list):
        raise DataError("unsupported: expected a list")
    unsupported = frozenset(_string(p, "unsupported") for p in raw_unsupported)
    return _Table(commit, provisioners, key_mappers, unsupported)


@functools.lru_cache(maxsize=1)
def _table() -> _Table:
    import yaml  # deferred: no import-time work beyond the stdlib

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with DATA_FILE.open(encoding="utf-8") as fh:
        document: object = yaml.load(fh, Loader=loader)
    return _parse(document)


# --------------------------------------------------------------------------- public API


def provisioner_key(provisioner: str, parameters: Mapping[str, str]) -> str:
    """Return the table key CDI uses for a StorageClass.

    Provisioners with a key mapper pick the key from ``parameters`` (the key may
    be ``"UNKNOWN"`` or another name absent from the table); all others use the
    provisioner name itself.
    """
    mapper = _table().key_mappers.get(provisioner)
    return mapper.apply(parameters) if mapper is not None else provisioner


def capabilities(provisioner: str, parameters: Mapping[str, str]) -> list[tuple[str, str]] | None:
    """Return CDI's ordered (accessMode, volumeMode) pairs for a StorageClass.

    The first pair is CDI's default. Returns ``None`` when CDI has no built-in
    entry: unknown provisioners, mapper results that are not in the table, and
    unsupported provisioners (including ``kubernetes.io/no-provisioner``, whose
    pairs CDI derives from live PersistentVolumes).
    """
    table = _table()
    if provisioner in table.unsupported or provisioner == _NO_PROVISIONER:
        return None
    pairs = table.provisioners.get(provisioner_key(provisioner, parameters))
    return list(pairs) if pairs is not None else None


def is_unsupported(provisioner: str) -> bool:
    """Whether CDI lists ``provisioner`` as known not to work with it."""
    return provisioner in _table().unsupported


def source_commit() -> str:
    """The CDI commit the data was taken from (as recorded in the data file)."""
    return _table().commit


def source_label() -> str:
    """The CDI source in words: ``CDI commit 0123456789ab`` for a recorded sha, else a
    plain statement that the commit is not recorded (never a cut-off word)."""
    import re

    commit = source_commit().strip()
    if re.fullmatch(r"[0-9a-f]{7,40}", commit):
        return f"CDI commit {commit[:12]}"
    return "CDI table; its commit is not recorded"
