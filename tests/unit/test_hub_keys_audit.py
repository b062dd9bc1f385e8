"""Keys (hashed, shown once, revocable), admin-only configuration, the audit log, the demo."""

from __future__ import annotations

import json

import pytest

from hubtools import ADMIN, COLLECTION, ROOT, indicator, make_hub, partners
from kizuna.errors import ConflictError, InputError, NotFoundError
from kizuna.hub.contract import Actor, AuthError, ForbiddenError, ObjectFilter
from kizuna.hub.demo import DEMO_ROOT, seed_demo
from kizuna.hub.registry import KEYS
from kizuna.store import open_store


def everything_stored(hub: object) -> str:
    store = hub.store  # type: ignore[attr-defined]
    texts = []
    for namespace in ("hub:keys", "hub:orgs", "hub:settings", "hub:status"):
        texts += [json.dumps(store.kv_get(namespace, key)) for key in store.kv_keys(namespace)]
    for namespace in store.namespaces():
        texts += [json.dumps(r.doc) for r in store.query(namespace, versions="all").records]
    return "\n".join(texts)


def test_a_key_authenticates_its_org_and_is_stored_only_as_a_hash() -> None:
    hub = make_hub(open_store("memory://"))
    hub.add_org(ADMIN, "tokyo-cert")
    secret, info = hub.create_key(ADMIN, "tokyo-cert")
    assert secret.startswith(info.key_id + "_")
    assert hub.authenticate(secret) == Actor("tokyo-cert", info.key_id)
    stored = hub.store.kv_get(KEYS, info.key_id)
    assert secret not in json.dumps(stored)
    assert secret.split("_")[-1] not in everything_stored(hub)


@pytest.mark.parametrize("bad", ["kz_nothex", "kz_000000000000_" + "A" * 43, "Bearer x"])
def test_bad_keys_are_401_without_echoing_the_key(bad: str) -> None:
    hub = make_hub(open_store("memory://"))
    with pytest.raises(AuthError) as caught:
        hub.authenticate(bad)
    assert bad not in str(caught.value)
    assert bad not in json.dumps(caught.value.to_dict())


def test_a_revoked_key_is_refused_and_the_secret_never_reaches_audit_or_errors() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    secret = env.keys["tokyo-cert"]
    hub.revoke_key(ADMIN, env.tokyo.key_id or "")
    with pytest.raises(AuthError) as caught:
        hub.authenticate(secret)
    assert secret not in str(caught.value)
    wrong = secret[:-3] + "AAA"
    with pytest.raises(AuthError):
        hub.authenticate(wrong)
    unknown = "kz_000000000000_" + "B" * 43
    with pytest.raises(NotFoundError) as missing:
        hub.revoke_key(ADMIN, unknown)  # a full key pasted by mistake is not echoed
    assert unknown not in str(missing.value)
    audit_text = json.dumps([entry.__dict__ for entry in hub.audit(ADMIN, limit=1000)])
    for text in (secret, wrong, secret.split("_")[-1]):
        assert text not in audit_text
    actions = [(e.action, e.outcome) for e in hub.audit(ADMIN, limit=1000)]
    assert ("key.revoke", "ok") in actions
    assert actions.count(("auth", "denied")) == 2


def test_configuration_is_for_the_local_operator_only() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    for call in (
        lambda: hub.add_org(env.tokyo, "evil"),
        lambda: hub.create_key(env.tokyo, "tokyo-cert"),
        lambda: hub.audit(env.tokyo),
        lambda: hub.keys(env.tokyo),
    ):
        with pytest.raises(ForbiddenError):
            call()
    assert [e.outcome for e in hub.audit(ADMIN, outcome="denied")] == ["denied"] * 4


def test_names_and_duplicates_are_checked() -> None:
    hub = make_hub(open_store("memory://"))
    hub.add_org(ADMIN, "tokyo-cert")
    with pytest.raises(ConflictError):
        hub.add_org(ADMIN, "tokyo-cert")
    with pytest.raises(InputError):
        hub.add_org(ADMIN, "Tokyo CERT")
    hub.add_root(ADMIN, ROOT)
    with pytest.raises(InputError):
        hub.add_collection(ADMIN, ROOT, title="x", id="not-a-uuid")
    with pytest.raises(NotFoundError):
        hub.add_collection(ADMIN, ROOT, title="x", readers=["nobody"])


def test_writes_and_denials_are_audited_in_order_with_since_and_outcome() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    env.post(env.tokyo, indicator(1))
    with pytest.raises(NotFoundError):
        hub.get_objects(env.paris, ROOT, COLLECTION, ObjectFilter())
    entries = hub.audit(ADMIN, limit=1000)
    assert entries[-2].action == "objects.add"
    assert entries[-2].detail["success"] == 1
    assert (entries[-1].actor, entries[-1].outcome) == ("paris-anssi (" + (env.paris.key_id or "")
                                                        + ")", "denied")
    assert len(hub.audit(ADMIN, limit=2)) == 2
    assert hub.audit(ADMIN, limit=2) == entries[-2:]


def test_seed_demo_creates_two_partners_a_shared_collection_and_demo_keys() -> None:
    hub = make_hub(open_store("memory://"))
    assert not hub.has_demo_keys()
    seeded = seed_demo(hub)
    assert seeded["root"] == DEMO_ROOT
    assert [org["title"] for org in seeded["orgs"]] == ["Tokyo (demo)", "London (demo)"]
    assert hub.has_demo_keys()
    tokyo = hub.authenticate(seeded["keys"]["tokyo-cert"])
    london = hub.authenticate(seeded["keys"]["london-ncsc"])
    hub.add_objects(tokyo, DEMO_ROOT, seeded["collection"], {"objects": [indicator(1)]})
    page = hub.get_objects(london, DEMO_ROOT, seeded["collection"], ObjectFilter())
    assert len(page.body["objects"]) == 1
    with pytest.raises(ConflictError):
        seed_demo(hub)
    for key in hub.keys(ADMIN):
        hub.revoke_key(ADMIN, key.key_id)
    assert not hub.has_demo_keys()


def test_discovery_api_root_and_collections_resources() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    assert hub.discovery(Actor(None))["default"] == "/taxii2/pact/"
    root = hub.api_root(env.tokyo, ROOT)
    assert root["versions"] == ["application/taxii+json;version=2.1"]
    listed = hub.collections(env.tokyo, ROOT)["collections"]
    assert [(c["id"], c["can_read"], c["can_write"]) for c in listed] == [(COLLECTION, True, True)]
    assert hub.collections(env.paris, ROOT) == {}
    with pytest.raises(NotFoundError):
        hub.collection(env.paris, ROOT, COLLECTION)
    with pytest.raises(NotFoundError):
        hub.api_root(env.tokyo, "nope")
