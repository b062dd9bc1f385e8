"""The contract between the hub's service layer and its edges (TAXII routes, CLI, web).

``kizuna.hub.service.Hub`` implements ``HubService``; the TAXII 2.1 routes
(``kizuna.web.taxii``) and the ``kizuna hub`` commands call only what is declared here and
format the results. Everything is plain data: dicts shaped as the TAXII 2.1 resources
(discovery, api-root, collection, envelope, manifest, versions, status) so the routes only
serialise them.

Errors are ``kizuna.errors`` classes; the TAXII routes render them as TAXII error messages
with the class's HTTP status:

* ``AuthError`` (401) — no or bad credentials;
* ``kizuna.errors.ForbiddenError``-like denial (403) — authenticated but not allowed;
  an object or collection the actor may not see is reported as 404, never 403, so its
  existence does not leak;
* ``NotFoundError`` (404), ``InputError`` (400), ``ConflictError`` (409),
  ``PayloadTooLarge`` (413), ``UnsupportedMediaType`` (415), ``NotAcceptable`` (406).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal, Protocol

from kizuna.errors import KizunaError

# --------------------------------------------------------------------------- errors


class AuthError(KizunaError):
    """Missing, malformed, unknown or revoked credentials."""

    status = 401
    code = "unauthorized"


class ForbiddenError(KizunaError):
    """Authenticated, but the action is denied (the explanation is in ``fields['reason']``)."""

    status = 403
    code = "forbidden"


class PayloadTooLarge(KizunaError):
    status = 413
    code = "payload-too-large"


class UnsupportedMediaType(KizunaError):
    status = 415
    code = "unsupported-media-type"


class NotAcceptable(KizunaError):
    status = 406
    code = "not-acceptable"


# --------------------------------------------------------------------------- model


class Tlp(IntEnum):
    """TLP 2.0 levels, ordered from least to most restricted."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4


@dataclass(frozen=True)
class Organisation:
    name: str  # lower-case slug, e.g. "tokyo-cert"
    identity_id: str  # the STIX identity that stands for it as producer: "identity--<uuid>"
    title: str
    created: str  # STIX timestamp
    demo: bool = False
    remote: bool = False  # an organisation of another node, known here by its identity there


@dataclass(frozen=True)
class KeyInfo:
    """An API key as stored: never the secret, only a hash and a short public prefix."""

    key_id: str  # short public id, e.g. "kz_7f3a9c" (the secret's prefix)
    org: str
    created: str
    revoked: str | None = None
    demo: bool = False


@dataclass(frozen=True)
class SharingGroup:
    name: str
    members: frozenset[str]  # organisation names


@dataclass(frozen=True)
class ApiRoot:
    name: str  # the URL path segment under /taxii2/
    title: str
    description: str = ""
    max_content_length: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class Collection:
    id: str  # UUID (kept stable with --id when mirrored across nodes)
    root: str
    title: str
    description: str = ""
    readers: frozenset[str] = frozenset()  # organisation names
    writers: frozenset[str] = frozenset()
    sharing_group: str | None = None  # None: TLP:AMBER goes to the readers
    default_tlp: Tlp = Tlp.AMBER  # for objects without a TLP marking (fail towards restriction)


@dataclass(frozen=True)
class Actor:
    """Who is asking. ``org`` None is anonymous; ``admin`` is the local CLI operator."""

    org: str | None
    key_id: str | None = None
    admin: bool = False


Action = Literal["discover", "read", "write", "delete", "read_status", "admin"]


@dataclass(frozen=True)
class ObjectAccess:
    """What access control needs to know about one stored object version."""

    collection: Collection
    producer: str  # organisation name
    tlp: Tlp
    recipients: frozenset[str] = frozenset()  # organisations named by the producer
    origin: str = ""  # the peer node it was received from ("" when posted here)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # one sentence, e.g. "TLP:RED is limited to the producer and its recipients"

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class ObjectFilter:
    """TAXII 2.1 filtering for objects, manifest, versions."""

    ids: Sequence[str] = ()
    types: Sequence[str] = ()
    versions: Sequence[str] = ("last",)  # "first" | "last" | "all" | timestamps
    spec_versions: Sequence[str] = ()
    added_after: str | None = None  # TAXII timestamp
    limit: int | None = None
    next: str | None = None  # opaque, stateless token


@dataclass(frozen=True)
class Page:
    """A TAXII page: the resource body plus the X-TAXII-Date-Added-First/Last headers."""

    body: dict[str, Any]  # {"more": bool, "next": str?, "objects": [...]} or manifest/versions
    date_added_first: str | None = None
    date_added_last: str | None = None


@dataclass(frozen=True)
class Node:
    """This hub's own identity (federation, a later issue, builds on it)."""

    name: str
    identity_id: str
    url: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str  # org name, "admin" or "anonymous"
    action: str  # e.g. "objects.add", "key.create", "deny"
    target: str
    outcome: str  # "ok" | "denied" | "error"
    detail: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- service


class HubService(Protocol):
    """The operations the edges call. ``actor`` is always the first argument after self."""

    node: Node

    # -- identity and credentials
    def authenticate(self, secret: str | None) -> Actor: ...
    def add_org(self, actor: Actor, name: str, *, title: str | None = None,
                demo: bool = False, identity_id: str | None = None) -> Organisation: ...
    def orgs(self, actor: Actor) -> list[Organisation]: ...
    def create_key(self, actor: Actor, org: str, *,
                   demo: bool = False) -> tuple[str, KeyInfo]: ...
    def revoke_key(self, actor: Actor, key_id: str) -> KeyInfo: ...
    def keys(self, actor: Actor, org: str | None = None) -> list[KeyInfo]: ...
    def has_demo_keys(self) -> bool: ...  # a usable demo key exists (production refuses)
    def add_group(self, actor: Actor, name: str, members: Sequence[str]) -> SharingGroup: ...
    def groups(self, actor: Actor) -> list[SharingGroup]: ...

    # -- roots and collections
    def add_root(
        self, actor: Actor, name: str, *, title: str | None = None, description: str = ""
    ) -> ApiRoot: ...
    def add_collection(
        self,
        actor: Actor,
        root: str,
        *,
        title: str,
        id: str | None = None,
        readers: Sequence[str] = (),
        writers: Sequence[str] = (),
        sharing_group: str | None = None,
        description: str = "",
        default_tlp: Tlp = Tlp.AMBER,
    ) -> Collection: ...
    def change_access(
        self,
        actor: Actor,
        root: str,
        collection_id: str,
        *,
        add_readers: Sequence[str] = (),
        add_writers: Sequence[str] = (),
        remove_readers: Sequence[str] = (),
        remove_writers: Sequence[str] = (),
    ) -> Collection: ...

    # -- TAXII 2.1 resources (dicts shaped as the spec's resources)
    def discovery(self, actor: Actor) -> dict[str, Any]: ...
    def api_root(self, actor: Actor, root: str) -> dict[str, Any]: ...
    def collections(self, actor: Actor, root: str) -> dict[str, Any]: ...
    def collection(self, actor: Actor, root: str, collection_id: str) -> dict[str, Any]: ...
    def add_objects(
        self, actor: Actor, root: str, collection_id: str, envelope: Mapping[str, Any]
    ) -> dict[str, Any]: ...  # a status resource
    def get_objects(
        self, actor: Actor, root: str, collection_id: str, query: ObjectFilter, *,
        raw: bool = False,
    ) -> Page: ...
    def get_object(
        self, actor: Actor, root: str, collection_id: str, object_id: str, query: ObjectFilter
    ) -> Page: ...
    def delete_object(
        self, actor: Actor, root: str, collection_id: str, object_id: str, query: ObjectFilter
    ) -> None: ...
    def versions(
        self, actor: Actor, root: str, collection_id: str, object_id: str, query: ObjectFilter
    ) -> Page: ...
    def manifest(
        self, actor: Actor, root: str, collection_id: str, query: ObjectFilter
    ) -> Page: ...
    def status(self, actor: Actor, root: str, status_id: str) -> dict[str, Any]: ...

    # -- audit
    def audit(
        self,
        actor: Actor,
        *,
        limit: int = 100,
        since: str | None = None,
        outcome: str | None = None,
    ) -> list[AuditEntry]: ...
