"""The core never imports the edges (CLI, web) or a database driver; see docs/architecture.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "kizuna"
CORE = ("model", "minerals", "scenarios", "sourcing", "intel", "hub", "data", "partners")
EDGES = ("kizuna.cli", "kizuna.web")
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool", "sqlalchemy", "asyncpg")


def module_name(path: Path) -> str:
    """Dotted name; a package's ``__init__`` keeps it so that ``from . import`` resolves."""
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def imported_modules(path: Path, package: str = "kizuna.x") -> set[str]:
    """Absolute names of everything ``path`` imports; relative imports are resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def core_files() -> list[Path]:
    return sorted(
        path
        for package in CORE
        if (PACKAGE / package).is_dir()
        for path in (PACKAGE / package).rglob("*.py")
    )


def test_there_is_core_code_to_check() -> None:
    assert len(core_files()) >= 5


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_imports_no_edge_and_no_database_driver(path: Path) -> None:
    bad = sorted(
        name
        for name in imported_modules(path, module_name(path))
        if name.startswith(EDGES) or name.split(".")[0] in DRIVERS
    )
    assert bad == [], f"{path.relative_to(PACKAGE)} imports {bad}"


def test_the_walker_would_catch_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text(
        "import psycopg\nfrom kizuna.web.app import create_app\nfrom ..cli import main\n",
        encoding="utf-8",
    )
    found = imported_modules(module, "kizuna.minerals.bad")
    assert {"psycopg", "kizuna.web.app", "kizuna.cli", "kizuna.cli.main"} <= found
