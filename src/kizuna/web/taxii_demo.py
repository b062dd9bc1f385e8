"""What ``kizuna serve`` does with the hub before it serves: production check and demo seeding.

* ``settings.production``: refuse to start while any demo key is active (one line, exit 1).
* ``settings.demo`` (default on, never in production): on a hub with no organisations, seed
  the two demo partners with a shared collection (``kizuna.hub.demo.seed_demo``) and return
  a banner with their keys — printed once, clearly marked DEMO — and a curl example.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kizuna.errors import KizunaError
from kizuna.hub.contract import Actor, HubService
from kizuna.settings import Settings
from kizuna.web.context import WebContext
from kizuna.web.taxii_http import TAXII_MEDIA

ADMIN = Actor(org=None, admin=True)


class DemoKeyInProduction(KizunaError):
    """``--production`` with a demo key still active."""

    status = 503
    code = "demo-key-in-production"


def prepare_hub(context: WebContext, settings: Settings, url: str) -> str:
    """Check production mode and seed the demo; the banner to print ('' when nothing)."""
    hub = context.hub()
    if settings.production:
        if hub.has_demo_keys():
            raise DemoKeyInProduction(
                "refusing to start in production mode: demo API keys are active",
                hint="revoke them (kizuna hub key list, kizuna hub key revoke KEY_ID) "
                     "or start without --production",
            )
        return ""
    from kizuna.hub.demo import seed_demo  # noqa: PLC0415 - only on a first start
    from kizuna.hub.service import Hub  # noqa: PLC0415

    if not settings.demo or not isinstance(hub, Hub) or hub.orgs(ADMIN):
        return ""
    seeded = seed_demo(hub)
    return demo_banner(seeded, url) + _threat_demo(context, hub, seeded)


def _threat_demo(context: WebContext, hub: HubService, seeded: Mapping[str, Any]) -> str:
    """Load the SYNTHETIC threat demo (indicators, actors, an asset register) as the first
    demo partner, so the Threat intel pages have something to show on a first start."""
    from kizuna.intel.demo import load_demo  # noqa: PLC0415 - only on a first start

    keys: Mapping[str, str] = seeded.get("keys", {})
    first = next(iter(keys), None)
    if first is None or context.store is None:
        return ""
    actor = hub.authenticate(keys[first])
    loaded = load_demo(hub, actor, str(seeded.get("root")), str(seeded.get("collection")),
                       context.store, dataset=context.dataset())
    return (f"\nSYNTHETIC threat demo loaded as {first}: {loaded.bundle.new_objects} made-up "
            f"objects and {loaded.register.assets} assets. Sign in to /intel with any user "
            f"name and {first}'s key as the password.")


def demo_banner(seeded: Mapping[str, Any], url: str) -> str:
    """The DEMO block: each demo organisation's key once, and a ready-to-paste curl."""
    keys: Mapping[str, str] = seeded.get("keys", {})
    root = seeded.get("root", "demo")
    collection = seeded.get("collection", "")
    base = url.rstrip("/")
    width = max((len(org) for org in keys), default=0)
    lines = [
        "=" * 78,
        "DEMO: this hub was empty, so two demo partner organisations were created.",
        "DEMO keys (shown only now; for trying the hub, never for real intelligence):",
    ]
    lines += [f"  DEMO {org.ljust(width)}  {key}" for org, key in keys.items()]
    first = next(iter(keys.values()), "KEY")
    lines += [
        f"Shared collection {collection} in API root /taxii2/{root}/.",
        "Try:",
        f"  curl -H 'Accept: {TAXII_MEDIA}' -H 'Authorization: Bearer {first}' \\",
        f"       {base}/taxii2/{root}/collections/",
        "Start with --no-demo to skip this; --production refuses to start while demo keys",
        "are active (revoke them with: kizuna hub key revoke KEY_ID).",
        "=" * 78,
    ]
    return "\n".join(lines)
