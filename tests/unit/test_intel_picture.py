"""Who targets what: claims keep their kind and source; ATT&CK gets no invented sector."""

from __future__ import annotations

from inteltools import NOW, SANDWORM, VOLT, attack_bundle, galaxy_clusters
from kizuna.intel.feeds.attack import attack_feed
from kizuna.intel.feeds.galaxy import galaxy_feed
from kizuna.intel.picture import GroupFilter, filter_groups, threat_picture
from kizuna.intel.sectors import check_sector, sector_of


def _rows(*, with_galaxy: bool = True):
    objects = attack_feed(attack_bundle()).objects
    if with_galaxy:
        actors, groups = galaxy_clusters()
        objects += galaxy_feed(actors, groups, now=NOW).objects
    return threat_picture(objects)


def _row(rows, name):
    return next(row for row in rows if row.name == name)


def test_attack_alone_gives_intrusion_sets_with_techniques_but_no_sector_or_sponsor() -> None:
    rows = _rows(with_galaxy=False)
    assert [row.name for row in rows] == ["Sandworm Team", "Volt Typhoon"]
    sandworm = _row(rows, "Sandworm Team")
    assert sandworm.attack_id == "G0034"
    assert sorted(t.attack_id for t in sandworm.techniques) == ["T0800", "T0855"]
    assert sandworm.claims == []  # ATT&CK has no sector or sponsor field: nothing invented


def test_a_cfr_sponsor_and_an_attributed_country_are_different_claims_with_sources() -> None:
    sandworm = _row(_rows(), "Sandworm Team")
    sponsor, = sandworm.of("cfr-sponsor")
    country, = sandworm.of("attributed-country")
    assert (sponsor.value, sponsor.text) == ("RUS", "Russian Federation")
    assert sponsor.source.origin == "meta.cfr-suspected-state-sponsor"
    assert "Council on Foreign Relations" in sponsor.source.publisher
    assert (country.value, country.text, country.source.origin) == ("RUS", "RU", "meta.country")
    assert "Council on Foreign Relations" not in country.source.publisher
    assert sponsor.source.object_name == "Sandworm"  # the galaxy actor that said it
    assert sponsor.source.via is not None and sponsor.source.via.basis == "explicit"
    assert sponsor.source.path.endswith(".cfr_suspected_state_sponsor")


def test_sectors_map_through_the_vocabulary_and_unknown_terms_stay_text() -> None:
    sandworm = _row(_rows(), "Sandworm Team")
    sectors = {(c.text, c.value) for c in sandworm.of("target-sector")}
    assert ("Energy", "energy") in sectors and ("Electric", "energy") in sectors
    assert ("Private sector", "") in sectors  # not a sector of the vocabulary
    assert sector_of("Energy Company") == "energy" and sector_of("Military") == "military"
    assert sector_of("Defense") == "defence" and sector_of("civil society") is None


def test_claims_through_a_name_only_link_are_ambiguous() -> None:
    volt = _row(_rows(), "Volt Typhoon")
    assert volt.id == VOLT
    assert volt.links[0].basis == "name-only"
    assert all(claim.ambiguous for claim in volt.claims)
    spec = GroupFilter(sponsor="CHN", include_ambiguous=False)
    assert filter_groups([volt], spec) == []
    assert filter_groups([volt], GroupFilter(sponsor="CHN"))[0].matched[0].ambiguous


def test_sponsor_filter_says_which_claim_matched_and_basis_narrows_it() -> None:
    rows = _rows()
    lone = filter_groups(rows, GroupFilter(sponsor="IRN"))
    assert [row.name for row in lone] == ["Lone Wolf"]  # a galaxy actor with no ATT&CK group
    assert lone[0].kind == "threat-actor" and lone[0].matched[0].kind == "cfr-sponsor"
    volt_cfr = filter_groups(rows, GroupFilter(sponsor="CHN", sponsor_basis="cfr"))
    assert "Volt Typhoon" not in {row.name for row in volt_cfr}  # only attributed, not CFR
    attributed = filter_groups(rows, GroupFilter(sponsor="CHN", sponsor_basis="attributed"))
    assert "Volt Typhoon" in {row.name for row in attributed}


def test_sector_sponsor_and_victim_filters_combine() -> None:
    rows = _rows()
    found = filter_groups(rows, GroupFilter(sector="energy", sponsor="RUS", victim="UKR"))
    assert [row.id for row in found] == [SANDWORM]
    kinds = sorted({claim.kind for claim in found[0].matched})
    assert kinds == ["attributed-country", "cfr-sponsor", "target-sector", "victim"]
    apt17 = filter_groups(rows, GroupFilter(sector="energy", victim="JPN"))
    assert [row.name for row in apt17] == ["APT17"]  # its groups are not read: its own row
    assert filter_groups(rows, GroupFilter(sector="water")) == []
    assert [r.name for r in filter_groups(rows, GroupFilter(sector="Energy Company"))] == [
        "Lone Wolf"]


def test_an_actor_linked_to_groups_not_read_is_its_own_row_listing_the_links() -> None:
    rows = _rows()
    apt17 = _row(rows, "APT17")
    assert apt17.kind == "threat-actor"
    assert sorted(link.attack_id for link in apt17.links) == ["G0001", "G0025", "G0044"]
    assert not any(link.imported for link in apt17.links)
    assert all(link.ambiguous for link in apt17.links)


def test_check_sector_refuses_an_unknown_sector_naming_the_choices() -> None:
    import pytest

    from kizuna.errors import InputError

    assert check_sector("Electric") == "energy"
    with pytest.raises(InputError, match="unknown sector 'enrgy'") as caught:
        check_sector("enrgy")
    assert "did you mean energy?" in str(caught.value)
