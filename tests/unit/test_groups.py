"""Country groups: shipped defaults overlaid by edits kept in the store."""

from __future__ import annotations

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.minerals.concentration import concentration_table
from kizuna.minerals.groups import effective_groups, reset_group, save_group
from kizuna.store import open_store
from kizuna.store.base import Store


@pytest.fixture
def memory_store() -> Store:
    return open_store("memory://")


def test_without_edits_the_shipped_groups_apply(memory_store: Store) -> None:
    defaults = load_dataset().groups
    groups = effective_groups(defaults, memory_store)
    assert groups == defaults
    assert {"g7", "quad", "msp", "eu27", "concern"} <= set(groups)
    assert len(groups["eu27"].members) == 27
    assert groups["g7"].members == {"CAN", "FRA", "DEU", "ITA", "JPN", "GBR", "USA"}


def test_an_edit_replaces_the_default_and_a_reset_restores_it(memory_store: Store) -> None:
    defaults = load_dataset().groups
    saved = save_group(memory_store, defaults, "concern", ["chn", "Russia", "BLR"])
    assert saved.members == {"CHN", "RUS", "BLR"}
    assert saved.name == defaults["concern"].name  # the name is kept unless given
    assert effective_groups(defaults, memory_store)["concern"].members == {"CHN", "RUS", "BLR"}
    assert reset_group(memory_store, defaults, "concern") is True
    assert effective_groups(defaults, memory_store)["concern"] == defaults["concern"]
    assert reset_group(memory_store, defaults, "concern") is False


def test_a_new_group_can_be_added_and_used_for_the_group_share(memory_store: Store) -> None:
    dataset = load_dataset()
    save_group(memory_store, dataset.groups, "pact", ["JPN", "GBR"], name="Japan-UK pact")
    groups = effective_groups(dataset.groups, memory_store)
    table = concentration_table(dataset, stage="refining", group="pact", groups=groups)
    cobalt = table.set_index("mineral").loc["cobalt"]
    assert cobalt["group_share"] == pytest.approx(0.0226)  # Japan's IEA refining share, 2024


def test_bad_members_are_refused_and_nothing_is_stored(memory_store: Store) -> None:
    defaults = load_dataset().groups
    with pytest.raises(InputError, match="unknown country 'Atlantis'"):
        save_group(memory_store, defaults, "concern", ["CHN", "Atlantis"])
    with pytest.raises(InputError, match="aggregate"):
        save_group(memory_store, defaults, "concern", ["WORLD"])
    with pytest.raises(InputError, match="at least one country"):
        save_group(memory_store, defaults, "concern", [" ", ""])
    with pytest.raises(InputError, match="invalid group id"):
        save_group(memory_store, defaults, "Not OK", ["CHN"])
    assert effective_groups(defaults, memory_store) == defaults


def test_resetting_an_unknown_group_names_the_known_ones(memory_store: Store) -> None:
    with pytest.raises(NotFoundError, match="unknown country group 'nato'") as info:
        reset_group(memory_store, load_dataset().groups, "nato")
    assert "concern" in str(info.value)
