"""``kizuna hub ...`` as an operator runs it: JSON shapes, text output and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clitools import kizuna

SHARED_ID = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hub.db'}"


def hub_json(capsys: pytest.CaptureFixture[str], store: str, *args: str) -> Any:
    code, out, err = kizuna(capsys, "hub", *args, "--store", store, "--json")
    assert code == 0, err
    return json.loads(out)


def hub_fails(capsys: pytest.CaptureFixture[str], store: str, *args: str) -> tuple[int, str]:
    """Exit code and stderr of a command that must fail with one line and no traceback."""
    code, out, err = kizuna(capsys, "hub", *args, "--store", store)
    assert code != 0
    assert out == ""
    assert "Traceback" not in err
    return code, err


@pytest.fixture
def partners(capsys: pytest.CaptureFixture[str], store: str) -> str:
    """Two organisations, a root and nothing else."""
    hub_json(capsys, store, "org", "add", "tokyo-cert", "--title", "Tokyo CERT")
    hub_json(capsys, store, "org", "add", "london-ncsc")
    hub_json(capsys, store, "root", "add", "intel", "--title", "Partner intelligence")
    return store


def test_org_add_and_list_show_the_producer_identity(capsys, store: str) -> None:  # type: ignore[no-untyped-def]
    added = hub_json(capsys, store, "org", "add", "tokyo-cert", "--title", "Tokyo CERT")
    assert added["name"] == "tokyo-cert" and added["title"] == "Tokyo CERT"
    assert added["identity_id"].startswith("identity--")
    listed = hub_json(capsys, store, "org", "list")
    assert [org["name"] for org in listed] == ["tokyo-cert"]
    code, out, _ = kizuna(capsys, "hub", "org", "list", "--store", store)
    assert code == 0 and "tokyo-cert" in out and "1 organisations" in out


def test_key_create_prints_the_key_once_and_key_list_never_shows_it(  # type: ignore[no-untyped-def]
    capsys, partners: str
) -> None:
    created = hub_json(capsys, partners, "key", "create", "--org", "tokyo-cert")
    assert set(created) == {"org", "key", "key_id"}
    assert created["org"] == "tokyo-cert"
    assert created["key"].startswith(created["key_id"])
    listed = hub_json(capsys, partners, "key", "list", "--org", "tokyo-cert")
    assert [key["key_id"] for key in listed] == [created["key_id"]]
    code, out, _ = kizuna(capsys, "hub", "key", "list", "--store", partners, "--json")
    assert code == 0 and created["key"] not in out
    text_code, text, _ = kizuna(capsys, "hub", "key", "create", "--org", "london-ncsc",
                                "--store", partners)
    assert text_code == 0 and "shown once" in text


def test_key_revoke_marks_the_key_revoked(capsys, partners: str) -> None:  # type: ignore[no-untyped-def]
    created = hub_json(capsys, partners, "key", "create", "--org", "tokyo-cert")
    revoked = hub_json(capsys, partners, "key", "revoke", created["key_id"])
    assert revoked["key_id"] == created["key_id"] and revoked["revoked"]
    listed = hub_json(capsys, partners, "key", "list")
    assert listed[0]["revoked"] == revoked["revoked"]


def test_group_add_names_its_members(capsys, partners: str) -> None:  # type: ignore[no-untyped-def]
    group = hub_json(capsys, partners, "group", "add", "g7-certs",
                     "--orgs", "tokyo-cert,london-ncsc")
    assert group == {"name": "g7-certs", "members": ["london-ncsc", "tokyo-cert"]}


def test_root_add_returns_the_root(capsys, store: str) -> None:  # type: ignore[no-untyped-def]
    root = hub_json(capsys, store, "root", "add", "intel", "--title", "Partner intelligence")
    assert root["name"] == "intel" and root["title"] == "Partner intelligence"
    assert root["max_content_length"] == 10 * 1024 * 1024
    small = hub_json(capsys, store, "root", "add", "small", "--max-content-length", "4096")
    assert small["max_content_length"] == 4096


def test_collection_add_keeps_a_given_id_and_list_shows_readers_and_writers(  # type: ignore[no-untyped-def]
    capsys, partners: str
) -> None:
    hub_json(capsys, partners, "group", "add", "pact", "--orgs", "tokyo-cert,london-ncsc")
    made = hub_json(capsys, partners, "collection", "add", "--root", "intel",
                    "--title", "Shared", "--id", SHARED_ID, "--read", "tokyo-cert,london-ncsc",
                    "--write", "tokyo-cert", "--group", "pact")
    assert made["id"] == SHARED_ID
    assert made["readers"] == ["london-ncsc", "tokyo-cert"]
    assert made["writers"] == ["tokyo-cert"]
    assert made["sharing_group"] == "pact"
    fresh = hub_json(capsys, partners, "collection", "add", "--root", "intel", "--title", "New")
    assert fresh["id"] != SHARED_ID and len(fresh["id"]) == 36
    listed = hub_json(capsys, partners, "collection", "list", "--root", "intel")
    assert {c["id"] for c in listed} == {SHARED_ID, fresh["id"]}
    code, out, _ = kizuna(capsys, "hub", "collection", "list", "--store", partners)
    assert code == 0 and "2 collections" in out


def test_collection_default_tlp_grant_and_revoke(capsys, partners: str) -> None:  # type: ignore[no-untyped-def]
    made = hub_json(capsys, partners, "collection", "add", "--root", "intel", "--title", "ATT&CK",
                    "--id", SHARED_ID, "--read", "tokyo-cert", "--write", "tokyo-cert",
                    "--default-tlp", "TLP:CLEAR")
    assert made["default_tlp"] == "CLEAR"
    granted = hub_json(capsys, partners, "collection", "grant", SHARED_ID, "--root", "intel",
                       "--read", "london-ncsc")
    assert granted["readers"] == ["london-ncsc", "tokyo-cert"]
    assert granted["writers"] == ["tokyo-cert"]
    revoked = hub_json(capsys, partners, "collection", "revoke", SHARED_ID, "--root", "intel",
                       "--write", "tokyo-cert")
    assert revoked["readers"] == ["london-ncsc", "tokyo-cert"] and revoked["writers"] == []
    [listed] = hub_json(capsys, partners, "collection", "list")
    assert listed["readers"] == ["london-ncsc", "tokyo-cert"] and listed["writers"] == []
    actions = [e["action"] for e in hub_json(capsys, partners, "audit", "--limit", "5")]
    assert actions.count("collection.access") == 2


def test_a_partner_granted_later_reads_what_was_stored_before(tmp_path: Path) -> None:
    from hubtools import indicator
    from kizuna.errors import NotFoundError
    from kizuna.hub.contract import Actor, ObjectFilter, Tlp
    from kizuna.hub.service import Hub
    from kizuna.store import open_store

    admin = Actor(None, admin=True)
    with open_store(f"sqlite:///{tmp_path / 'g.db'}") as opened:
        hub = Hub(opened)
        for org in ("tokyo-cert", "london-ncsc"):
            hub.add_org(admin, org)
        hub.add_root(admin, "intel")
        made = hub.add_collection(admin, "intel", title="T", readers=["tokyo-cert"],
                                  writers=["tokyo-cert"])
        hub.add_objects(Actor("tokyo-cert"), "intel", made.id,
                        {"objects": [indicator(7, tlp=Tlp.GREEN)]})
        london = Actor("london-ncsc")
        with pytest.raises(NotFoundError, match="does not exist"):
            hub.get_objects(london, "intel", made.id, ObjectFilter())
        hub.change_access(admin, "intel", made.id, add_readers=["london-ncsc"])
        objects = hub.get_objects(london, "intel", made.id, ObjectFilter()).body["objects"]
        assert [o["id"] for o in objects] == [indicator(7)["id"]]


def test_audit_records_key_changes_and_filters_by_outcome(capsys, partners: str) -> None:  # type: ignore[no-untyped-def]
    created = hub_json(capsys, partners, "key", "create", "--org", "tokyo-cert")
    entries = hub_json(capsys, partners, "audit", "--limit", "50")
    assert entries and {"at", "actor", "action", "target", "outcome"} <= set(entries[0])
    assert all(created["key"] not in json.dumps(entry) for entry in entries)
    assert hub_json(capsys, partners, "audit", "--outcome", "denied") == []
    code, out, _ = kizuna(capsys, "hub", "audit", "--store", partners)
    assert code == 0 and "audit entries" in out


@pytest.mark.parametrize("args, message", [
    (("key", "create", "--org", "nobody"), "nobody"),
    (("key", "revoke", "kz_nothing"), "no such API key"),
    (("collection", "add", "--root", "nowhere", "--title", "T"), "nowhere"),
    (("collection", "add", "--root", "intel", "--title", "T", "--read", "ghost-org"),
     "ghost-org"),
    (("group", "add", "g", "--orgs", "tokyo-cert,ghost-org"), "ghost-org"),
    (("org", "add", "Not A Slug"), "Not A Slug"),
    (("collection", "grant", SHARED_ID, "--root", "intel", "--read", "tokyo-cert"),
     SHARED_ID),
    (("collection", "grant", "not-a-uuid", "--root", "intel", "--read", "tokyo-cert"),
     "not-a-uuid"),
])
def test_bad_input_is_one_line_and_exit_1(  # type: ignore[no-untyped-def]
    capsys, partners: str, args: tuple[str, ...], message: str
) -> None:
    code, err = hub_fails(capsys, partners, *args)
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_adding_an_organisation_twice_is_an_error(capsys, partners: str) -> None:  # type: ignore[no-untyped-def]
    code, err = hub_fails(capsys, partners, "org", "add", "tokyo-cert")
    assert code == 1 and "tokyo-cert" in err and err.count("\n") == 1


@pytest.mark.parametrize("args", [
    ("collection", "add", "--root", "intel", "--title", "T", "--id", "not-a-uuid"),
    ("group", "add", "g", "--orgs", "tokyo-cert,,london-ncsc"),
    ("collection", "add", "--root", "intel", "--title", "T", "--read", ","),
    ("audit", "--outcome", "maybe"),
    ("audit", "--limit", "0"),
    ("root", "add", "tiny", "--max-content-length", "10"),
    ("key", "create"),
    ("collection", "add", "--root", "intel", "--title", "T", "--default-tlp", "purple"),
    ("collection", "grant", SHARED_ID, "--root", "intel"),
])
def test_bad_arguments_exit_2(capsys, partners: str, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    code, err = hub_fails(capsys, partners, *args)
    assert code == 2
    assert err.strip()
