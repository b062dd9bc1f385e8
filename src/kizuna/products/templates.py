"""Product templates: cited default BOMs shipped as YAML, with editable parameters.

Each template is one file ``kizuna/products/templates/<id>.yaml`` holding every figure and its
source; this module only reads them. A template has parameters (numbers with a range, or a
choice among named options that bind numbers), constants, checks, and lines whose ``kg`` is a
number or a small arithmetic expression (+ - * / and parentheses) over parameters and constants.
``load_template(id, params)`` evaluates them into a ``Product``; a user's own YAML file in the
same shape is read by ``load_template_file``. The format is described in docs/products.md.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kizuna.errors import DataError, InputError, KizunaError, NotFoundError
from kizuna.model.countries import to_iso3
from kizuna.products.model import (
    Check,
    Choice,
    Formula,
    Line,
    LineSpec,
    Parameter,
    ParamValue,
    Product,
    TemplateSpec,
)
from kizuna.products.units import LCE_PER_LI

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset

TEMPLATE_IDS: tuple[str, ...] = (
    "nmc811",
    "lfp",
    "ndfeb-motor",
    "wind-dd",
    "jet-engine",
    "fighter-ree",
)
"""The templates shipped with Kizuna, one YAML file each."""

BUILTIN_NAMES: dict[str, float] = {"lce_per_li": LCE_PER_LI}
"""Names every expression may use besides the template's own parameters and constants."""

_TOP_KEYS = frozenset({
    "id", "name", "unit", "description", "parameters", "constants", "checks", "lines",
    "sources", "assumptions",
})
_PARAM_KEYS = frozenset({"name", "default", "min", "max", "unit", "description", "sources",
                         "choices"})
_CHOICE_KEYS = frozenset({"description", "sources", "assumption", "values"})
_LINE_KEYS = frozenset({"component", "mineral", "kg", "sources", "note", "sourcing", "owners"})
_CHECK_KEYS = frozenset({"expr", "min", "message"})
_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?::([^{}]*))?\}")


class _Parser:
    """Reads one template file's raw YAML into a TemplateSpec, naming the place of any error."""

    def __init__(self, origin: str, error: type[KizunaError]) -> None:
        self.origin = origin
        self.error = error

    def fail(self, where: str, problem: str, hint: str | None = None) -> KizunaError:
        return self.error(f"{self.origin}: {where}: {problem}", hint=hint, file=self.origin,
                          field=where)

    def mapping(self, raw: object, where: str, keys: frozenset[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, "expected a mapping")
        unknown = sorted(str(key) for key in raw if key not in keys)
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r}",
                            hint=f"known keys: {', '.join(sorted(keys))}")
        return raw

    def text(self, raw: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(where, f"missing {key!r}")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(where, f"{key!r} must be text")
        return " ".join(str(value).split())

    def number(self, raw: object, where: str) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise self.fail(where, f"expected a number, got {raw!r}")
        return float(raw)

    def formula(self, raw: object, where: str, known: set[str]) -> Formula:
        try:
            formula = Formula.parse(raw)
        except ValueError as error:
            raise self.fail(where, str(error)) from None
        unknown = sorted(formula.names - known)
        if unknown:
            raise self.fail(where, f"unknown name {unknown[0]!r} in {formula.text!r}",
                            hint=f"known names: {', '.join(sorted(known))}")
        return formula

    def source_keys(self, raw: object, where: str, known: set[str]) -> tuple[str, ...]:
        keys = [raw] if isinstance(raw, str) else raw if raw is not None else []
        if not isinstance(keys, list):
            raise self.fail(where, "sources must be a list of source keys")
        for key in keys:
            if key not in known:
                raise self.fail(where, f"unknown source {key!r}",
                                hint=f"known sources: {', '.join(sorted(known))}")
        return tuple(str(key) for key in keys)

    def parse(self, raw: object, template_id: str) -> TemplateSpec:
        top = self.mapping(raw, "top level", _TOP_KEYS)
        sources = self.sources(top.get("sources"))
        parameters = tuple(
            self.parameter(item, f"parameters[{index}]", set(sources))
            for index, item in enumerate(top.get("parameters") or [])
        )
        known = set(BUILTIN_NAMES)
        for parameter in parameters:
            if parameter.name in known:
                raise self.fail("parameters", f"duplicate name {parameter.name!r}")
            known.add(parameter.name)
            if parameter.choices:
                known.update(next(iter(parameter.choices.values())).values)
        constants = self.constants(top.get("constants") or {}, known)
        choice_names = {p.name for p in parameters if p.choices is not None}
        lines = tuple(
            self.line(item, f"lines[{index}]", known, set(sources) | choice_names)
            for index, item in enumerate(self.listing(top, "lines"))
        )
        return TemplateSpec(
            id=self.text(top, "id", "top level", required=False) or template_id,
            name=self.text(top, "name", "top level"),
            unit=self.text(top, "unit", "top level"),
            description=self.text(top, "description", "top level", required=False),
            parameters=parameters,
            constants=constants,
            checks=tuple(self.check(item, f"checks[{index}]", known)
                         for index, item in enumerate(top.get("checks") or [])),
            lines=lines,
            sources=sources,
            assumptions=self.assumptions(top.get("assumptions") or [], known | choice_names),
            origin=self.origin,
        )

    def listing(self, top: dict[str, Any], key: str) -> list[Any]:
        items = top.get(key)
        if not isinstance(items, list) or not items:
            raise self.fail(key, f"expected a non-empty list of {key}")
        return items

    def sources(self, raw: object) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail("sources", "expected a mapping of key: citation")
        return {str(key): " ".join(str(text).split()) for key, text in raw.items()}

    def parameter(self, raw: object, where: str, sources: set[str]) -> Parameter:
        item = self.mapping(raw, where, _PARAM_KEYS)
        name = self.text(item, "name", where)
        if not _NAME.match(name):
            raise self.fail(where, f"parameter name {name!r} must be lower_snake_case")
        where = f"parameter {name!r}"
        description = self.text(item, "description", where)
        unit = self.text(item, "unit", where, required=False)
        keys = self.source_keys(item.get("sources"), where, sources)
        if "choices" in item:
            choices = self.choices(item["choices"], where, sources)
            default = str(item.get("default", ""))
            if default not in choices:
                raise self.fail(where, f"default {default!r} is not one of the choices")
            return Parameter(name, description, default, unit=unit, sources=keys,
                             choices=choices)
        low = self.number(item["min"], where) if item.get("min") is not None else None
        high = self.number(item["max"], where) if item.get("max") is not None else None
        default_number = self.number(item.get("default"), f"{where} default")
        if (low is not None and default_number < low) or (
            high is not None and default_number > high
        ):
            raise self.fail(where, f"default {default_number:g} is outside its range")
        return Parameter(name, description, default_number, minimum=low, maximum=high,
                         unit=unit, sources=keys)

    def choices(self, raw: object, where: str, sources: set[str]) -> dict[str, Choice]:
        if not isinstance(raw, dict) or not raw:
            raise self.fail(where, "choices must be a non-empty mapping")
        choices: dict[str, Choice] = {}
        for value, spec in raw.items():
            at = f"{where} choice {value!r}"
            item = self.mapping(spec, at, _CHOICE_KEYS)
            values = item.get("values") or {}
            if not isinstance(values, dict):
                raise self.fail(at, "values must be a mapping of name: number")
            choices[str(value)] = Choice(
                value=str(value),
                description=self.text(item, "description", at),
                sources=self.source_keys(item.get("sources"), at, sources),
                assumption=self.text(item, "assumption", at, required=False),
                values={str(k): self.number(v, f"{at} {k}") for k, v in values.items()},
            )
        bound = [set(choice.values) for choice in choices.values()]
        if any(names != bound[0] for names in bound):
            raise self.fail(where, "every choice must bind the same names")
        return choices

    def constants(self, raw: object, known: set[str]) -> tuple[tuple[str, Formula], ...]:
        if not isinstance(raw, dict):
            raise self.fail("constants", "expected a mapping of name: number or expression")
        constants: list[tuple[str, Formula]] = []
        for name, value in raw.items():
            if not _NAME.match(str(name)) or name in known:
                raise self.fail("constants", f"bad or duplicate name {name!r}")
            constants.append((str(name), self.formula(value, f"constant {name!r}", known)))
            known.add(str(name))
        return tuple(constants)

    def check(self, raw: object, where: str, known: set[str]) -> Check:
        item = self.mapping(raw, where, _CHECK_KEYS)
        return Check(self.formula(item.get("expr"), where, known),
                     self.number(item.get("min", 0), where), self.text(item, "message", where))

    def line(self, raw: object, where: str, known: set[str], sources: set[str]) -> LineSpec:
        item = self.mapping(raw, where, _LINE_KEYS)
        return LineSpec(
            component=self.text(item, "component", where),
            mineral=self.text(item, "mineral", where),
            kg=self.formula(item.get("kg"), f"{where} kg", known),
            sources=self.source_keys(item.get("sources"), where, sources),
            note=self.text(item, "note", where, required=False),
            sourcing=self.sourcing(item.get("sourcing") or {}, where),
            owners=self.owners(item.get("owners") or {}, where),
        )

    def sourcing(self, raw: object, where: str) -> dict[str, dict[str, float]]:
        if not isinstance(raw, dict):
            raise self.fail(where, "sourcing must map a stage to {country: share}")
        sourcing: dict[str, dict[str, float]] = {}
        for stage, shares in raw.items():
            if not isinstance(shares, dict):
                raise self.fail(where, f"sourcing {stage!r} must map a country to a share")
            sourcing[str(stage)] = {
                self.country(country, where): self.number(share, f"{where} {stage} {country}")
                for country, share in shares.items()
            }
        return sourcing

    def owners(self, raw: object, where: str) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.fail(where, "owners must map a stage to a country")
        return {str(stage): self.country(country, where) for stage, country in raw.items()}

    def country(self, raw: object, where: str) -> str:
        try:
            return to_iso3(str(raw))
        except InputError as error:
            raise self.fail(where, error.message, hint=error.hint) from None

    def assumptions(self, raw: object, known: set[str]) -> tuple[str, ...]:
        if not isinstance(raw, list):
            raise self.fail("assumptions", "expected a list of sentences")
        for sentence in raw:
            for match in _PLACEHOLDER.finditer(str(sentence)):
                if match.group(1) not in known:
                    raise self.fail("assumptions", f"unknown name {match.group(1)!r}")
        return tuple(" ".join(str(sentence).split()) for sentence in raw)


def parse_template(raw: object, *, origin: str, template_id: str, user: bool) -> TemplateSpec:
    """Parse a template's YAML data; errors are InputError for user files, else DataError."""
    return _Parser(origin, InputError if user else DataError).parse(raw, template_id)


@cache
def _shipped(template_id: str) -> TemplateSpec:
    text = resources.files("kizuna.products").joinpath("templates", f"{template_id}.yaml")
    origin = f"templates/{template_id}.yaml"
    return parse_template(yaml.safe_load(text.read_text("utf-8")), origin=origin,
                          template_id=template_id, user=False)


# --- evaluation --------------------------------------------------------------------------------


def _coerce(spec: TemplateSpec, parameter: Parameter, raw: ParamValue) -> ParamValue:
    """A given parameter value, checked against the parameter's range or choices."""
    problem = f"template {spec.id!r}: parameter {parameter.name!r} must be {parameter.allowed()}"
    fields = {"field": "parameter", "parameter": parameter.name, "value": str(raw)}
    if parameter.choices is not None:
        value = str(raw).strip().casefold()
        if value not in parameter.choices:
            raise InputError(f"{problem}, got {raw!r}", hint=f"e.g. {parameter.name}="
                             f"{parameter.default}", **fields)
        return value
    try:
        number = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    low = -math.inf if parameter.minimum is None else parameter.minimum
    high = math.inf if parameter.maximum is None else parameter.maximum
    if not (math.isfinite(number) and low <= number <= high):
        raise InputError(f"{problem}, got {raw!r}",
                         hint=f"e.g. {parameter.name}={parameter.default:g}", **fields)
    return number


def _resolve(spec: TemplateSpec, params: Mapping[str, ParamValue] | None) -> dict[str, ParamValue]:
    known = {parameter.name: parameter for parameter in spec.parameters}
    given = dict(params or {})
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            listed = ", ".join(known) if known else "(none)"
            hint = f"did you mean {close[0]}? " if close else ""
            raise InputError(
                f"template {spec.id!r} has no parameter {name!r}",
                hint=f"{hint}parameters: {listed}",
                field="parameter",
                parameter=name,
                value=name,
            )
    return {
        name: _coerce(spec, parameter, given[name]) if name in given else parameter.default
        for name, parameter in known.items()
    }


def _names(spec: TemplateSpec, values: Mapping[str, ParamValue]) -> dict[str, float]:
    names = dict(BUILTIN_NAMES)
    for parameter in spec.parameters:
        value = values[parameter.name]
        if parameter.choices is not None:
            names.update(parameter.choices[str(value)].values)
        else:
            names[parameter.name] = float(value)
    for name, formula in spec.constants:
        names[name] = formula(names)
    for check in spec.checks:
        result = check.expr(names)
        if not result >= check.minimum - 1e-12:
            shown = ", ".join(f"{n}={values[n]}" for n in sorted(check.expr.names & set(values)))
            raise InputError(f"template {spec.id!r}: {check.message} (got {shown})",
                             hint="change the parameters", field="parameter", value=shown)
    return names


def _fill(sentence: str, names: Mapping[str, float], values: Mapping[str, ParamValue]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, form = match.group(1), match.group(2) or ""
        value: ParamValue = values[name] if name in values else names[name]
        return format(value, form) if isinstance(value, float) else str(value)

    return _PLACEHOLDER.sub(replace, sentence)


def _parameter_sentence(spec: TemplateSpec, values: Mapping[str, ParamValue],
                        given: Mapping[str, ParamValue]) -> str:
    parts = []
    for parameter in spec.parameters:
        value = values[parameter.name]
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        unit = f" {parameter.unit}" if parameter.unit else ""
        origin = "given" if parameter.name in given else "default"
        parts.append(f"{parameter.name} = {shown}{unit} ({origin})")
    return "Parameters: " + "; ".join(parts) + "."


def build_product(spec: TemplateSpec, params: Mapping[str, ParamValue] | None = None, *,
                  product_id: str | None = None, default_citation: str = "") -> Product:
    """Evaluate a parsed template with ``params`` into a Product (zero-kg lines left out)."""
    values = _resolve(spec, params)
    names = _names(spec, values)
    chosen = {p.name: p.choices[str(values[p.name])] for p in spec.parameters if p.choices}
    used: list[str] = [key for p in spec.parameters if not p.choices for key in p.sources]
    used += [key for choice in chosen.values() for key in choice.sources]
    lines: list[Line] = []
    dropped: list[str] = []
    for item in spec.lines:
        kg = item.kg(names)
        if not kg >= 0:
            raise InputError(
                f"template {spec.id!r}: {item.mineral} in {item.component!r} comes to {kg:g} kg",
                hint="check the parameters and the expression " + item.kg.text,
                field="kg",
                value=item.kg.text,
            )
        if kg == 0:
            dropped.append(f"{item.mineral} ({item.component})")
            continue
        keys = [k for key in item.sources for k in (chosen[key].sources if key in chosen
                                                     else (key,))]
        used += keys
        citation = "; ".join(dict.fromkeys(spec.sources[key] for key in keys))
        lines.append(Line(item.mineral, kg, item.component, item.sourcing, item.owners,
                          citation or default_citation, item.note))
    assumptions = [_parameter_sentence(spec, values, params or {})]
    assumptions += [choice.assumption for choice in chosen.values() if choice.assumption]
    assumptions += [_fill(sentence, names, values) for sentence in spec.assumptions]
    if dropped:
        assumptions.append("Lines that come to 0 kg are left out: " + ", ".join(dropped) + ".")
    return Product(
        id=product_id or spec.id,
        name=spec.name,
        unit=spec.unit,
        volume=1.0,
        lines=tuple(lines),
        assumptions=tuple(assumptions),
        sources=tuple(spec.sources[key] for key in spec.sources if key in set(used)),
    )


# --- public API --------------------------------------------------------------------------------


def template_ids() -> list[str]:
    """The ids of the shipped templates."""
    return list(TEMPLATE_IDS)


def _spec(template_id: str) -> TemplateSpec:
    key = str(template_id).strip().casefold()
    if key not in TEMPLATE_IDS:
        close = difflib.get_close_matches(key, TEMPLATE_IDS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise InputError(
            f"unknown product template {template_id!r} (known: {', '.join(TEMPLATE_IDS)})",
            hint=f"{hint}or give the path of a BOM file (.csv, .xlsx or .yaml)",
            field="template",
            value=str(template_id),
        )
    return _shipped(key)


def describe_templates() -> list[dict[str, Any]]:
    """Every template's id, name, unit, description, parameters and sources, for a listing."""
    listing: list[dict[str, Any]] = []
    for template_id in TEMPLATE_IDS:
        spec = _shipped(template_id)
        listing.append({
            "id": spec.id,
            "name": spec.name,
            "unit": spec.unit,
            "description": spec.description,
            "parameters": [
                {**_describe_parameter(p), "sources": _parameter_sources(spec, p)}
                for p in spec.parameters
            ],
            "sources": list(spec.sources.values()),
        })
    return listing


def _describe_parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "name": parameter.name,
        "default": parameter.default,
        "description": parameter.description,
        "unit": parameter.unit or None,
        "min": parameter.minimum,
        "max": parameter.maximum,
        "choices": list(parameter.choices) if parameter.choices is not None else None,
        "allowed": parameter.allowed(),
    }


def _parameter_sources(spec: TemplateSpec, parameter: Parameter) -> list[str]:
    keys = list(parameter.sources)
    keys += [key for choice in (parameter.choices or {}).values() for key in choice.sources]
    return [spec.sources[key] for key in dict.fromkeys(keys)]


def load_template(template_id: str, params: Mapping[str, ParamValue] | None = None) -> Product:
    """The product of a shipped template with ``params`` (defaults for the rest).

    Unknown ids and unknown or invalid parameters raise InputError naming the known ids, the
    parameter and its allowed values or range.
    """
    return build_product(_spec(template_id), params)


def load_template_file(path: Path, params: Mapping[str, ParamValue] | None = None, *,
                       dataset: Dataset | None = None) -> Product:
    """A user's YAML file in the template format; minerals may be slugs, names or aliases."""
    origin = Path(path).name
    try:
        raw = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{origin}: cannot read the YAML file ({error})",
                         hint="check that the file exists and is UTF-8 YAML",
                         file=str(path)) from None
    if raw is None:
        raise InputError(f"{origin}: the file is empty", hint="see docs/products.md",
                         file=str(path))
    spec = parse_template(raw, origin=origin, template_id=Path(path).stem, user=True)
    product = build_product(spec, params, product_id=Path(path).stem,
                            default_citation=f"user file {origin}")
    return _canonical_minerals(product, spec, dataset)


def _canonical_minerals(product: Product, spec: TemplateSpec, dataset: Dataset | None) -> Product:
    if dataset is None:
        from kizuna.data.bundle import load_dataset  # noqa: PLC0415 - the tables load lazily

        dataset = load_dataset()
    lines: list[Line] = []
    for line in product.lines:
        try:
            slug = dataset.mineral(line.mineral).slug
        except NotFoundError as error:
            index = next(i for i, item in enumerate(spec.lines) if item.mineral == line.mineral)
            raise InputError(f"{spec.origin}: lines[{index}]: {error.message}", hint=error.hint,
                             file=spec.origin, field="mineral", value=line.mineral) from None
        lines.append(Line(slug, line.kg, line.component, line.sourcing, line.owners,
                          line.citation, line.note))
    return Product(product.id, product.name, product.unit, product.volume, tuple(lines),
                   product.assumptions, product.sources)
