"""Country groups: the defaults shipped as data (groups.yaml) overlaid by the user's edits.

Edits live in the store (namespace ``groups``, one kv entry per group id), so a team editing
its ``concern`` group on a shared PostgreSQL store sees one definition, and the shipped YAML
is never modified. Resetting a group removes the edit and brings back the default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kizuna.errors import DataError, InputError, NotFoundError
from kizuna.model import CountryGroup
from kizuna.model.countries import is_aggregate, to_iso3

if TYPE_CHECKING:
    from kizuna.store.base import Store

NAMESPACE = "groups"
GROUP_ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def _from_doc(group_id: str, doc: Any) -> CountryGroup:
    try:
        return CountryGroup(
            id=group_id,
            name=str(doc["name"]),
            members=frozenset(str(code) for code in doc["members"]),
            description=str(doc.get("description", "")),
            source=str(doc.get("source", "")),
        )
    except (KeyError, TypeError) as exc:
        raise DataError(
            f"stored country group {group_id!r} is malformed ({exc})",
            hint=f"reset it with: kizuna groups reset {group_id}",
            group=group_id,
        ) from exc


def effective_groups(
    defaults: Mapping[str, CountryGroup], store: Store | None
) -> dict[str, CountryGroup]:
    """The shipped groups with the store's edits on top (edits win; new ids are added)."""
    groups = dict(defaults)
    if store is None:
        return groups
    for group_id in store.kv_keys(NAMESPACE):
        groups[group_id] = _from_doc(group_id, store.kv_get(NAMESPACE, group_id))
    return groups


def resolve_group(groups: Mapping[str, CountryGroup], group: str) -> CountryGroup:
    """The group named ``group``, or NotFoundError listing the groups there are."""
    try:
        return groups[group]
    except KeyError:
        raise NotFoundError(
            f"unknown country group {group!r}",
            hint="groups: " + ", ".join(sorted(groups)),
            field="group",
        ) from None


def edited_ids(store: Store) -> set[str]:
    return set(store.kv_keys(NAMESPACE))


def resolve_members(codes: Iterable[str]) -> frozenset[str]:
    """ISO3 codes (or country names) to a set of ISO3 codes; aggregates are refused."""
    members = set()
    for code in codes:
        for part in str(code).split(","):
            text = part.strip()
            if not text:
                continue
            iso3 = to_iso3(text.upper() if len(text) == 3 else text)
            if is_aggregate(iso3):
                raise InputError(
                    f"{text!r} is an aggregate, not a country",
                    hint="a group lists countries by ISO 3166-1 alpha-3 code",
                    field="members",
                    value=text,
                )
            members.add(iso3)
    if not members:
        raise InputError("a group needs at least one country", field="members",
                         hint="give ISO3 codes, e.g. CHN RUS")
    return frozenset(members)


def save_group(
    store: Store,
    defaults: Mapping[str, CountryGroup],
    group_id: str,
    members: Iterable[str],
    *,
    name: str | None = None,
    description: str | None = None,
) -> CountryGroup:
    """Create or replace a group in the store; members are validated before anything is written."""
    if name is not None and not name.strip():
        raise InputError("a group name cannot be empty", field="name",
                         hint="leave out --name to keep the current name")
    if not GROUP_ID.match(group_id):
        raise InputError(
            f"invalid group id {group_id!r}",
            hint="use lower-case letters, digits and '-', starting with a letter (max 40)",
            field="id",
        )
    resolved = resolve_members(members)
    base = effective_groups(defaults, store).get(group_id)
    group = CountryGroup(
        id=group_id,
        name=name or (base.name if base else group_id),
        members=resolved,
        description=description if description is not None else (base.description if base else ""),
        source=f"edited by a user on {datetime.now(UTC).date().isoformat()}",
    )
    store.kv_put(NAMESPACE, group_id, {
        "name": group.name, "members": sorted(group.members),
        "description": group.description, "source": group.source,
    })
    return group


def reset_group(store: Store, defaults: Mapping[str, CountryGroup], group_id: str) -> bool:
    """Remove the user's edit of ``group_id``; True if there was one."""
    if group_id not in defaults and group_id not in edited_ids(store):
        raise NotFoundError(
            f"unknown country group {group_id!r}",
            hint="groups: " + ", ".join(sorted(effective_groups(defaults, store))),
            field="group",
        )
    return store.kv_delete(NAMESPACE, group_id)
