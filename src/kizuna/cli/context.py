"""State shared by CLI commands: the global options and lazily built settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kizuna.settings import Settings, load_settings, open_store_for

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset
    from kizuna.model import CountryGroup
    from kizuna.store.base import Store

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store URL: sqlite:///path.db, postgresql://..., memory:// "
                 "[env KIZUNA_STORE; default a SQLite file in the user's data directory]"),
]


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)
    config_file: Path | None = None

    def settings(self, **more: Any) -> Settings:
        """Settings with this invocation's flags on top (flags left unset are ignored)."""
        given = {key: value for key, value in more.items() if value is not None}
        return load_settings({**self.overrides, **given}, config_file=self.config_file)

    def dataset(self) -> Dataset:
        from kizuna.data.bundle import load_dataset

        tables_dir = self.settings().tables_dir
        return load_dataset(Path(tables_dir) if tables_dir else None)

    @contextmanager
    def store(self, url: str | None = None) -> Iterator[Store]:
        """Open the store at ``url`` (a command's own --store) or the configured one."""
        with open_store_for(self.settings(store=url).store) as opened:
            yield opened

    def groups(self, store: Store) -> dict[str, CountryGroup]:
        from kizuna.minerals.groups import effective_groups

        return effective_groups(self.dataset().groups, store)
