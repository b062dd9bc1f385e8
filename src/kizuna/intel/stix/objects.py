"""Fast STIX 2.1 object validation on plain dicts (the hub's ingest path).

``check_object(obj)`` returns a ``Checked`` (what the store and access control need: id,
type, normalised version, marking refs, recipients) or a ``Rejected`` with one sentence
saying why. It never builds a ``stix2`` object: each check is a dict lookup, a compiled
regular expression or a comparison, so an indicator costs a few microseconds plus its
pattern (validated by ``kizuna.intel.stix.patterns`` when present, else by the OASIS
``stix2-patterns`` validator, with a cache for repeated patterns).

What is checked (STIX 2.1, section numbers of the specification):

* ``type`` (2.9: 3-250 of ``a-z 0-9 -``), ``id`` (``<type>--<RFC 4122 UUID>``, same type);
* ``spec_version == "2.1"`` (required except on SCOs, where it is optional);
* ``created``/``modified`` on SDOs, SROs, language-content and extension-definition
  (required, STIX timestamps ending in ``Z``, ``modified >= created``); ``created`` on
  marking definitions; other timestamps of known properties;
* the required properties of each SDO, SRO and common SCO type;
* every top-level ``*_ref`` / ``*_refs`` is an identifier (list);
* indicators: ``pattern``, ``pattern_type``, ``valid_from``, ``valid_until > valid_from``;
  ``pattern_type == "stix"`` patterns against the STIX patterning grammar;
* ``object_marking_refs`` and granular ``marking_ref`` are marking-definition ids (whether
  they resolve is the hub's job, which knows the stored marking definitions);
* ``x_kizuna_recipients`` (the hub's custom property) is a list of identity ids.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from kizuna.errors import InputError

RECIPIENTS = "x_kizuna_recipients"

_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
_ID = re.compile(rf"^([a-z0-9][a-z0-9-]{{1,248}}[a-z0-9])--{_UUID}$")
_TIMESTAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$")
_PROPERTY = re.compile(r"^[a-z0-9_]{3,250}$")

SDO_TYPES = frozenset(
    [
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
    ]
)
SRO_TYPES = frozenset(("relationship", "sighting"))
SCO_TYPES = frozenset(
    [
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    ]
)
META_VERSIONED = frozenset(("language-content", "extension-definition"))

_REQUIRED: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "language-content": ("object_ref", "object_modified", "contents"),
    "extension-definition": ("created_by_ref", "name", "schema", "version", "extension_types"),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("is_multipart",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("protocols",),
    "software": ("name",),
    "url": ("value",),
}
_ONE_OF: dict[str, tuple[str, ...]] = {
    "file": ("hashes", "name"),
    "artifact": ("payload_bin", "url"),
    "location": ("region", "country", "latitude"),
}
_TIMESTAMPS = (
    "first_seen",
    "last_seen",
    "first_observed",
    "last_observed",
    "published",
    "valid_from",
    "valid_until",
    "start_time",
    "stop_time",
    "object_modified",
)
_COMMON = frozenset(
    [
        "type",
        "id",
        "spec_version",
        "created",
        "modified",
        "created_by_ref",
        "revoked",
        "labels",
        "confidence",
        "lang",
        "external_references",
        "object_marking_refs",
        "granular_markings",
        "extensions",
        "defanged",
    ]
)


# Property names already found valid: a feed uses a small vocabulary, so the regular
# expression runs once per name rather than once per property (bounded, in case of abuse).
_GOOD_NAMES: set[str] = set()
_GOOD_NAMES_MAX = 10_000


class StixError(InputError):
    """A STIX object that the hub does not accept (the reason is the message)."""

    code = "invalid-stix"


@dataclass(frozen=True, slots=True)
class Checked:
    """A valid object: what storing and access control need, without re-reading it."""

    obj: Mapping[str, Any]  # exactly as posted
    id: str
    type: str
    version: str  # normalised modified (or created; "" for unversioned SCOs)
    spec_version: str
    marking_refs: tuple[str, ...]  # object_marking_refs + granular marking_refs
    recipients: tuple[str, ...]  # identity ids from x_kizuna_recipients


@dataclass(frozen=True, slots=True)
class Rejected:
    id: str | None
    version: str | None
    reason: str


def normalise_timestamp(value: object) -> str:
    """A STIX timestamp as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (fixed width, sorts as text).

    Raises ``ValueError`` for anything else, including more than microsecond precision
    (which the fixed width cannot hold without changing the order).
    """
    if not isinstance(value, str):
        raise ValueError("is not a string")
    match = _TIMESTAMP.match(value)
    if match is None:
        raise ValueError("is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59))
    except ValueError:
        raise ValueError("is not a real date and time") from None
    fraction = (fraction or "").rstrip("0") if len(fraction or "") > 6 else fraction or ""
    if len(fraction) > 6:
        raise ValueError("is more precise than a microsecond, which the hub cannot order")
    return f"{value[:19]}.{fraction.ljust(6, '0')}Z"


def check_object(obj: object) -> Checked | Rejected:
    """Validate one object; never raises for bad input."""
    if not isinstance(obj, Mapping):
        return Rejected(None, None, "the item is not a JSON object")
    object_id = obj.get("id")
    shown_id = object_id if isinstance(object_id, str) else None
    version = _shown_version(obj)
    try:
        return _check(obj)
    except StixError as exc:
        return Rejected(shown_id, version, exc.message)


def _shown_version(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("modified", obj.get("created"))
    return value if isinstance(value, str) else None


def _check(obj: Mapping[str, Any]) -> Checked:
    object_type, object_id = _identity(obj)
    spec_version = obj.get("spec_version")
    is_sco = object_type in SCO_TYPES or (
        object_type not in SDO_TYPES
        and "created" not in obj
        and object_type != "marking-definition"
    )
    if spec_version is None and is_sco:
        spec_version = "2.1"
    if spec_version != "2.1":
        raise StixError(f'spec_version must be "2.1", not {spec_version!r}')
    version = _version(obj, object_type, is_sco)
    _required(obj, object_type)
    _properties(obj)
    if object_type == "indicator":
        _indicator(obj)
    elif object_type == "marking-definition":
        _marking_definition(obj)
    markings = _marking_refs(obj)
    recipients = _recipients(obj)
    return Checked(obj, object_id, object_type, version, spec_version, markings, recipients)


def _identity(obj: Mapping[str, Any]) -> tuple[str, str]:
    object_type, object_id = obj.get("type"), obj.get("id")
    if not isinstance(object_type, str) or not _TYPE.match(object_type):
        raise StixError(f"type {object_type!r} is not a STIX type name (3-250 of a-z, 0-9, -)")
    if object_type == "bundle":
        raise StixError("a bundle is not an object; post its objects in the envelope")
    if not isinstance(object_id, str):
        raise StixError("the property 'id' is required")
    match = _ID.match(object_id)
    if match is None:
        raise StixError(f"id {object_id!r} is not <type>--<RFC 4122 UUID>")
    if match.group(1) != object_type:
        raise StixError(f"id {object_id!r} does not start with its type {object_type!r}")
    return object_type, object_id


@lru_cache(maxsize=1024)
def _normalised(value: str) -> str:
    """``normalise_timestamp`` memoised: one object's created, modified and valid_from are
    usually the same text, and so are those of a feed's batch."""
    return normalise_timestamp(value)


def _timestamp(obj: Mapping[str, Any], name: str) -> str:
    value = obj[name]
    try:
        return _normalised(value) if type(value) is str else normalise_timestamp(value)
    except ValueError as exc:
        raise StixError(f"{name} {obj[name]!r} {exc}") from None


def _version(obj: Mapping[str, Any], object_type: str, is_sco: bool) -> str:
    if object_type == "marking-definition":
        if "created" not in obj:
            raise StixError("the property 'created' is required for a marking-definition")
        return _timestamp(obj, "created")
    if is_sco:
        return ""
    for name in ("created", "modified"):
        if name not in obj:
            raise StixError(f"the property {name!r} is required for a {object_type}")
    created, modified = _timestamp(obj, "created"), _timestamp(obj, "modified")
    if modified < created:
        raise StixError(f"modified {obj['modified']} is earlier than created {obj['created']}")
    return modified


def _required(obj: Mapping[str, Any], object_type: str) -> None:
    for name in _REQUIRED.get(object_type, ()):
        value = obj.get(name)
        if value is None or value in ("", []):
            raise StixError(f"the property {name!r} is required for a {object_type}")
    either = _ONE_OF.get(object_type)
    if either and not any(name in obj for name in either):
        names = ", ".join(repr(name) for name in either)
        raise StixError(f"a {object_type} needs at least one of {names}")
    if object_type == "malware" and obj.get("is_family") is True and not obj.get("name"):
        raise StixError("a malware family (is_family true) needs a 'name'")


def _properties(obj: Mapping[str, Any]) -> None:
    for name, value in obj.items():
        if name in _COMMON:
            continue
        if name not in _GOOD_NAMES:
            if not (type(name) is str and _PROPERTY.match(name)):
                raise StixError(f"property name {name!r} is not 3-250 of a-z, 0-9, _")
            if len(_GOOD_NAMES) < _GOOD_NAMES_MAX:
                _GOOD_NAMES.add(name)
        if name.endswith("_ref"):
            if not isinstance(value, str) or not _ID.match(value):
                raise StixError(f"{name} {value!r} is not a STIX identifier")
        elif name.endswith("_refs"):
            _id_list(name, value)
        elif name in _TIMESTAMPS:
            _timestamp(obj, name)
    created_by = obj.get("created_by_ref")
    if created_by is not None and not (
        isinstance(created_by, str)
        and created_by.startswith("identity--")
        and _ID.match(created_by)
    ):
        raise StixError(f"created_by_ref {created_by!r} is not an identity id")
    revoked = obj.get("revoked")
    if revoked is not None and not isinstance(revoked, bool):
        raise StixError("revoked must be true or false")


def _id_list(name: str, value: object, prefix: str = "") -> list[str]:
    if not isinstance(value, list) or not value:
        raise StixError(f"{name} must be a non-empty list of identifiers")
    for item in value:
        if not isinstance(item, str) or not item.startswith(prefix) or not _ID.match(item):
            wanted = prefix.removesuffix("--")
            article = "an" if wanted[:1] in ("a", "e", "i", "o", "u") else "a"
            kind = f"{article} {wanted} id" if prefix else "a STIX identifier"
            raise StixError(f"{name} contains {item!r}, which is not {kind}")
    return value


def _indicator(obj: Mapping[str, Any]) -> None:
    pattern, pattern_type = obj["pattern"], obj["pattern_type"]
    if not isinstance(pattern, str) or not isinstance(pattern_type, str):
        raise StixError("an indicator's pattern and pattern_type must be strings")
    valid_from = _timestamp(obj, "valid_from")
    if "valid_until" in obj and _timestamp(obj, "valid_until") <= valid_from:
        raise StixError("valid_until must be later than valid_from")
    if pattern_type == "stix":
        reason = pattern_error(pattern)
        if reason is not None:
            raise StixError(f"the STIX pattern is invalid: {reason}")


def _marking_definition(obj: Mapping[str, Any]) -> None:
    has_definition = "definition_type" in obj and "definition" in obj
    if not has_definition and not isinstance(obj.get("extensions"), Mapping):
        raise StixError("a marking-definition needs definition_type and definition, or extensions")
    if "modified" in obj:
        raise StixError("a marking-definition has no 'modified' (marking definitions never change)")


def _marking_refs(obj: Mapping[str, Any]) -> tuple[str, ...]:
    refs: list[str] = []
    if "object_marking_refs" in obj:
        refs.extend(
            _id_list("object_marking_refs", obj["object_marking_refs"], "marking-definition--")
        )
    granular = obj.get("granular_markings")
    if granular is not None:
        if not isinstance(granular, list) or not granular:
            raise StixError("granular_markings must be a non-empty list")
        for item in granular:
            ref = item.get("marking_ref") if isinstance(item, Mapping) else None
            if ref is not None:
                refs.extend(
                    _id_list("granular_markings marking_ref", [ref], "marking-definition--")
                )
            elif not (isinstance(item, Mapping) and isinstance(item.get("lang"), str)):
                raise StixError("each granular marking needs a marking_ref or a lang")
    return tuple(dict.fromkeys(refs))


def _recipients(obj: Mapping[str, Any]) -> tuple[str, ...]:
    if RECIPIENTS not in obj:
        return ()
    return tuple(dict.fromkeys(_id_list(RECIPIENTS, obj[RECIPIENTS], "identity--")))


# ---------------------------------------------------------------- patterns


@lru_cache(maxsize=65536)
def pattern_error(pattern: str) -> str | None:
    """Why a STIX pattern is invalid, or None; results are cached by pattern text."""
    return _pattern_checker()(pattern)


@cache
def _pattern_checker() -> Callable[[str], str | None]:
    """The fast parser when it is installed, else the OASIS reference validator."""
    try:
        patterns = importlib.import_module("kizuna.intel.stix.patterns")
    except ImportError:
        return _reference_check
    validate: Callable[[str], None] = patterns.validate_pattern

    def fast(pattern: str) -> str | None:
        try:
            validate(pattern)
        except InputError as exc:
            return exc.message
        return None

    return fast


def _reference_check(pattern: str) -> str | None:
    validator = importlib.import_module("stix2patterns.validator")  # slow import: lazily
    errors: list[str] = validator.run_validator(pattern, stix_version="2.1")
    if not errors:
        return None
    return "; ".join(str(error).removeprefix("FAIL: ") for error in errors)
