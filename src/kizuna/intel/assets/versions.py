"""Affected-version data, supplied by the analyst, for the KEV entries that have it.

KEV has no version data, so without this every match says "version not assessed". An
analyst who has the affected ranges (from the vendor's advisory or NVD's CPE configurations)
can supply them as a CSV with the columns ``cve_id`` (required) and any of
``version_start_including``, ``version_start_excluding``, ``version_end_including``,
``version_end_excluding`` (NVD's names), optionally narrowed by ``vendor`` and ``product``.
Several rows for one CVE are several ranges. A match is then "version affected", "version
not affected", or still "not assessed" when the asset's version is unknown.

Versions compare piece by piece: split at ``. - _ +`` and spaces and between digits and
letters, numbers compare as numbers, words as folded text, and a number sorts after a word
(``2.0 < 2.0.1``, ``10.2 > 9.12``, ``1.0rc1 < 1.0.1``). This is an ordering for ranges,
not a claim about any vendor's scheme; check the advisory for anything unusual.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kizuna.intel.assets.matching import product_alternatives, vendor_key
from kizuna.intel.assets.register import Origin

VersionStatus = Literal["affected", "not affected", "not assessed"]
BOUNDS = ("version_start_including", "version_start_excluding", "version_end_including",
          "version_end_excluding")
_PIECES = re.compile(r"\d+|[^\W\d_]+")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,19}$")


def version_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """A sortable key for a version string (see the module docstring)."""
    pieces = _PIECES.findall(str(text).casefold())
    return tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in pieces)


def _less(left: str, right: str) -> bool:
    a, b = version_key(left), version_key(right)
    width = max(len(a), len(b))
    pad = (1, 0, "")
    return a + (pad,) * (width - len(a)) < b + (pad,) * (width - len(b))


@dataclass(frozen=True)
class VersionRange:
    cve: str
    vendor: str = ""
    product: str = ""
    start_including: str = ""
    start_excluding: str = ""
    end_including: str = ""
    end_excluding: str = ""
    row: int = 0

    def covers(self, version: str) -> bool:
        if self.start_including and _less(version, self.start_including):
            return False
        if self.start_excluding and not _less(self.start_excluding, version):
            return False
        if self.end_including and _less(self.end_including, version):
            return False
        return not (self.end_excluding and not _less(version, self.end_excluding))

    def applies_to(self, vendor: str, product: str) -> bool:
        if self.vendor and vendor_key(self.vendor) != vendor_key(vendor):
            return False
        return not self.product or bool(
            set(product_alternatives(self.product)) & set(product_alternatives(product)))

    def describe(self) -> str:
        parts = []
        if self.start_including:
            parts.append(f">= {self.start_including}")
        if self.start_excluding:
            parts.append(f"> {self.start_excluding}")
        if self.end_including:
            parts.append(f"<= {self.end_including}")
        if self.end_excluding:
            parts.append(f"< {self.end_excluding}")
        return " and ".join(parts) or "every version"


class VersionData:
    """Ranges by CVE; ``assess`` says what they make of one asset's software version."""

    def __init__(self, ranges: Sequence[VersionRange] = (), source: str = "") -> None:
        self.source = source
        self._by_cve: dict[str, list[VersionRange]] = {}
        for item in ranges:
            self._by_cve.setdefault(item.cve, []).append(item)

    def __len__(self) -> int:
        return sum(len(items) for items in self._by_cve.values())

    def assess(self, cve: str, vendor: str, product: str, version: str
               ) -> tuple[VersionStatus, str]:
        ranges = [r for r in self._by_cve.get(cve, []) if r.applies_to(vendor, product)]
        if not ranges:
            return "not assessed", "KEV has no version data and none was supplied for " + cve
        where = Path(self.source).name or "the version data"
        if not version:
            return "not assessed", f"{where} has ranges for {cve}, but the asset's version " \
                "is unknown"
        for item in ranges:
            if item.covers(version):
                return "affected", f"{version} is in {item.describe()} ({where} row {item.row})"
        shown = "; ".join(item.describe() for item in ranges)
        return "not affected", f"{version} is outside {shown} ({where})"


def read_versions(path: str | Path) -> VersionData:
    """Read a version-range CSV; one InputError naming file, row and column when bad."""
    origin = Origin(Path(path))
    if not origin.path.is_file():
        raise origin.error(None, None, "no such file")
    try:
        rows = list(csv.reader(io.StringIO(origin.path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise origin.error(None, None, f"cannot read the file as UTF-8 CSV ({error})") from None
    if not rows:
        raise origin.error(None, None, "the file is empty", hint="header: cve_id, "
                           + ", ".join(BOUNDS))
    header = ["_".join(cell.strip().casefold().replace("-", " ").split()) for cell in rows[0]]
    if "cve_id" not in header:
        raise origin.error(1, "cve_id", "missing column",
                           hint="columns: cve_id, vendor, product, " + ", ".join(BOUNDS))
    ranges = []
    for number, record in enumerate(rows[1:], start=2):
        cells = {name: value.strip() for name, value in zip(header, record, strict=False)}
        if not any(cells.values()):
            continue
        cve = cells.get("cve_id", "")
        if not _CVE.match(cve):
            raise origin.error(number, "cve_id", f"{cve!r} is not a CVE id", value=cve)
        if not any(cells.get(name) for name in BOUNDS):
            raise origin.error(number, BOUNDS[0], f"no version bound for {cve}",
                               hint="give at least one of " + ", ".join(BOUNDS))
        start_in, start_ex, end_in, end_ex = (cells.get(name, "") for name in BOUNDS)
        ranges.append(VersionRange(cve, cells.get("vendor", ""), cells.get("product", ""),
                                   start_in, start_ex, end_in, end_ex, row=number))
    return VersionData(ranges, str(origin.path))
