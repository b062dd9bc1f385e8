"""``kizuna hub peer add|list|remove|status``, ``kizuna hub sync`` and ``org add --identity``:
what they print, and bad input as one line naming the option, exit 1, nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import kizuna
from fedtools import (
    ADMIN,
    ROOT,
    Node,
    build_nodes,
    close_nodes,
    indicator,
    peer,
    serving_nodes,
)
from kizuna.hub.contract import Tlp


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nodes = build_nodes(tmp_path, ["tokyo", "london"])
    yield nodes[0], nodes[1]
    close_nodes(nodes)


def add_args(london: Node, tokyo_url: str, **change: str) -> list[str]:
    options = {"--url": tokyo_url or "http://127.0.0.1:9/taxii2/pact/",
               "--key-ref": "env:KIZUNA_TEST_PEER_KEY",
               "--map": f"{ROOT}/{london.collection}=5a1e2f0c-1b2d-4c3e-8f4a-0b1c2d3e4f50",
               "--org": "tokyo-cert"}
    options.update(change)
    args = ["hub", "peer", "add", "tokyo", "--store", london.store.url]
    for option, value in options.items():
        if value:
            args += [option, value]
    return args


def peers(capsys: pytest.CaptureFixture[str], node: Node) -> list[dict[str, object]]:
    code, out, err = kizuna(capsys, "hub", "peer", "list", "--json", "--store", node.store.url)
    assert (code, err) == (0, "")
    listed: list[dict[str, object]] = json.loads(out)
    return listed


def test_peer_add_list_and_remove(pair: tuple[Node, Node],
                                  capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _, london = pair
    monkeypatch.setenv("KIZUNA_TEST_PEER_KEY", "kz_000000000000_" + "y" * 43)
    code, out, err = kizuna(capsys, *add_args(london, "http://tokyo.example:8000/taxii2/pact",
                                              **{"--allow": "clear,green"}))
    assert (code, err) == (0, "")
    assert out.strip() == ("peer tokyo added: pull with http://tokyo.example:8000/taxii2/pact/ "
                           "for 1 collection, as tokyo-cert; allowed clear, green")
    [listed] = peers(capsys, london)
    assert listed["key_ref"] == "env:KIZUNA_TEST_PEER_KEY"
    assert "kz_000000000000" not in json.dumps(listed)  # the key itself is never stored
    assert listed["maps"] == [{"root": ROOT, "local": london.collection,
                               "remote": "5a1e2f0c-1b2d-4c3e-8f4a-0b1c2d3e4f50"}]
    code, out, _ = kizuna(capsys, "hub", "peer", "list", "--store", london.store.url)
    assert code == 0 and "tokyo-cert" in out and "env:KIZUNA_TEST_PEER_KEY" in out
    code, out, err = kizuna(capsys, "hub", "peer", "remove", "tokyo", "--store",
                            london.store.url)
    assert (code, out.strip(), err) == (0, "peer tokyo removed", "")
    assert peers(capsys, london) == []


def test_a_key_reference_that_is_not_set_here_gets_a_note(
        pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, london = pair
    monkeypatch.delenv("KIZUNA_TEST_PEER_KEY", raising=False)
    code, _, err = kizuna(capsys, *add_args(london, ""))
    assert code == 0
    assert err == ("note: KIZUNA_TEST_PEER_KEY is not set in this shell; set it where "
                   "`kizuna serve` or `kizuna hub sync` runs\n")


BAD = [
    ({"--url": "ftp://tokyo.example/"}, "--url 'ftp://tokyo.example/' is not an http(s) URL"),
    ({"--url": "http://user:secret@tokyo.example/"}, "--url 'http://user:secret@"),
    ({"--key-ref": "kz_0123456789ab_" + "z" * 43},
     "--key-ref takes a reference to the key, never the key itself"),
    ({"--key-ref": "vault:tokyo"}, "--key-ref 'vault:tokyo' is neither env:VAR nor file:PATH"),
    ({"--map": "nonsense"}, "--map 'nonsense' is not LOCAL=REMOTE"),
    ({"--map": "pact/11111111-2222-4333-8444-555555555555=5a1e2f0c-1b2d-4c3e-8f4a-0b1c2d3e4f50"},
     "there is no local collection 11111111-2222-4333-8444-555555555555 in API root 'pact'"),
    ({"--map": "pact/x=y"}, "is not a UUID"),
    ({"--org": "nobody"}, "--org: there is no organisation 'nobody' on this hub"),
    ({"--direction": "sideways"}, "--direction 'sideways' is not pull, push or both"),
    ({"--allow": "green,red"}, "--allow cannot include 'red'"),
    ({"--allow": "blue"}, "--allow has 'blue', which is not clear, green or amber"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_is_one_line_naming_the_option_and_writes_nothing(
        pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str],
        change: dict[str, str], message: str) -> None:
    _, london = pair
    code, out, err = kizuna(capsys, *add_args(london, "", **change))
    assert code == 1, err
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err
    assert peers(capsys, london) == []


def test_a_map_needs_the_peers_organisation_to_have_the_rights(
        pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str]) -> None:
    _, london = pair
    london.hub.change_access(ADMIN, ROOT, london.collection, remove_writers=["tokyo-cert"])
    code, _, err = kizuna(capsys, *add_args(london, "", **{"--direction": "both"}))
    assert code == 1
    assert (f"--map: the peer's organisation tokyo-cert may not write the collection "
            f"{ROOT}/{london.collection} (grant it first: kizuna hub collection grant "
            f"{london.collection} --root {ROOT} --write tokyo-cert)") in err
    assert peers(capsys, london) == []


def test_a_second_peer_with_the_same_name_or_organisation_is_refused(
        pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str]) -> None:
    _, london = pair
    assert kizuna(capsys, *add_args(london, ""))[0] == 0
    code, _, err = kizuna(capsys, *add_args(london, ""))
    assert code == 1 and "the peer 'tokyo' already exists" in err
    other = add_args(london, "")
    other[3] = "tokyo-again"
    code, _, err = kizuna(capsys, *other)
    assert code == 1 and "--org: the organisation 'tokyo-cert' already stands for the peer " \
                         "'tokyo'" in err
    assert [p["name"] for p in peers(capsys, london)] == ["tokyo"]


def test_remove_of_an_unknown_peer_says_how_to_list_them(
        pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str]) -> None:
    _, london = pair
    code, _, err = kizuna(capsys, "hub", "peer", "remove", "nobody", "--store",
                          london.store.url)
    assert (code, err) == (1, "error: no peer 'nobody' (list them: kizuna hub peer list)\n")


def test_org_add_with_an_identity_registers_an_organisation_of_another_node(
        pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str]) -> None:
    _, london = pair
    identity = "identity--0d3c1a7e-4b2f-4e8d-a6c5-1f0e2d3c4b5a"
    code, out, err = kizuna(capsys, "hub", "org", "add", "paris-anssi", "--identity", identity,
                            "--json", "--store", london.store.url)
    assert (code, err) == (0, "")
    made = json.loads(out)
    assert (made["identity_id"], made["remote"]) == (identity, True)
    code, _, err = kizuna(capsys, "hub", "org", "add", "paris-again", "--identity", identity,
                          "--store", london.store.url)
    assert code == 1 and "is already the organisation 'paris-anssi'" in err
    code, _, err = kizuna(capsys, "hub", "org", "add", "rome", "--identity", "identity--rome",
                          "--store", london.store.url)
    assert code == 1 and "'identity--rome' is not a STIX identity id" in err


def test_sync_and_status_through_the_cli(pair: tuple[Node, Node],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    tokyo, london = pair
    tokyo.post(indicator("c", 1, tlp=Tlp.GREEN), indicator("c", 2, tlp=Tlp.RED))
    with serving_nodes([tokyo]):
        peer(london, tokyo)
        peer_args = add_args(london, "http://127.0.0.1:9/taxii2/pact/", **{"--org": "ghost"})
        london.hub.add_org(ADMIN, "ghost", identity_id="identity--9d3c1a7e-4b2f-4e8d-a6c5-"
                                                       "1f0e2d3c4b5a")
        london.hub.change_access(ADMIN, ROOT, london.collection, add_writers=["ghost"])
        peer_args[3] = "ghost"
        peer_args[peer_args.index("--key-ref") + 1] = f"file:{london.key_file(tokyo)}"
        assert kizuna(capsys, *peer_args)[0] == 0
        code, out, err = kizuna(capsys, "hub", "sync", "--store", london.store.url)
    assert code == 1
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert lines["tokyo"].startswith("received 1 (refused 0), sent 0")  # the RED one stays
    assert lines["tokyo"].endswith(" - ok")
    assert lines["ghost"].endswith(" - FAILED")
    assert err.startswith("error: peer ghost: pact/") and "cannot reach the peer" in err
    code, out, err = kizuna(capsys, "hub", "peer", "status", "--json", "--store",
                            london.store.url)
    assert (code, err) == (0, "")
    status = {row["name"]: row for row in json.loads(out)}
    assert status["tokyo"]["in"] == 1 and status["tokyo"]["last_error"] is None
    assert status["tokyo"]["maps"][0]["pull_cursor"] is not None
    assert status["ghost"]["last_error"]["kind"] == "unreachable"
    code, out, _ = kizuna(capsys, "hub", "peer", "status", "ghost", "--store", london.store.url)
    assert code == 0 and "cannot reach the peer" in out and "pull cursor start" in out
