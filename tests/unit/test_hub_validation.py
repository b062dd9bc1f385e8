"""STIX 2.1 validation on ingest: each rule rejects with its reason; markings fail closed."""

from __future__ import annotations

from typing import Any

import pytest

from hubtools import ADMIN, ROOT, indicator, make_hub, malware, partners, read_all, stix_id, ts
from kizuna.hub.contract import ObjectFilter, Tlp
from kizuna.intel.stix.markings import (
    TLP1_IDS,
    TLP2_IDS,
    level_of,
    official_marking,
    tlp2_marking,
)
from kizuna.intel.stix.objects import Checked, Rejected, check_object, normalise_timestamp
from kizuna.store import open_store


def reason(obj: Any) -> str:
    result = check_object(obj)
    assert isinstance(result, Rejected), result
    return result.reason


def without(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key != name}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (["not", "an", "object"], "the item is not a JSON object"),
        (indicator(1, type="Indicator"), "is not a STIX type name"),
        (indicator(1, id="indicator--123"), "is not <type>--<RFC 4122 UUID>"),
        (indicator(1, id=stix_id("malware", 1)), "does not start with its type"),
        (indicator(1, spec_version="2.0"), 'spec_version must be "2.1"'),
        (without(indicator(1), "spec_version"), 'spec_version must be "2.1"'),
        (without(indicator(1), "modified"), "the property 'modified' is required"),
        (indicator(1, created="2024-01-01 00:00:00"), "is not a STIX timestamp"),
        (indicator(1, modified="2024-01-01T00:00:00+01:00"), "is not a STIX timestamp"),
        (indicator(1, modified="2024-02-30T00:00:00Z"), "is not a real date and time"),
        (indicator(1, created=ts(5), modified=ts(1)), "is earlier than created"),
        (without(indicator(1), "valid_from"), "the property 'valid_from' is required"),
        (without(indicator(1), "pattern_type"), "the property 'pattern_type' is required"),
        (indicator(1, valid_until=ts(0)), "valid_until must be later than valid_from"),
        (indicator(1, pattern="[ipv4-addr:value = "), "the STIX pattern is invalid"),
        (indicator(1, created_by_ref=stix_id("malware", 1)), "is not an identity id"),
        (indicator(1, object_marking_refs=["tlp-red"]), "which is not a marking-definition id"),
        (indicator(1, x_kizuna_recipients=["tokyo"]), "which is not an identity id"),
        (indicator(1, sample_refs="x"), "must be a non-empty list of identifiers"),
        (indicator(1, Bad=1), "is not 3-250 of a-z, 0-9, _"),
        (
            {"type": "relationship", "spec_version": "2.1", "id": stix_id("relationship", 1),
             "created": ts(), "modified": ts(), "relationship_type": "uses",
             "source_ref": stix_id("malware", 1), "target_ref": "nope"},
            "target_ref 'nope' is not a STIX identifier",
        ),
        (
            {"type": "relationship", "spec_version": "2.1", "id": stix_id("relationship", 1),
             "created": ts(), "modified": ts(), "relationship_type": "uses",
             "source_ref": stix_id("malware", 1)},
            "the property 'target_ref' is required",
        ),
        (without(malware(1), "is_family"), "the property 'is_family' is required"),
        ({"type": "ipv4-addr", "id": stix_id("ipv4-addr", 1)}, "'value' is required"),
        ({"type": "bundle", "id": stix_id("bundle", 1)}, "a bundle is not an object"),
        (
            {"type": "marking-definition", "spec_version": "2.1",
             "id": stix_id("marking-definition", 1), "created": ts()},
            "needs definition_type and definition, or extensions",
        ),
        (indicator(1, modified="2024-01-01T00:00:00.1234567Z"), "more precise than a microsecond"),
    ],
)
def test_each_rule_rejects_with_its_reason(obj: Any, expected: str) -> None:
    assert expected in reason(obj)


def test_a_valid_indicator_keeps_the_posted_document_and_a_sortable_version() -> None:
    obj = indicator(1, modified="2024-01-01T00:00:48.1Z", object_marking_refs=[TLP2_IDS[3]])
    checked = check_object(obj)
    assert isinstance(checked, Checked)
    assert checked.obj is obj
    assert checked.version == "2024-01-01T00:00:48.100000Z"
    assert checked.marking_refs == (TLP2_IDS[3],)


def test_normalised_timestamps_sort_as_their_times() -> None:
    texts = ["2024-01-01T00:00:48Z", "2024-01-01T00:00:48.123Z", "2024-01-01T00:00:48.5Z"]
    normalised = [normalise_timestamp(text) for text in texts]
    assert sorted(normalised) == normalised
    assert normalise_timestamp("2024-01-01T00:00:48.1230000Z") == "2024-01-01T00:00:48.123000Z"


def test_non_stix_pattern_types_are_accepted_unvalidated() -> None:
    assert isinstance(check_object(indicator(1, pattern="rule x {", pattern_type="yara")), Checked)


def test_scos_need_no_spec_version_or_timestamps() -> None:
    checked = check_object({"type": "ipv4-addr", "id": stix_id("ipv4-addr", 1), "value": "1.2.3.4"})
    assert isinstance(checked, Checked)
    assert checked.version == ""


# ---------------------------------------------------------------- markings


def test_tlp_levels_take_the_most_restrictive_and_map_tlp1() -> None:
    assert level_of([TLP2_IDS[1], TLP2_IDS[4]]) == 4
    assert level_of([TLP1_IDS["white"]]) == 0
    assert level_of([TLP1_IDS["amber"]]) == 2
    assert level_of([]) is None
    assert official_marking(TLP2_IDS[3]) == tlp2_marking(3)
    assert tlp2_marking(3)["name"] == "TLP:AMBER+STRICT"


def test_the_official_tlp2_ids() -> None:
    assert TLP2_IDS == {
        0: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        1: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        2: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        3: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        4: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }


def test_unknown_marking_rejects_the_object_and_a_posted_one_resolves() -> None:
    env = partners(make_hub(open_store("memory://")))
    custom_id = stix_id("marking-definition", 9)
    marked = indicator(1, object_marking_refs=[custom_id])
    status = env.post(env.tokyo, marked)
    assert "is unknown to this hub (fail closed" in status["failures"][0]["message"]
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": custom_id,
                 "created": ts(), "definition_type": "statement",
                 "definition": {"statement": "Copyright Tokyo"}}
    assert env.post(env.tokyo, statement, marked)["success_count"] == 2
    assert env.post(env.london, indicator(2, object_marking_refs=[custom_id]))["failure_count"] == 0


def test_fake_tlp_markings_are_refused() -> None:
    env = partners(make_hub(open_store("memory://")))
    fake = {**tlp2_marking(0), "id": stix_id("marking-definition", 5)}
    tampered = {**tlp2_marking(4), "name": "TLP:CLEAR"}
    status = env.post(env.tokyo, fake, tampered)
    messages = [failure["message"] for failure in status["failures"]]
    assert "must use the official id" in messages[0]
    assert "but the content differs" in messages[1]
    assert env.post(env.tokyo, tlp2_marking(2))["success_count"] == 1  # preloaded: accepted


def test_unmarked_objects_get_the_collection_default() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)  # default AMBER, no sharing group: readers see it
    env.post(env.tokyo, indicator(1))
    assert len(read_all(hub, env.london)) == 1
    hub.add_collection(
        ADMIN, ROOT, title="red by default", id="9b7e7c1e-5b8a-4f3e-9a61-2f1c0d9e8a02",
        readers=["tokyo-cert", "london-ncsc"], writers=["tokyo-cert"], default_tlp=Tlp.RED,
    )
    hub.add_objects(env.tokyo, ROOT, "9b7e7c1e-5b8a-4f3e-9a61-2f1c0d9e8a02",
                    {"objects": [indicator(2)]})
    page = hub.get_objects(env.london, ROOT, "9b7e7c1e-5b8a-4f3e-9a61-2f1c0d9e8a02",
                           ObjectFilter())
    assert "objects" not in page.body


def test_recipients_must_be_organisations_of_the_hub() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    status = env.post(env.tokyo, indicator(1, tlp=Tlp.RED,
                                           x_kizuna_recipients=[stix_id("identity", 77)]))
    assert "is not an organisation of this hub" in status["failures"][0]["message"]
    london = next(org for org in hub.orgs(ADMIN) if org.name == "london-ncsc")
    env.post(env.tokyo, indicator(2, tlp=Tlp.RED, x_kizuna_recipients=[london.identity_id]))
    assert [o["id"] for o in read_all(hub, env.london)] == [stix_id("indicator", 2)]
