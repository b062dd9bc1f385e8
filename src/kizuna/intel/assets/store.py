"""Asset registers in the hub's store, private to the organisation that owns them.

A register is kept in the store's namespace ``assets:<org>`` (one record per asset, key =
asset id) with a summary in kv ``assets:registers``. Who may read or write it is decided by
the hub's own ``kizuna.hub.access.allowed``, on the same terms as a hub object: each
register is a collection whose only reader and writer is its owner, and each asset an
object of that collection marked TLP:RED and produced by the owner. So the owner reads and
writes its register; another organisation, the local administrator and anonymous callers
get nothing, and a register they ask for is "not found" (its existence does not leak).

Saving is all or nothing: the whole register goes in one store transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kizuna.errors import NotFoundError
from kizuna.hub.access import allowed
from kizuna.hub.contract import (
    Actor,
    AuthError,
    Collection,
    Decision,
    ForbiddenError,
    ObjectAccess,
    Tlp,
)
from kizuna.intel.assets.register import Register
from kizuna.intel.assets.schema import Asset
from kizuna.intel.ids import KIZUNA_NAMESPACE
from kizuna.store import Record, Store

REGISTERS = "assets:registers"
ASSET_TLP = Tlp.RED


def namespace(org: str) -> str:
    return f"assets:{org}"


def register_collection(owner: str) -> Collection:
    """The register as the hub's access rules see it: a collection only its owner uses."""
    return Collection(id=str(uuid.uuid5(KIZUNA_NAMESPACE, f"assets:{owner}")), root="assets",
                      title=f"asset register of {owner}", readers=frozenset({owner}),
                      writers=frozenset({owner}), default_tlp=ASSET_TLP)


def decide(actor: Actor, owner: str, action: Literal["read", "write"]) -> Decision:
    """Whether ``actor`` may read or write ``owner``'s register, and why (hub rules)."""
    collection = register_collection(owner)
    if action == "write":
        return allowed(actor, "write", collection)
    return allowed(actor, "read", ObjectAccess(collection, producer=owner, tlp=ASSET_TLP))


def _owner(actor: Actor, owner: str | None, action: Literal["read", "write"]) -> str:
    if actor.admin:
        reason = ("the local administrator is not an organisation and reads or writes no "
                  "asset register; act with the owning organisation's API key")
        raise ForbiddenError(reason, reason=reason)
    if actor.org is None:
        raise AuthError(decide(actor, owner or "", action).reason,
                        hint="send your organisation's API key")
    name = owner or actor.org
    decision = decide(actor, name, action)
    if not decision:
        # as the hub does for what an actor may not see: not found, never "forbidden"
        raise NotFoundError(f"no asset register of {name!r} that you can {action}",
                            hint="a register is private to the organisation that imported it",
                            field="org", value=name, reason=decision.reason)
    return name


@dataclass(frozen=True)
class SaveReport:
    org: str
    source: str
    assets: int
    created: int
    updated: int
    unchanged: int
    removed: int

    def to_json(self) -> dict[str, Any]:
        return {"org": self.org, "source": self.source, "assets": self.assets,
                "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "removed": self.removed}


def save_register(store: Store, actor: Actor, register: Register, *, owner: str | None = None,
                  merge: bool = False, imported_at: str = "") -> SaveReport:
    """Store ``register`` as the actor's (or ``owner``'s, when the actor may write it).

    The file is the register: assets missing from it are removed, unless ``merge``.
    """
    org = _owner(actor, owner, "write")
    space = namespace(org)
    records = [Record(asset.asset_id, asset.to_json(),
                      attrs={"kind": asset.kind, "country": asset.country, "sector": asset.sector,
                             "tlp": str(int(ASSET_TLP)), "producer": org})
               for asset in register.assets]
    wanted = {asset.asset_id for asset in register.assets}
    stored = [record.key for record in store.query(space, versions="latest").records]
    gone = [] if merge else [key for key in stored if key not in wanted]
    count = len(wanted) if not merge else len(wanted | set(stored))
    summary = {"org": org, "source": Path(register.source).name,
               "sha256": _digest(register.source), "imported_at": imported_at,
               "assets": count, "columns": list(register.columns)}
    with store.transaction() as tx:
        results = tx.put_many(space, records)
        for key in gone:
            tx.delete(space, key)
        tx.kv_put(REGISTERS, org, summary)
    statuses = [result.status for result in results]
    return SaveReport(org, register.source, count, statuses.count("created"),
                      statuses.count("updated"), statuses.count("unchanged"), len(gone))


def _digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def load_assets(store: Store, actor: Actor, *, owner: str | None = None,
                ids: Sequence[str] = ()) -> list[Asset]:
    """The assets of the actor's register (or ``owner``'s, when the actor may read it)."""
    org = _owner(actor, owner, "read")
    page = store.query(namespace(org), keys=list(ids) or None, versions="latest")
    assets = [Asset.from_json(record.doc) for record in page.records]
    while page.more and page.next_cursor:
        page = store.query(namespace(org), keys=list(ids) or None, versions="latest",
                           after_cursor=page.next_cursor)
        assets.extend(Asset.from_json(record.doc) for record in page.records)
    if ids:
        missing = sorted(set(ids) - {asset.asset_id for asset in assets})
        if missing:
            raise NotFoundError(f"no asset {missing[0]!r} in the register of {org}",
                                hint="list them with: kizuna assets list", field="asset",
                                value=missing[0])
    return sorted(assets, key=lambda asset: (asset.row, asset.asset_id))


def register_summary(store: Store, actor: Actor, *, owner: str | None = None
                     ) -> dict[str, Any] | None:
    """What the last import of the register recorded (file, hash, time, count), or None."""
    org = _owner(actor, owner, "read")
    value = store.kv_get(REGISTERS, org)
    return dict(value) if isinstance(value, dict) else None
