"""Build Kizuna's normalised tables from the public source files, and write them atomically.

``build_tables(source_dir)`` runs every importer on a folder laid out like ``shared/data``
(``usgs_mcs2026/``, ``wgi/``, ``critical_mineral_lists/``, ``refining_shares/``) and returns
the tables conformed to their schemas. ``write_tables`` writes them, with a ``MANIFEST.json``
(table names, files, row counts, sha256), to a temporary folder next to the target and renames
it into place, so a failed build never leaves partial output. It only ever replaces a folder
that holds Kizuna tables and nothing else: any other folder is refused before anything is
written, so pointing ``--out`` at the wrong place cannot delete a user's files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd

from kizuna.data.csvio import to_csv_text
from kizuna.data.importers.imports import import_imports
from kizuna.data.importers.lists import import_lists
from kizuna.data.importers.refining_shares import import_refining_shares
from kizuna.data.importers.usgs import import_usgs
from kizuna.data.importers.usgs_prices import import_prices
from kizuna.data.importers.wgi import import_wgi
from kizuna.data.reference import reference
from kizuna.data.schema import (
    GOVERNANCE,
    IMPORTS,
    LIST_MEMBERS,
    LISTS,
    PRICES,
    SOURCES,
    SUPPLY,
    TABLES,
)
from kizuna.errors import DataError, InputError

MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = 1

SOURCE_ROWS: tuple[dict[str, str | None], ...] = (
    {"source": "usgs-mcs2026", "publisher": "U.S. Geological Survey",
     "title": "U.S. Geological Survey, 2026, Mineral commodity summaries 2026 data release",
     "version": "data release of 2026-02-06 with the v1.3 revisions of 2026-05-27 applied",
     "url": "https://doi.org/10.5066/P1WKQ63T", "licence": "Public domain (U.S. Government work)"},
    {"source": "wgi-2024", "publisher": "World Bank",
     "title": "Kaufmann, D. and A. Kraay (2024), Worldwide Governance Indicators, 2024 Update",
     "version": "2024 update (data to 2023)", "url": "https://www.govindicators.org",
     "licence": "CC BY 4.0"},
    {"source": "iea-cmd-2025", "publisher": "International Energy Agency",
     "title": "IEA (2025), Critical Minerals Dataset (with Global Critical Minerals Outlook "
              "2025); shares computed from IEA data",
     "version": "May 2025 edition",
     "url": "https://www.iea.org/data-and-statistics/data-product/critical-minerals-dataset",
     "licence": "CC BY 4.0"},
    {"source": "iea-gcmo-2024", "publisher": "International Energy Agency",
     "title": "IEA (2024), Global Critical Minerals Outlook 2024 (read via SEAISI summary, "
              "3 Jun 2024)",
     "version": "2024", "url": "https://www.iea.org/reports/global-critical-minerals-outlook-2024",
     "licence": "CC BY 4.0"},
    {"source": "stratas-2023", "publisher": "Stratas Advisors",
     "title": "Stratas Advisors, Battery-Grade Manganese Refining Market Assessment, public "
              "summary (24 Feb 2023)",
     "version": "2023", "url": None, "licence": None},
    {"source": "hmrc-uk-ots", "publisher": "HM Revenue & Customs",
     "title": "HM Revenue & Customs, UK Overseas Trade Statistics, imports by country of "
              "origin (bulk import files, COO-ALPHA), summed by family of HS6 codes",
     "version": "24 months 2024-07 to 2026-06, compiled 2026-08-18",
     "url": "https://www.uktradeinfo.com", "licence": "Open Government Licence v3.0"},
)  # fmt: skip


def _sources(cited: set[str]) -> pd.DataFrame:
    frame = pd.DataFrame(list(SOURCE_ROWS))
    unknown = sorted(cited - set(frame["source"]))
    if unknown:
        raise DataError(f"rows cite unknown source id(s) {unknown}", field="source")
    return frame


def build_tables(source_dir: Path) -> dict[str, pd.DataFrame]:
    """Run every importer on ``source_dir`` and return the conformed tables by name."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise DataError(f"source folder {str(source_dir)!r} does not exist", file=str(source_dir))
    ref = reference()
    supply = pd.concat(
        [import_usgs(source_dir / "usgs_mcs2026", ref),
         import_refining_shares(source_dir, set(ref.minerals))],
        ignore_index=True,
    )  # fmt: skip
    governance = import_wgi(source_dir)
    lists, members = import_lists(source_dir, ref)
    imports = import_imports(source_dir, ref)
    prices = import_prices(source_dir / "usgs_mcs2026")
    cited = (set(supply["source"]) | set(governance["source"]) | set(imports["source"])
             | set(prices["source"]))
    return {
        SUPPLY.name: SUPPLY.conform(supply),
        GOVERNANCE.name: GOVERNANCE.conform(governance),
        LISTS.name: LISTS.conform(lists),
        LIST_MEMBERS.name: LIST_MEMBERS.conform(members),
        SOURCES.name: SOURCES.conform(_sources(cited)),
        IMPORTS.name: IMPORTS.conform(imports),
        PRICES.name: PRICES.conform(prices),
    }


def default_tables_dir() -> Path:
    """The package's own tables folder (where the shipped tables live)."""
    return Path(str(resources.files("kizuna.data").joinpath("tables")))


def table_files() -> frozenset[str]:
    """The names a Kizuna tables folder may hold: each table's CSV and the manifest."""
    return frozenset({MANIFEST, *(table.filename for table in TABLES)})


def check_output_dir(target: Path) -> None:
    """Refuse ``target`` unless it is absent, empty or a Kizuna tables folder (nothing else).

    ``write_tables`` replaces the whole folder, so anything else in it would be lost; this is
    checked before anything is written.
    """
    target = Path(target)
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise _refusal(target, "it exists and is not a folder")
    foreign = _foreign_entries(target)
    if foreign:
        raise _refusal(target, "it is not a Kizuna tables folder", foreign)


def _foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that are not Kizuna table files (sorted)."""
    return sorted(p.name for p in folder.iterdir() if not _is_table_file(p))


def _is_table_file(path: Path) -> bool:
    return path.name in table_files() and path.is_file() and not path.is_symlink()


def _refusal(target: Path, why: str, foreign: list[str] | None = None) -> InputError:
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        why += f" (it holds {', '.join(foreign[:3])}{more})"
    return InputError(
        f"refusing to write tables to {target}: {why}",
        hint="choose a new or empty folder, or one written by kizuna data build",
        path=str(target),
        foreign=foreign or [],
    )


def manifest_text(files: dict[str, bytes], rows: dict[str, int]) -> str:
    """The manifest of a tables folder: deterministic JSON (no dates), one entry per table."""
    entries = [
        {
            "table": table.name,
            "file": table.filename,
            "rows": rows[table.name],
            "sha256": hashlib.sha256(files[table.filename]).hexdigest(),
        }
        for table in TABLES
    ]
    body = {"format": MANIFEST_FORMAT, "written_by": "kizuna data build", "tables": entries}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path | None = None) -> Path:
    """Write every table as CSV plus ``MANIFEST.json`` into ``out_dir`` atomically.

    Returns the folder written. Raises ``InputError`` (writing nothing) when ``out_dir`` exists
    and holds anything but Kizuna table files.
    """
    target = Path(out_dir) if out_dir is not None else default_tables_dir()
    missing = [t.name for t in TABLES if t.name not in tables]
    if missing:
        raise DataError(f"cannot write tables: missing {missing}", field="tables")
    check_output_dir(target)
    files: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for table in TABLES:
        frame = table.conform(tables[table.name])
        files[table.filename] = to_csv_text(table, frame).encode("utf-8")
        rows[table.name] = len(frame)
    files[MANIFEST] = manifest_text(files, rows).encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        staging.chmod(0o755)
        for name, data in files.items():
            (staging / name).write_bytes(data)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    retired.rmdir()
    target.rename(retired)
    try:
        foreign = _foreign_entries(retired)  # a file may have appeared since the first check
        if foreign:
            raise _refusal(target, "it is not a Kizuna tables folder", foreign)
        staging.rename(target)
    except BaseException:
        retired.rename(target)
        raise
    _remove_tables_folder(retired)


def _remove_tables_folder(folder: Path) -> None:
    """Delete a retired tables folder: its table files only, never anything else."""
    for path in folder.iterdir():
        if _is_table_file(path):
            path.unlink()
    with contextlib.suppress(OSError):  # something foreign appeared: keep it, and the folder
        folder.rmdir()
