"""Declarative schemas of Kizuna's normalised tables.

One declaration per table: each column's dtype, unit/meaning and whether it may be empty.
It drives the importers' output check, the loader's dtypes and the docs (docs/data.md), so
the three cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kizuna.errors import DataError


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # pandas dtype: "string", "Int64", "Float64", "boolean"
    description: str
    required: bool = True  # False: may be empty (<NA>)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def dtypes(self) -> dict[str, str]:
        return {column.name: column.dtype for column in self.columns}

    def empty(self) -> pd.DataFrame:
        """A frame with this table's columns and dtypes and no rows."""
        return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in self.columns})

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with exactly this table's columns, dtypes and sort order, or raise.

        A missing optional column (one that may be empty) is added empty, so frames built
        before a column was added still conform; a missing required column is a DataError.
        """
        missing = [c.name for c in self.columns if c.required and c.name not in frame.columns]
        if missing:
            raise DataError(f"table {self.name}: missing columns {missing}", table=self.name)
        absent = {c.name: None for c in self.columns if c.name not in frame.columns}
        if absent:
            frame = frame.assign(**absent)
        out = frame[[c.name for c in self.columns]].astype(self.dtypes)
        for column in self.columns:
            if column.required and out[column.name].isna().any():
                bad = out[out[column.name].isna()].head(3).to_dict("records")
                raise DataError(
                    f"table {self.name}: column {column.name!r} is empty in {len(bad)}+ rows, "
                    f"e.g. {bad[0]}",
                    table=self.name,
                    column=column.name,
                )
        duplicated = out.duplicated(list(self.key), keep=False)
        if duplicated.any():
            example = out[duplicated].head(2).to_dict("records")
            raise DataError(
                f"table {self.name}: key {self.key} is not unique, e.g. {example}",
                table=self.name,
            )
        return out.sort_values(list(self.key), kind="stable").reset_index(drop=True)

    def markdown(self) -> str:
        """This table's section of docs/data.md (a test keeps the doc equal to it)."""
        lines = [
            f"### `{self.filename}`",
            "",
            self.description,
            "",
            f"Key: {', '.join(self.key)}",
            "",
            "| column | dtype | required | meaning |",
            "|---|---|---|---|",
        ]
        for c in self.columns:
            meaning = c.description.replace("|", "\\|")
            lines.append(
                f"| `{c.name}` | {c.dtype} | {'yes' if c.required else 'no'} | {meaning} |"
            )
        return "\n".join(lines) + "\n"


SUPPLY = Table(
    name="supply",
    description=(
        "Country-level supply figures per mineral, stage, measure and year: USGS MCS 2026 world "
        "tables (tonnages) and compiled refining shares (fractions). Aggregates (world total, "
        "other countries, rest of world) are rows with is_aggregate=true and an area code "
        "instead of an ISO3 code."
    ),
    columns=(
        Column("mineral", "string", "Mineral slug (see minerals.yaml)"),
        Column("stage", "string", "mining | refining"),
        Column("measure", "string", "production | capacity | reserves | share"),
        Column(
            "series",
            "string",
            "What exactly is measured, as the source names it (e.g. 'Mine production', "
            "'Refinery production', or the refining-share product)",
        ),
        Column(
            "headline",
            "boolean",
            "True for the series analytics use by default for this mineral, stage, measure and "
            "source (e.g. ilmenite, not rutile; silicon metal, not ferrosilicon). Filter on it "
            "before summing countries so that different products are never added together",
        ),
        Column(
            "area", "string", "ISO 3166-1 alpha-3 for countries; WORLD, OTHER or ROW for aggregates"
        ),
        Column("is_aggregate", "boolean", "True for world totals and residual rows"),
        Column("area_name", "string", "The area's name as the source printed it"),
        Column("year", "Int64", "Data year"),
        Column(
            "value", "Float64", "Numeric value in `unit`; empty when the source gives none", False
        ),
        Column("value_min", "Float64", "Lower bound for ranges and '>n' codes", False),
        Column("value_max", "Float64", "Upper bound for ranges and '<n' codes", False),
        Column(
            "value_code",
            "string",
            "The source's code when the cell is not a plain number: NA, W, E, XX, zero(—), >, <, "
            "range, s, Large, Small, Moderate, ...; empty for plain numbers",
            False,
        ),
        Column(
            "unit", "string", "Unit with basis, e.g. 't REO', 't Co content', 'kg Ga', 'fraction'"
        ),
        Column("estimated", "boolean", "True when the source marks the figure as an estimate"),
        Column(
            "confidence",
            "string",
            "high | medium | low: the compiler's grade of a refining-share row (the compiled CSV's "
            "`confidence`); empty for USGS rows, which the publisher does not grade",
            False,
        ),
        Column("source", "string", "Source id (see sources.csv)"),
        Column(
            "citation", "string", "Where in the source: section, statistic, sheet, revision note"
        ),
    ),
    key=("mineral", "stage", "measure", "series", "area", "year", "source"),
)

GOVERNANCE = Table(
    name="governance",
    description="World Bank WGI estimates (standard-normal units) per country and year.",
    columns=(
        Column("iso3", "string", "ISO 3166-1 alpha-3 (WGI codes translated)"),
        Column("year", "Int64", "WGI data year"),
        Column("va", "Float64", "Voice and Accountability", False),
        Column("pv", "Float64", "Political Stability and Absence of Violence/Terrorism", False),
        Column("ge", "Float64", "Government Effectiveness", False),
        Column("rq", "Float64", "Regulatory Quality", False),
        Column("rl", "Float64", "Rule of Law", False),
        Column("cc", "Float64", "Control of Corruption", False),
        Column("source", "string", "Source id"),
    ),
    key=("iso3", "year"),
)

LIST_MEMBERS = Table(
    name="list_members",
    description="Membership of minerals in official critical-mineral lists.",
    columns=(
        Column("list_id", "string", "Kizuna list id, e.g. jp-rare-metals, uk-2024"),
        Column("mineral", "string", "Mineral slug"),
        Column("listed_as", "string", "The name the list uses"),
        Column(
            "category", "string", "critical | strategic | watchlist | ... as the list says", False
        ),
        Column("status", "string", "confirmed | unconfirmed"),
        Column("source", "string", "Citation of the list"),
        Column("note", "string", "Compiler's note", False),
    ),
    key=("list_id", "mineral", "listed_as"),
)

LISTS = Table(
    name="lists",
    description="The official critical-mineral lists themselves.",
    columns=(
        Column("list_id", "string", "Kizuna list id"),
        Column("source_list_id", "string", "Id in the compiled source file"),
        Column("jurisdiction", "string", "EU, UK, US, JP, AU"),
        Column("name", "string", "Official name"),
        Column("year", "Int64", "Year of the list"),
        Column("entries", "Int64", "Rows in the source for this list"),
        Column("complete", "boolean", "False when the compiled list is known to be partial"),
        Column("note", "string", "Completeness or confirmation caveat", False),
    ),
    key=("list_id",),
)

SOURCES = Table(
    name="sources",
    description="Every source a table row cites.",
    columns=(
        Column("source", "string", "Source id used in other tables"),
        Column("title", "string", "Full citation"),
        Column("publisher", "string", "Publisher"),
        Column("version", "string", "Edition or version applied", False),
        Column("url", "string", "Official URL or DOI", False),
        Column("licence", "string", "Licence", False),
    ),
    key=("source",),
)

IMPORTS = Table(
    name="imports",
    description=(
        "Importers' sources by origin: the share of one importing country's imports of a "
        "mineral product that came from each origin, as the publisher states it (USGS import "
        "sources for the United States, by quantity; HMRC trade values for the United Kingdom, "
        "by value in GBP). `stage` is the supply stage the imported product stands for."
    ),
    columns=(
        Column("importer", "string", "ISO3 of the importing country (USA, GBR)"),
        Column("mineral", "string", "Mineral slug"),
        Column("stage", "string", "mining (ores, concentrates, natural graphite) | refining"),
        Column("product", "string",
               "The product as the source names it (USGS detail, HMRC family)"),
        Column("origin", "string", "ISO3 of the origin, or OTHER for the source's residual"),
        Column("origin_name", "string", "The origin as the source printed it"),
        Column("is_aggregate", "boolean", "True for residual rows (other countries)"),
        Column("share", "Float64", "Fraction of the importer's imports of the product (0-1)"),
        Column("basis", "string", "quantity | value-gbp: what the share is a share of"),
        Column("period", "string", "Years or months covered, e.g. 2021-24, 2024-07..2026-06"),
        Column("headline", "boolean", "The product exposure uses for this mineral and stage"),
        Column("source", "string", "Source id (see sources.csv)"),
        Column("citation", "string", "Where in the source"),
    ),
    key=("importer", "mineral", "stage", "product", "origin_name", "source"),
)

PRICES = Table(
    name="prices",
    description=(
        "US prices from the USGS MCS 2026 salient statistics, converted to US dollars per "
        "metric ton of the basis Kizuna's supply tonnes use (e.g. t Co content, t Li content), "
        "one row per mineral, stage of the priced product and year. Used for the cost of "
        "supply lost in disruption scenarios."
    ),
    columns=(
        Column("mineral", "string", "Mineral slug"),
        Column("stage", "string",
               "mining (ore, concentrate) | refining (metal, oxide, chemical): what is priced"),
        Column("year", "Int64", "Price year"),
        Column("usd_per_t", "Float64",
               "US dollars per metric ton of `basis`; empty when USGS gives no figure", False),
        Column("value", "Float64", "The price as published, in `unit`; empty for NA or W",
               False),
        Column("unit", "string", "The unit as USGS prints it, e.g. 'cents per pound'"),
        Column("factor", "Float64", "usd_per_t = value x factor"),
        Column("conversion", "string", "How value becomes usd_per_t, in words"),
        Column("basis", "string", "What one tonne is, e.g. 't Co metal', 't Li content'"),
        Column("product", "string", "The USGS price series (`Statistics_detail`)"),
        Column("estimated", "boolean", "True when USGS marks the figure as an estimate"),
        Column("source", "string", "Source id (see sources.csv)"),
        Column("citation", "string", "Where in the source"),
    ),
    key=("mineral", "stage", "year", "source"),
)

TABLES: tuple[Table, ...] = (SUPPLY, GOVERNANCE, LIST_MEMBERS, LISTS, SOURCES, IMPORTS, PRICES)
