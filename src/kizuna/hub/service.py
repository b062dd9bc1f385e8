"""``Hub``: the TAXII 2.1 hub's service layer (implements ``kizuna.hub.contract.HubService``).

Everything lives in one store (docs/store.md): configuration in the key-value side
(``kizuna.hub.registry``), objects in one namespace per collection, status resources in
``hub:status``, the audit log in ``hub:audit``. The hub keeps no state of its own between
calls, so several processes (or hubs) on one store agree, and a restart loses nothing.
Access decisions all come from ``kizuna.hub.access.allowed``; see docs/access.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal, NoReturn

from kizuna.errors import ConflictError, InputError, NotFoundError
from kizuna.hub import registry as reg
from kizuna.hub.access import StatusAccess, allowed, read_view
from kizuna.hub.audit import audit_record, read_audit
from kizuna.hub.contract import (
    Action,
    Actor,
    ApiRoot,
    AuditEntry,
    AuthError,
    Collection,
    Decision,
    ForbiddenError,
    HubService,
    KeyInfo,
    Node,
    ObjectFilter,
    Organisation,
    Page,
    SharingGroup,
    Tlp,
)
from kizuna.hub.deletes import delete_versions
from kizuna.hub.federation.peers import peer_policy
from kizuna.hub.federation.relay import is_sync_query, relay_in, serve
from kizuna.hub.ingest import ingest
from kizuna.hub.paging import (
    MEDIA_TYPE_STIX,
    MEDIA_TYPE_TAXII,
    fingerprint,
    page_limit,
    parse_timestamp,
    stix_now,
)
from kizuna.hub.reads import ReadRequest, manifest_page, objects_page, versions_page
from kizuna.intel.stix.objects import normalise_timestamp
from kizuna.store import Record, Store
from kizuna.store.values import utc_now

Clock = Callable[[], datetime]


class Hub:
    """The hub over one store. ``clock`` (an aware-datetime callable) is for tests."""

    def __init__(
        self,
        store: Store,
        *,
        node_name: str = "kizuna",
        clock: Clock | None = None,
        title: str = "Kizuna TAXII hub",
        base_path: str = "/taxii2/",
        default_limit: int = 1000,
        max_limit: int = 10_000,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or utc_now
        self.title = title
        self.base_path = base_path if base_path.endswith("/") else base_path + "/"
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.node = self._node(node_name)

    # ------------------------------------------------------------ helpers

    def _stamp(self) -> str:
        return stix_now(self.clock())

    def _node(self, name: str) -> Node:
        with self.store.transaction() as tx:
            value = tx.kv_get(reg.SETTINGS, "node")
            if value is None:
                identity = self._identity(name, "system")
                value = {"name": name, "identity_id": identity["id"], "url": None}
                tx.kv_put(reg.SETTINGS, "node", value)
                tx.put_many(reg.IDENTITIES, [_identity_record(identity)])
        return Node(name=value["name"], identity_id=value["identity_id"], url=value.get("url"))

    def _identity(self, name: str, identity_class: str) -> dict[str, Any]:
        now = self._stamp()
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": f"identity--{uuid.uuid4()}",
            "created": now,
            "modified": now,
            "name": name,
            "identity_class": identity_class,
        }

    def _deny(self, actor: Actor, action: str, target: str, reason: str) -> None:
        record = audit_record(self._stamp(), actor, action, target, "denied", {"reason": reason})
        self.store.put_many(reg.AUDIT, [record])

    def _require(self, actor: Actor, action: Action, target: str, resource: Any = None) -> None:
        decision = allowed(actor, action, resource)
        if not decision:
            self._refuse(actor, action, target, decision)

    def _refuse(
        self, actor: Actor, action: str, target: str, decision: Decision, *, hide: bool = False
    ) -> NoReturn:
        self._deny(actor, action, target, decision.reason)
        if actor.org is None and not actor.admin:
            raise AuthError(decision.reason, hint="send Authorization: Bearer <API key>")
        if hide:
            raise NotFoundError(f"{target} does not exist", target=target)
        raise ForbiddenError(decision.reason, reason=decision.reason)

    def _admin(self, actor: Actor, target: str) -> None:
        self._require(actor, "admin", target)

    def _write_config(
        self,
        actor: Actor,
        action: str,
        target: str,
        puts: Sequence[tuple[str, str, Any]],
        records: Sequence[tuple[str, Record]] = (),
    ) -> None:
        entry = audit_record(self._stamp(), actor, action, target, "ok")
        with self.store.transaction() as tx:
            for namespace, key, value in puts:
                tx.kv_put(namespace, key, value)
            for namespace, record in records:
                tx.put_many(namespace, [record])
            tx.put_many(reg.AUDIT, [entry])

    def _org(self, name: str) -> Organisation:
        value = self.store.kv_get(reg.ORGS, reg.check_slug(name, "organisation"))
        if value is None:
            raise NotFoundError(
                f"no organisation {name!r}",
                hint="add it with: kizuna hub org add NAME",
                field="org",
                value=name,
            )
        return reg.org_from_json(value)

    # ------------------------------------------------------------ identity and credentials

    def authenticate(self, secret: str | None) -> Actor:
        """The actor behind an API key; None or "" is anonymous; anything wrong is a 401."""
        if not secret:
            return Actor(None)
        key_id = reg.split_key(secret)
        if key_id is None:
            self._deny(Actor(None), "auth", "api-key", "malformed API key")
            raise AuthError("the API key is malformed", hint="keys look like kz_<id>_<secret>")
        value = self.store.kv_get(reg.KEYS, key_id)
        problem = None
        if value is None:
            problem = "unknown API key"
        elif value.get("revoked"):
            problem = "revoked API key"
        elif not reg.key_matches(secret, value["hash"]):
            problem = "wrong secret for the API key"
        if problem is not None or value is None:
            self._deny(Actor(None), "auth", key_id, problem or "unknown API key")
            raise AuthError("the API key is unknown or revoked", key_id=key_id)
        return Actor(org=value["org"], key_id=key_id)

    def add_org(
        self, actor: Actor, name: str, *, title: str | None = None, demo: bool = False,
        identity_id: str | None = None,
    ) -> Organisation:
        """Add an organisation. ``identity_id``: an organisation of another node, known here by
        the STIX identity it has there (docs/federation.md), so its objects and the recipients
        naming it mean the same organisation on every node."""
        self._admin(actor, f"org:{name}")
        name = reg.check_slug(name, "organisation")
        if self.store.kv_get(reg.ORGS, name) is not None:
            raise ConflictError(f"the organisation {name!r} already exists", field="org")
        identity = self._identity(title or name, "organization")
        if identity_id is not None:
            identity["id"] = reg.check_identity(identity_id)
            known = self.store.kv_get(reg.IDENTITY_ORGS, identity["id"])
            if known is not None:
                raise ConflictError(f"the identity {identity['id']} is already the "
                                    f"organisation {known!r}", field="identity")
        org = Organisation(name, identity["id"], title or name, identity["created"], demo,
                           remote=identity_id is not None)
        self._write_config(
            actor,
            "org.add",
            f"org:{name}",
            [(reg.ORGS, name, reg.org_to_json(org)), (reg.IDENTITY_ORGS, org.identity_id, name)],
            [(reg.IDENTITIES, _identity_record(identity))],
        )
        return org

    def orgs(self, actor: Actor) -> list[Organisation]:
        self._admin(actor, "orgs")
        return [self._org(name) for name in self.store.kv_keys(reg.ORGS)]

    def create_key(self, actor: Actor, org: str, *, demo: bool = False) -> tuple[str, KeyInfo]:
        """A new key for ``org``: (the secret, shown once; what is stored about it)."""
        self._admin(actor, f"org:{org}")
        self._org(org)
        key_id, secret = reg.new_key()
        info = KeyInfo(key_id=key_id, org=org, created=self._stamp(), demo=demo)
        value = reg.key_to_json(info, reg.hash_key(secret))
        self._write_config(actor, "key.create", key_id, [(reg.KEYS, key_id, value)])
        return secret, info

    def revoke_key(self, actor: Actor, key_id: str) -> KeyInfo:
        self._admin(actor, f"key:{key_id}")
        public = reg.split_key(key_id) or key_id  # a full key given by mistake is not echoed
        value = self.store.kv_get(reg.KEYS, public) if public.startswith("kz_") else None
        if value is None:
            raise NotFoundError(
                "no such API key", hint="list keys with: kizuna hub key list", field="key_id"
            )
        if not value.get("revoked"):
            value = {**value, "revoked": self._stamp()}
            self._write_config(actor, "key.revoke", public, [(reg.KEYS, public, value)])
        return reg.key_from_json(value)

    def keys(self, actor: Actor, org: str | None = None) -> list[KeyInfo]:
        self._admin(actor, "keys")
        found = [
            reg.key_from_json(self.store.kv_get(reg.KEYS, k)) for k in self.store.kv_keys(reg.KEYS)
        ]
        return [key for key in found if org is None or key.org == org]

    def has_demo_keys(self) -> bool:
        """Whether a demo key is still usable (production mode refuses to start then)."""
        return any(key.demo and key.revoked is None for key in self.keys(Actor(None, admin=True)))

    def add_group(self, actor: Actor, name: str, members: Sequence[str]) -> SharingGroup:
        """Create or replace a sharing group of organisations."""
        self._admin(actor, f"group:{name}")
        name = reg.check_slug(name, "group")
        for member in members:
            self._org(member)
        group = SharingGroup(name, frozenset(members))
        value = {"name": name, "members": sorted(group.members)}
        self._write_config(actor, "group.set", f"group:{name}", [(reg.GROUPS, name, value)])
        return group

    def groups(self, actor: Actor) -> list[SharingGroup]:
        self._admin(actor, "groups")
        return [
            reg.group_from_json(self.store.kv_get(reg.GROUPS, name))
            for name in self.store.kv_keys(reg.GROUPS)
        ]

    # ------------------------------------------------------------ roots and collections

    def add_root(
        self,
        actor: Actor,
        name: str,
        *,
        title: str | None = None,
        description: str = "",
        max_content_length: int = 10 * 1024 * 1024,
    ) -> ApiRoot:
        self._admin(actor, f"root:{name}")
        name = reg.check_slug(name, "API root")
        if self.store.kv_get(reg.ROOTS, name) is not None:
            raise ConflictError(f"the API root {name!r} already exists", field="root")
        root = ApiRoot(name, title or name, description, max_content_length)
        puts: list[tuple[str, str, Any]] = [(reg.ROOTS, name, reg.root_to_json(root))]
        if self.store.kv_get(reg.SETTINGS, "default_root") is None:
            puts.append((reg.SETTINGS, "default_root", name))
        self._write_config(actor, "root.add", f"root:{name}", puts)
        return root

    def roots(self, actor: Actor) -> list[ApiRoot]:
        if actor.org is None and not actor.admin:
            raise AuthError("anonymous clients may only use discovery")
        return [
            reg.root_from_json(self.store.kv_get(reg.ROOTS, name))
            for name in self.store.kv_keys(reg.ROOTS)
        ]

    def _root(self, name: str) -> ApiRoot:
        value = self.store.kv_get(reg.ROOTS, name) if reg.is_slug(name) else None
        if value is None:
            raise NotFoundError(f"no API root {name!r}", field="root", value=name)
        return reg.root_from_json(value)

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
    ) -> Collection:
        self._admin(actor, f"root:{root}")
        self._root(root)
        collection_id = reg.check_uuid(id) if id is not None else str(uuid.uuid4())
        key = reg.collection_key(root, collection_id)
        if self.store.kv_get(reg.COLLECTIONS, key) is not None:
            raise ConflictError(
                f"the collection {collection_id} already exists in {root!r}", field="id"
            )
        for org in (*readers, *writers):
            self._org(org)
        if sharing_group is not None and self.store.kv_get(reg.GROUPS, sharing_group) is None:
            raise NotFoundError(f"no sharing group {sharing_group!r}", field="sharing_group")
        collection = Collection(
            collection_id,
            root,
            title,
            description,
            frozenset(readers),
            frozenset(writers),
            sharing_group,
            Tlp(default_tlp),
        )
        self._write_config(
            actor,
            "collection.add",
            key,
            [(reg.COLLECTIONS, key, reg.collection_to_json(collection))],
        )
        return collection

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
    ) -> Collection:
        """Grant or withdraw read and write rights on a collection (admin; audited).

        A partner who joins later is granted here and reads what was stored before, under the
        same TLP rules as everyone else (nothing is re-marked)."""
        self._admin(actor, f"root:{root}")
        self._root(root)
        key = reg.collection_key(root, reg.check_uuid(collection_id))
        value = self.store.kv_get(reg.COLLECTIONS, key)
        if value is None:
            raise NotFoundError(f"no collection {collection_id!r} in {root!r}", field="collection")
        for org in (*add_readers, *add_writers):
            self._org(org)
        old = reg.collection_from_json(value)
        new = replace(
            old,
            readers=(old.readers | frozenset(add_readers)) - frozenset(remove_readers),
            writers=(old.writers | frozenset(add_writers)) - frozenset(remove_writers),
        )
        self._write_config(
            actor, "collection.access", key, [(reg.COLLECTIONS, key, reg.collection_to_json(new))]
        )
        return new

    def list_collections(self, actor: Actor, root: str | None = None) -> list[Collection]:
        """Every collection (of one root), with its readers and writers: admin only."""
        self._admin(actor, "collections")
        found = [
            reg.collection_from_json(self.store.kv_get(reg.COLLECTIONS, key))
            for key in self.store.kv_keys(reg.COLLECTIONS)
        ]
        return [item for item in found if root is None or item.root == root]

    def _collection(
        self, actor: Actor, root: str, collection_id: str, action: Action | Literal["see"]
    ) -> Collection:
        """The collection if ``actor`` may ``action`` it; 404 when it may not even see it."""
        if actor.org is None:
            self._refuse(actor, action, f"{root}/{collection_id}", allowed(actor, "read", None))
        self._root(root)
        collection = reg.load_collection(self.store, root, collection_id)
        target = f"{root}/{collection_id}"
        if collection is None:
            raise NotFoundError(f"no collection {collection_id!r} in {root!r}", field="collection")
        visible = allowed(actor, "read", collection) or allowed(actor, "write", collection)
        decision = visible if action == "see" else allowed(actor, action, collection)
        if not decision:
            self._refuse(actor, action, target, decision, hide=not visible)
        return collection

    # ------------------------------------------------------------ TAXII resources

    def discovery(self, actor: Actor) -> dict[str, Any]:
        names = self.store.kv_keys(reg.ROOTS)
        body: dict[str, Any] = {"title": self.title, "description": f"Kizuna node {self.node.name}"}
        default = self.store.kv_get(reg.SETTINGS, "default_root")
        if default in names:
            body["default"] = f"{self.base_path}{default}/"
        body["api_roots"] = [f"{self.base_path}{name}/" for name in names]
        return body

    def api_root(self, actor: Actor, root: str) -> dict[str, Any]:
        if actor.org is None and not actor.admin:
            self._refuse(actor, "read", f"root:{root}", allowed(actor, "read", None))
        info = self._root(root)
        return {
            "title": info.title,
            "description": info.description,
            "versions": [MEDIA_TYPE_TAXII],
            "max_content_length": info.max_content_length,
        }

    def _collection_resource(self, actor: Actor, collection: Collection) -> dict[str, Any]:
        return {
            "id": collection.id,
            "title": collection.title,
            "description": collection.description,
            "can_read": bool(allowed(actor, "read", collection)),
            "can_write": bool(allowed(actor, "write", collection)),
            "media_types": [MEDIA_TYPE_STIX],
        }

    def collections(self, actor: Actor, root: str) -> dict[str, Any]:
        if actor.org is None:
            self._refuse(actor, "read", f"root:{root}", allowed(actor, "read", None))
        self._root(root)
        prefix = f"{root}/"
        found = []
        for key in self.store.kv_keys(reg.COLLECTIONS):
            if key.startswith(prefix):
                item = reg.collection_from_json(self.store.kv_get(reg.COLLECTIONS, key))
                resource = self._collection_resource(actor, item)
                if resource["can_read"] or resource["can_write"]:
                    found.append(resource)
        return {"collections": found} if found else {}

    def collection(self, actor: Actor, root: str, collection_id: str) -> dict[str, Any]:
        item = self._collection(actor, root, collection_id, "see")
        return self._collection_resource(actor, item)

    def add_objects(
        self, actor: Actor, root: str, collection_id: str, envelope: Mapping[str, Any]
    ) -> dict[str, Any]:
        collection = self._collection(actor, root, collection_id, "write")
        peer = peer_policy(self.store, actor.org)
        if peer is not None:  # a peer node relays: docs/federation.md
            return relay_in(self.store, actor, peer, collection, envelope, self._stamp())
        return ingest(self.store, actor, collection, envelope, self._stamp())

    def _read_request(
        self,
        actor: Actor,
        root: str,
        collection_id: str,
        kind: str,
        query: ObjectFilter,
        object_id: str | None = None,
    ) -> ReadRequest:
        collection = self._collection(actor, root, collection_id, "read")
        group = reg.load_group(self.store, collection.sharing_group)
        view = read_view(actor, collection, group, peer_policy(self.store, actor.org))
        assert view is not None  # _collection checked the read right
        if query.added_after:
            parse_timestamp(query.added_after, "added_after")
        return ReadRequest(
            namespace=reg.namespace_of(collection),
            view=view,
            query=query,
            print_=fingerprint(kind, root, collection.id, object_id, query),
            limit=page_limit(query.limit, self.max_limit, self.default_limit),
            object_id=object_id,
        )

    def get_objects(
        self, actor: Actor, root: str, collection_id: str, query: ObjectFilter, *,
        raw: bool = False,
    ) -> Page:
        """An objects envelope; ``raw=True`` gives each object as its stored JSON text (a
        ``str``) so an HTTP edge can splice the texts into its response unparsed."""
        request = self._read_request(actor, root, collection_id, "objects", query)
        if request.view.peer and is_sync_query(query):  # a peer node's sync
            return serve(self.store, replace(request, raw=raw), self._stamp())
        return objects_page(self.store, replace(request, raw=raw))

    def get_object(
        self, actor: Actor, root: str, collection_id: str, object_id: str, query: ObjectFilter
    ) -> Page:
        query = replace(query, ids=(), types=())
        request = self._read_request(actor, root, collection_id, "object", query, object_id)
        page = objects_page(self.store, request)
        if not page.body.get("objects") and not query.next:
            self._not_found(actor, request, f"{root}/{collection_id}/{object_id}", "read")
        return page

    def versions(
        self, actor: Actor, root: str, collection_id: str, object_id: str, query: ObjectFilter
    ) -> Page:
        query = replace(query, ids=(), types=(), versions=("all",))
        request = self._read_request(actor, root, collection_id, "versions", query, object_id)
        page = versions_page(self.store, request)
        if not page.body.get("versions") and not query.next:
            self._not_found(actor, request, f"{root}/{collection_id}/{object_id}", "versions")
        return page

    def _not_found(
        self, actor: Actor, request: ReadRequest, target: str, action: str
    ) -> NoReturn:
        """404 for an object the reader cannot see; when it exists but its markings hide it,
        the refusal is audited (denied), though the answer stays 404 so nothing leaks."""
        assert request.object_id is not None
        stored = self.store.query(request.namespace, keys=[request.object_id], limit=1)
        if stored.records:
            self._deny(actor, action, target, "the object's markings do not allow this reader")
        raise NotFoundError(f"no object {request.object_id!r} in this collection",
                            field="object")

    def manifest(self, actor: Actor, root: str, collection_id: str, query: ObjectFilter) -> Page:
        request = self._read_request(actor, root, collection_id, "manifest", query)
        return manifest_page(self.store, request)

    def delete_object(
        self, actor: Actor, root: str, collection_id: str, object_id: str, query: ObjectFilter
    ) -> None:
        """Delete the selected versions (``match[version]``, default last): the producer only."""
        collection = self._collection(actor, root, collection_id, "see")
        group = reg.load_group(self.store, collection.sharing_group)
        refusal = delete_versions(
            self.store, actor, collection, group, object_id, query, self._stamp()
        )
        if refusal is not None:
            decision, hide = refusal
            self._refuse(
                actor, "delete", f"{root}/{collection_id}/{object_id}", decision, hide=hide
            )

    def status(self, actor: Actor, root: str, status_id: str) -> dict[str, Any]:
        if actor.org is None:
            self._refuse(
                actor, "read_status", f"status:{status_id}", allowed(actor, "read_status", None)
            )
        self._root(root)
        value = None
        if isinstance(status_id, str) and 0 < len(status_id) <= 64:
            value = self.store.kv_get(reg.STATUS, status_id)
        if value is not None and value.get("root") == root:
            decision = allowed(actor, "read_status", StatusAccess(value["org"]))
            if decision:
                return dict(value["status"])
            self._refuse(actor, "read_status", f"status:{status_id}", decision, hide=True)
        raise NotFoundError(f"no status {status_id!r}", field="status")

    # ------------------------------------------------------------ audit

    def audit(
        self,
        actor: Actor,
        *,
        limit: int = 100,
        since: str | None = None,
        outcome: str | None = None,
    ) -> list[AuditEntry]:
        self._admin(actor, "audit")
        if outcome is not None and outcome not in ("ok", "denied", "error"):
            raise InputError(f"outcome {outcome!r} is not ok, denied or error", field="outcome")
        moment = parse_timestamp(since, "since") if since else None
        return read_audit(
            self.store, limit=page_limit(limit, 100_000, 100), since=moment, outcome=outcome
        )


def _identity_record(identity: Mapping[str, Any]) -> Record:
    return Record(
        identity["id"],
        dict(identity),
        normalise_timestamp(identity["modified"]),
        {"type": "identity", "spec_version": "2.1"},
    )


def _conforms(hub: Hub) -> HubService:
    """Type-checks that ``Hub`` implements the contract (mypy fails here otherwise)."""
    return hub
