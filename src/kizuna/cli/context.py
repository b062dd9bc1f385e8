"""State shared by CLI commands: the global options and lazily built settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kizuna.settings import Settings, load_settings

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)
    config_file: Path | None = None

    def settings(self, **more: Any) -> Settings:
        """Settings with this invocation's flags on top (flags left unset are ignored)."""
        return load_settings({**self.overrides, **more}, config_file=self.config_file)

    def dataset(self) -> Dataset:
        from kizuna.data.bundle import load_dataset

        tables_dir = self.settings().tables_dir
        return load_dataset(Path(tables_dir) if tables_dir else None)
