"""Official critical-mineral lists and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kizuna.errors import NotFoundError

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset

NOT_A_MEMBER = "not_critical"
"""A list row that records a mineral was assessed and found not critical (UK 2024 palladium)."""


def list_minerals(ds: Dataset, list_id: str | None = None) -> pd.DataFrame:
    """Minerals with their list memberships, optionally only the members of one list.

    Rows a list marks ``not_critical`` are assessments, not memberships, and are left out.
    With ``list_id``, ``status`` (confirmed/unconfirmed) and ``category`` come from that list.
    """
    if list_id is not None and list_id not in set(ds.lists["list_id"]):
        raise NotFoundError(
            f"unknown list {list_id!r}",
            hint="lists: " + ", ".join(sorted(ds.lists["list_id"])),
            field="list",
        )
    members = ds.list_members[ds.list_members["category"] != NOT_A_MEMBER]
    by_mineral = members.groupby("mineral")["list_id"].agg(lambda ids: sorted(set(ids)))
    rows = []
    for slug, info in ds.minerals.items():
        status = category = None
        if list_id is not None:
            picked = members[(members["list_id"] == list_id) & (members["mineral"] == slug)]
            if picked.empty:
                continue
            status = "confirmed" if (picked["status"] == "confirmed").any() else "unconfirmed"
            category = ", ".join(sorted({str(c) for c in picked["category"].dropna()}))
        rows.append({"slug": slug, "name": info.name, "symbol": info.symbol,
                     "group": info.group, "lists": list(by_mineral.get(slug, [])),
                     "status": status, "category": category})
    return pd.DataFrame(
        rows, columns=["slug", "name", "symbol", "group", "lists", "status", "category"]
    )
