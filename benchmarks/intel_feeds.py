"""Import the real public feeds (issue 6) into a fresh SQLite hub and print the figures.

    .venv/bin/python benchmarks/intel_feeds.py [--shared ../shared/data] [--store DIR]

For each file: objects, seconds to read and convert, seconds to import (the report's
bookkeeping included), and the same import again (nothing new is stored). Baseline: the same
objects posted with plain ``Hub.add_objects`` envelopes of 500 into a second collection,
without the manifest and latest-version lookups that make an import report what is new and
keep KEV and galaxy versions stable; the ratio is that overhead.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from kizuna.hub.contract import Actor, Tlp
from kizuna.hub.service import Hub
from kizuna.intel.feeds import import_feed, read_feed
from kizuna.store import open_store

ADMIN = Actor(None, admin=True)
FILES = (
    ("attack", "mitre_attack/ics-attack-18.1.json.gz"),
    ("attack", "mitre_attack/mobile-attack-17.1.json.gz"),
    ("kev", "cisa_kev/known_exploited_vulnerabilities.json"),
    ("galaxy", "misp_galaxy"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--store", type=Path, default=None, help="folder for the SQLite files")
    args = parser.parse_args()
    folder = args.store or Path(tempfile.mkdtemp(prefix="kizuna-intel-bench-"))
    print(f"Python {platform.python_version()}, {platform.machine()}, "
          f"{platform.processor() or 'cpu ?'}; kizuna {version('kizuna')}; store {folder}")
    hub = Hub(open_store(f"sqlite:///{folder / 'bench.db'}"))
    hub.add_org(ADMIN, "bench")
    key = hub.create_key(ADMIN, "bench")[0]
    hub.add_root(ADMIN, "pact")
    ours = hub.add_collection(ADMIN, "pact", title="feeds", readers=["bench"],
                              writers=["bench"], default_tlp=Tlp.CLEAR).id
    plain = hub.add_collection(ADMIN, "pact", title="plain", readers=["bench"],
                               writers=["bench"], default_tlp=Tlp.CLEAR).id
    actor = hub.authenticate(key)
    now = datetime.now(UTC)
    print(f"{'file':48} {'objects':>8} {'read s':>7} {'import s':>9} {'again s':>8} "
          f"{'new':>6} {'again new':>9} {'plain s':>8} {'ratio':>6}")
    for kind, name in FILES:
        started = time.perf_counter()
        feed = read_feed(kind, str(args.shared / name), now=now)
        read = time.perf_counter() - started
        first = import_feed(hub, actor, "pact", ours, feed)
        again = import_feed(hub, actor, "pact", ours, read_feed(kind, str(args.shared / name),
                                                                 now=now))
        started = time.perf_counter()
        for start in range(0, len(feed.objects), 500):
            hub.add_objects(actor, "pact", plain, {"objects": feed.objects[start:start + 500]})
        baseline = time.perf_counter() - started
        print(f"{name:48} {len(feed.objects):8,} {read:7.2f} {first.seconds:9.2f} "
              f"{again.seconds:8.2f} {first.new_objects + first.new_versions:6,} "
              f"{again.new_objects + again.new_versions:9,} {baseline:8.2f} "
              f"{first.seconds / baseline:6.2f}")


if __name__ == "__main__":
    main()
