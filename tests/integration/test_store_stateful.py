"""Random sequences of puts, deletes and kv writes, checked against a plain-dict model.

Each generated run uses namespaces of its own, so one store serves every run of a test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kizuna.errors import InputError
from kizuna.store import Record, Store

KEYS = ("indicator--1", "indicator--2", "malware--3")
VERSIONS = ("", "2024-01-01", "2024-06-30", "2025-01-01")
RECORDS = st.tuples(
    st.sampled_from(KEYS),
    st.sampled_from(VERSIONS),
    st.integers(0, 2),
    st.sampled_from(("indicator", "malware")),
)
Model = dict[str, dict[str, dict[str, tuple[Any, dict[str, str]]]]]


def check_against_model(store: Store, namespace: str, model: dict[str, dict[str, Any]]) -> None:
    everything = store.query(namespace, versions="all").records
    assert {(r.key, r.version): (r.doc, dict(r.attrs)) for r in everything} == {
        (key, version): value
        for key, versions in model.items()
        for version, value in versions.items()
    }
    malware = store.query(namespace, versions="all", attrs={"type": ["malware"]}).records
    assert malware == [r for r in everything if r.attrs["type"] == "malware"]
    added = [r.added for r in everything]
    assert added == sorted(set(added))
    assert store.count(namespace) == len(everything)
    latest = {r.key: r.version for r in store.query(namespace).records}
    assert latest == {key: max(versions) for key, versions in model.items()}
    first = {r.key: r.version for r in store.query(namespace, versions="first").records}
    assert first == {key: min(versions) for key, versions in model.items()}
    paged, cursor = [], None
    while True:
        page = store.query(namespace, versions="all", limit=2, after_cursor=cursor)
        paged += page.records
        if not page.more:
            break
        cursor = page.next_cursor
    assert paged == everything
    for key, versions in model.items():
        assert store.versions(namespace, key) == sorted(versions)


def doomed_versions(versions: dict[str, Any], version: str | None) -> list[str]:
    """Which versions ``delete(namespace, key, version)`` should remove."""
    if version is None:
        return list(versions)
    if version in ("latest", "first"):
        return [(max if version == "latest" else min)(versions)] if versions else []
    return [version] if version in versions else []


def expected_status(old: Any, new: Any) -> str:
    return "created" if old is None else "unchanged" if old == new else "updated"


class StoreMachine(RuleBasedStateMachine):
    """Puts, deletes and kv writes on one store, mirrored in plain dicts."""

    store: ClassVar[Store]
    runs: ClassVar[Iterator[int]]

    def __init__(self) -> None:
        super().__init__()
        run = next(self.runs)
        self.spaces = (f"run{run}-a", f"run{run}-b")
        self.model: Model = {space: {} for space in self.spaces}
        self.kv: dict[str, Any] = {}
        self.newest: datetime | None = None

    @rule(space=st.integers(0, 1), batch=st.lists(RECORDS, max_size=4))
    def put(self, space: int, batch: list[tuple[str, str, int, str]]) -> None:
        namespace = self.spaces[space]
        records = [Record(k, {"v": doc}, v, {"type": kind}) for k, v, doc, kind in batch]
        results = self.store.put_many(namespace, records)
        model = self.model[namespace]
        for (key, version, doc, kind), result in zip(batch, results, strict=True):
            new = ({"v": doc}, {"type": kind})
            assert result.status == expected_status(model.get(key, {}).get(version), new)
            if result.status != "unchanged":
                assert self.newest is None or result.added > self.newest
                self.newest = result.added
            model.setdefault(key, {})[version] = new

    @rule(space=st.integers(0, 1), batch=st.lists(RECORDS, max_size=3))
    def put_a_batch_ending_with_an_empty_key(
        self, space: int, batch: list[tuple[str, str, int, str]]
    ) -> None:
        records = [Record(key, {"v": doc}, version) for key, version, doc, _ in batch]
        with pytest.raises(InputError):
            self.store.put_many(self.spaces[space], [*records, Record("", {})])

    @rule(
        space=st.integers(0, 1),
        key=st.sampled_from(KEYS),
        version=st.sampled_from((None, "latest", "first", *VERSIONS)),
    )
    def delete(self, space: int, key: str, version: str | None) -> None:
        namespace = self.spaces[space]
        versions = self.model[namespace].get(key, {})
        doomed = doomed_versions(versions, version)
        assert self.store.delete(namespace, key, version) == len(doomed)
        for name in doomed:
            del versions[name]
        if not versions:
            self.model[namespace].pop(key, None)

    @rule(key=st.sampled_from(KEYS), value=st.one_of(
        st.none(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=5)))
    def kv_put(self, key: str, value: Any) -> None:
        self.store.kv_put(self.spaces[0], key, value)
        self.kv[key] = value

    @rule(key=st.sampled_from(KEYS))
    def kv_delete(self, key: str) -> None:
        assert self.store.kv_delete(self.spaces[0], key) is (key in self.kv)
        self.kv.pop(key, None)

    @invariant()
    def the_store_matches_the_model(self) -> None:
        for namespace in self.spaces:
            check_against_model(self.store, namespace, self.model[namespace])
        assert self.store.kv_keys(self.spaces[0]) == sorted(self.kv)
        for key, value in self.kv.items():
            assert self.store.kv_get(self.spaces[0], key, "missing") == value


def run_machine(store: Store, examples: int) -> None:
    machine = type("StoreMachineRun", (StoreMachine,), {"store": store, "runs": itertools.count()})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.parametrize(
    ("kind", "examples"),
    [
        ("memory", 300),
        ("sqlite", 200),
        pytest.param("postgres", 100, marks=pytest.mark.postgres),
    ],
)
def test_random_puts_and_deletes_leave_the_store_as_a_plain_model_predicts(
    make_store: Any, kind: str, examples: int
) -> None:
    run_machine(make_store(kind), examples)
