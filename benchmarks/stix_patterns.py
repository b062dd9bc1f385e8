"""Patterns/s: Kizuna's STIX 2.1 pattern validator against stix2-patterns' run_validator.

Both validate the same mixed corpus (simple comparisons, compound and qualified patterns,
and a share of invalid ones) in the same run; prints versions, machine and the ratio.

    .venv/bin/python benchmarks/stix_patterns.py [--patterns N] [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from importlib.metadata import version

from kizuna.intel.stix.patterns import is_valid_pattern

SIMPLE = [
    "[file:hashes.'SHA-256' = '{sha256}']",
    "[file:hashes.MD5 = '{md5}']",
    "[ipv4-addr:value = '198.51.100.{n}/32']",
    "[domain-name:value = 'bad{n}.example.com']",
    "[url:value = 'http://example.com/{n}/index.php']",
    "[email-addr:value = 'user{n}@example.com']",
]
COMPOUND = [
    "[file:name = 'dropper{n}.exe' AND file:size > {n}] OR [file:hashes.MD5 = '{md5}']",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_port IN (443, 8443)]"
    " REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "([process:name = 'cmd.exe'] FOLLOWEDBY [file:extensions.'windows-pebinary-ext'"
    ".sections[*].entropy > 7.0]) WITHIN 300 SECONDS",
    "[user-account:account_login = 'u{n}'] START t'2024-01-01T00:00:00Z'"
    " STOP t'2024-12-31T23:59:59.5Z'",
]
INVALID = [
    "[file:name = 'a{n}.exe'",
    "[file:hashes.MD5 = 'not-a-hash-{n}']",
    "[ipv4-addr:value = '10.0.0.{n}'] within 5 seconds",
]


def corpus(size: int, seed: int = 7) -> list[str]:
    """70% simple, 25% compound or qualified, 5% invalid: a plausible ingest mix."""
    rnd = random.Random(seed)
    out = []
    for index in range(size):
        roll = rnd.random()
        group = SIMPLE if roll < 0.70 else COMPOUND if roll < 0.95 else INVALID
        out.append(
            rnd.choice(group).format(
                n=index, md5=f"{rnd.getrandbits(128):032x}", sha256=f"{rnd.getrandbits(256):064x}"
            )
        )
    return out


def rate(check: Callable[[str], bool], patterns: list[str], seconds: float) -> tuple[float, int]:
    """Patterns/s over whole passes of the corpus until ``seconds`` have passed."""
    done, accepted, start = 0, 0, time.perf_counter()
    while True:
        accepted = sum(1 for pattern in patterns if check(pattern))
        done += len(patterns)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed, accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    try:
        from stix2patterns.validator import run_validator  # noqa: PLC0415 (optional extra)
    except ImportError:
        sys.exit("needs stix2-patterns (the dev or bench extra)")

    def reference(pattern: str) -> bool:
        return run_validator(pattern, stix_version="2.1") == []

    patterns = corpus(args.patterns)
    compound = sum(
        1
        for p in patterns
        if " AND " in p or " OR " in p or "WITHIN" in p or "FOLLOWEDBY" in p or "START" in p
    )
    ours, ours_ok = rate(is_valid_pattern, patterns, args.seconds)
    theirs, theirs_ok = rate(reference, patterns, args.seconds)
    if ours_ok != theirs_ok:
        sys.exit(f"verdicts differ: kizuna accepted {ours_ok}, reference {theirs_ok}")
    print(
        f"python {platform.python_version()}, stix2-patterns {version('stix2-patterns')},"
        f" antlr4 runtime {version('antlr4-python3-runtime')}"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.processor() or '?'},"
        f" {platform.system()} {platform.release()}"
    )
    print(
        f"corpus: {len(patterns)} patterns, {compound / len(patterns):.0%} compound or"
        f" qualified, {ours_ok} accepted by both"
    )
    print(f"{'validator':<34}{'patterns/s':>12}{'ratio':>9}")
    print(f"{'stix2patterns run_validator 2.1':<34}{theirs:>12,.0f}{1:>8.2f}x")
    print(f"{'kizuna is_valid_pattern':<34}{ours:>12,.0f}{ours / theirs:>8.2f}x")


if __name__ == "__main__":
    main()
