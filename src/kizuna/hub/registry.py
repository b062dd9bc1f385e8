"""The hub's configuration in the store's key-value side: orgs, keys, groups, roots, collections.

Each kind has a namespace (``hub:orgs``, ``hub:keys``, ...) holding one JSON value per name;
this module turns those values into the contract's dataclasses and back. It works on
anything with ``kv_get`` (a ``Store`` or a ``Transaction``), so writes can join a
transaction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from typing import Any, Protocol

from kizuna.errors import InputError
from kizuna.hub.contract import (
    ApiRoot,
    Collection,
    KeyInfo,
    Organisation,
    SharingGroup,
    Tlp,
)

ORGS = "hub:orgs"
KEYS = "hub:keys"
GROUPS = "hub:groups"
ROOTS = "hub:roots"
COLLECTIONS = "hub:collections"
IDENTITY_ORGS = "hub:identity-orgs"  # identity id -> organisation name
MARKINGS = "hub:markings"  # marking-definition id -> {"tlp": level | None, "org": name}
STATUS = "hub:status"
SETTINGS = "hub:settings"
IDENTITIES = "hub:identities"  # records: the STIX identities of the node and the orgs
AUDIT = "hub:audit"  # records: the audit log

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KEY = re.compile(r"^kz_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class KvReader(Protocol):
    def kv_get(self, namespace: str, key: str, default: Any = None) -> Any: ...


def is_slug(value: object) -> bool:
    return isinstance(value, str) and _SLUG.match(value) is not None


def check_slug(value: object, what: str) -> str:
    """A name used in URLs and lists: lower-case letters, digits and hyphens."""
    if not isinstance(value, str) or not _SLUG.match(value):
        raise InputError(
            f"the {what} name {value!r} is not a lower-case slug",
            hint="use 1-63 of a-z, 0-9 and -, starting with a letter or digit",
            field=what,
        )
    return value


def check_identity(value: object) -> str:
    """A STIX identity id, ``identity--<uuid>`` (lower-case)."""
    text = value.lower() if isinstance(value, str) else ""
    if not text.startswith("identity--") or not _UUID.match(text.removeprefix("identity--")):
        raise InputError(f"{value!r} is not a STIX identity id",
                         hint="identity ids look like identity--<uuid>; copy the one "
                              "`kizuna hub org list` shows on the organisation's own node",
                         field="identity")
    return text


def check_uuid(value: object, what: str = "collection id") -> str:
    if not isinstance(value, str) or not _UUID.match(value.lower()):
        raise InputError(f"the {what} {value!r} is not a UUID", field=what)
    return value.lower()


# ---------------------------------------------------------------- keys


def new_key() -> tuple[str, str]:
    """A fresh API key: (public key id ``kz_<12 hex>``, the full secret shown once)."""
    key_hex = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)  # 32 random bytes -> 43 characters
    return f"kz_{key_hex}", f"kz_{key_hex}_{secret}"


def split_key(secret: str) -> str | None:
    """The public key id of a well-formed key, or None."""
    match = _KEY.match(secret)
    return f"kz_{match.group(1)}" if match else None


def hash_key(secret: str) -> str:
    """SHA-256 of the whole key (the key has 256 random bits; see docs/hub.md)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(secret), stored_hash)


def key_to_json(info: KeyInfo, digest: str) -> dict[str, Any]:
    return {
        "key_id": info.key_id,
        "org": info.org,
        "created": info.created,
        "revoked": info.revoked,
        "demo": info.demo,
        "hash": digest,
    }


def key_from_json(value: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        key_id=value["key_id"],
        org=value["org"],
        created=value["created"],
        revoked=value.get("revoked"),
        demo=bool(value.get("demo", False)),
    )


# ---------------------------------------------------------------- orgs, groups, roots


def org_to_json(org: Organisation) -> dict[str, Any]:
    return dataclasses.asdict(org)


def org_from_json(value: dict[str, Any]) -> Organisation:
    return Organisation(
        name=value["name"],
        identity_id=value["identity_id"],
        title=value["title"],
        created=value["created"],
        demo=bool(value.get("demo", False)),
        remote=bool(value.get("remote", False)),
    )


def group_from_json(value: dict[str, Any]) -> SharingGroup:
    return SharingGroup(name=value["name"], members=frozenset(value["members"]))


def root_to_json(root: ApiRoot) -> dict[str, Any]:
    return dataclasses.asdict(root)


def root_from_json(value: dict[str, Any]) -> ApiRoot:
    return ApiRoot(
        name=value["name"],
        title=value["title"],
        description=value.get("description", ""),
        max_content_length=int(value["max_content_length"]),
    )


# ---------------------------------------------------------------- collections


def collection_key(root: str, collection_id: str) -> str:
    return f"{root}/{collection_id}"


def namespace_of(collection: Collection) -> str:
    """The store namespace holding a collection's objects (docs/store.md)."""
    return f"taxii:{collection.root}:{collection.id}"


def collection_to_json(collection: Collection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "root": collection.root,
        "title": collection.title,
        "description": collection.description,
        "readers": sorted(collection.readers),
        "writers": sorted(collection.writers),
        "sharing_group": collection.sharing_group,
        "default_tlp": int(collection.default_tlp),
    }


def collection_from_json(value: dict[str, Any]) -> Collection:
    return Collection(
        id=value["id"],
        root=value["root"],
        title=value["title"],
        description=value.get("description", ""),
        readers=frozenset(value.get("readers", ())),
        writers=frozenset(value.get("writers", ())),
        sharing_group=value.get("sharing_group"),
        default_tlp=Tlp(int(value.get("default_tlp", int(Tlp.AMBER)))),
    )


def load_collection(kv: KvReader, root: str, collection_id: str) -> Collection | None:
    if not isinstance(collection_id, str) or len(collection_id) > 64:
        return None
    value = kv.kv_get(COLLECTIONS, collection_key(root, collection_id.lower()))
    return None if value is None else collection_from_json(value)


def load_group(kv: KvReader, name: str | None) -> SharingGroup | None:
    if name is None:
        return None
    value = kv.kv_get(GROUPS, name)
    return None if value is None else group_from_json(value)
