"""The hub's core suite on a real PostgreSQL server (marked ``postgres``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubtools import CORE_CHECKS, core_id, make_hub
from kizuna.hub.service import Hub

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("check", CORE_CHECKS, ids=core_id)
def test_core_suite_on_postgres(check: Callable[[Hub], None], make_store) -> None:
    check(make_hub(make_store("postgres")))
