"""The asset register's one schema: columns, kinds, and the Asset record.

``COLUMNS`` drives the file reader (which columns are required, how each cell is checked),
the stored documents and the table in docs/intel.md (a test compares them), so the three
cannot drift. Header names match case-insensitively; spaces and hyphens count as ``_``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["mine", "refinery", "smelter", "port", "plant", "it-ot-system"]
KINDS: tuple[Kind, ...] = ("mine", "refinery", "smelter", "port", "plant", "it-ot-system")
FACILITY_KINDS: frozenset[str] = frozenset({"mine", "refinery", "smelter"})
#: the stage a facility kind implies (a mine cannot be at the refining stage)
KIND_STAGE: dict[str, str] = {"mine": "mining", "refinery": "refining", "smelter": "refining"}


@dataclass(frozen=True)
class Column:
    name: str
    required: bool  # the header must have it (a value may still be optional)
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("asset_id", True, "your identifier, unique in the register: letters, digits and "
           "`. _ : -` (1-64); repeat it on further rows to list more software"),
    Column("name", True, "the asset's name"),
    Column("kind", True, "mine, refinery, smelter, port, plant or it-ot-system "
           "(IT/OT system)"),
    Column("operator", True, "the operating company (may be blank)"),
    Column("country", True, "ISO 3166-1 alpha-3 code (or an exact country name)"),
    Column("sector", True, "a sector of the vocabulary (docs/intel.md): energy, mining, "
           "manufacturing, transport, ..."),
    Column("mineral", False, "mineral slug, name or alias; required for a mine, refinery or "
           "smelter"),
    Column("stage", False, "mining or refining; implied by a mine (mining), refinery or "
           "smelter (refining); required for a port or plant that has a mineral"),
    Column("capacity_tonnes", False, "tonnes a year of the mineral at that stage (>= 0)"),
    Column("capacity_share", False, "share of the country's output of the mineral at that "
           "stage: 0-1 or a percentage such as 35%"),
    Column("part_of", False, "for an IT/OT system: the asset_id of the facility it runs"),
    Column("software_vendor", False, "vendor of one product in use (e.g. Siemens)"),
    Column("software_product", False, "the product (e.g. SIMATIC CP); needs the vendor"),
    Column("software_version", False, "its version, if known (used only with version data)"),
    Column("notes", False, "free text kept with the asset"),
)
REQUIRED = tuple(column.name for column in COLUMNS if column.required)
KNOWN = tuple(column.name for column in COLUMNS)
SOFTWARE_COLUMNS = ("software_vendor", "software_product", "software_version")
ASSET_COLUMNS = tuple(name for name in KNOWN if name not in SOFTWARE_COLUMNS)


@dataclass(frozen=True)
class Software:
    vendor: str
    product: str
    version: str = ""


@dataclass(frozen=True)
class Asset:
    """One asset of an organisation's register (countries ISO3, minerals slugs)."""

    asset_id: str
    name: str
    kind: Kind
    operator: str
    country: str
    sector: str
    mineral: str | None = None
    stage: str | None = None
    capacity_tonnes: float | None = None
    capacity_share: float | None = None
    part_of: str | None = None
    software: tuple[Software, ...] = ()
    notes: str = ""
    row: int = 0  # the first row of the file it came from
    extra: dict[str, str] = field(default_factory=dict)  # columns the schema does not know

    @property
    def is_facility(self) -> bool:
        return self.mineral is not None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["software"] = [asdict(item) for item in self.software]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Asset:
        values = dict(data)
        values["software"] = tuple(Software(**item) for item in values.get("software") or [])
        values["extra"] = dict(values.get("extra") or {})
        return cls(**values)


def columns_markdown() -> str:
    """The column table of docs/intel.md."""
    lines = ["| column | header required | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {'yes' if c.required else 'no'} | {c.description} |"
              for c in COLUMNS]
    return "\n".join(lines)
