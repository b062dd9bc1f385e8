"""What the routes share: settings, the dataset (loaded once, lazily) and the store.

One :class:`WebContext` per app, kept on ``app.state.kizuna``; there is no module-level state.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from kizuna.errors import StoreError
from kizuna.intel.hubread import ObjectCache
from kizuna.minerals.groups import effective_groups
from kizuna.settings import Settings, open_store_for

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset
    from kizuna.hub.contract import HubService
    from kizuna.model import CountryGroup
    from kizuna.store.base import Store


class WebContext:
    """The app's settings, dataset, store and the TAXII hub built on that store."""

    def __init__(
        self,
        settings: Settings,
        *,
        dataset: Dataset | None = None,
        store: Store | None = None,
        hub: HubService | None = None,
    ) -> None:
        self.settings = settings
        self._dataset = dataset
        self.store = store
        self._owns_store = store is None
        self._hub = hub
        self._owns_hub = hub is None
        self._lock = threading.Lock()
        self.read_cache = ObjectCache()  # what each organisation read, for the intel pages

    @property
    def dataset_loaded(self) -> bool:
        return self._dataset is not None

    def dataset(self) -> Dataset:
        """The dataset given to ``create_app``, or the bundled one loaded on first use."""
        if self._dataset is None:
            with self._lock:
                if self._dataset is None:
                    from kizuna.data.bundle import load_dataset  # noqa: PLC0415 - loaded lazily

                    tables = self.settings.tables_dir
                    self._dataset = load_dataset(Path(tables) if tables else None)
        return self._dataset

    def groups(self) -> dict[str, CountryGroup]:
        """Country groups: the shipped defaults with the store's edits (kizuna groups set)."""
        return effective_groups(self.dataset().groups, self.store)

    def open_store(self) -> None:
        """Open ``settings.store`` unless a store was given, and build the hub on it."""
        if self.store is None and self._owns_store:
            self.store = open_store_for(self.settings.store)
        if self._hub is None and self.store is not None:
            from kizuna.hub.service import Hub  # noqa: PLC0415 - the hub loads with the store

            self._hub = Hub(self.store, node_name=self.settings.node_name)

    def hub(self) -> HubService:
        """The one hub of this app (built when the store is opened)."""
        if self._hub is None:
            raise StoreError("the hub is not open: the store has not been opened",
                             hint="start the app through its lifespan (kizuna serve)")
        return self._hub

    def close_store(self) -> None:
        """Close the store if this app opened it (a store passed in belongs to the caller)."""
        if self._owns_hub:
            self._hub = None
        if self._owns_store and self.store is not None:
            store, self.store = self.store, None
            store.close()


def context_of(request: Request) -> WebContext:
    context: WebContext = request.app.state.kizuna
    return context


async def web_context(request: Request) -> WebContext:
    """The app's context, as a dependency. ``async`` so FastAPI calls it on the event loop:
    a plain ``def`` dependency is sent to the thread pool, and each such hop cost a TAXII
    request about 0.2 ms on this two-core machine (GIL hand-offs), for a dictionary lookup."""
    return context_of(request)
