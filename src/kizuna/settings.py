"""The typed settings registry.

One declaration per setting (type, default, description). Values are layered, later wins:
defaults < config file (TOML) < ``KIZUNA_*`` environment variables < CLI flags.
The config file is ``$KIZUNA_CONFIG`` or ``<user config dir>/kizuna/config.toml``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from kizuna.errors import ConfigError

APP_NAME = "kizuna"


def default_store_url() -> str:
    """A SQLite file in the user's data directory."""
    return f"sqlite:///{Path(platformdirs.user_data_dir(APP_NAME)) / 'kizuna.db'}"


def open_store_for(url: str) -> Any:
    """Open the store at ``url``; only the default store's directory is created if missing.

    A typo'd ``--store sqlite:////wrong/dir/x.db`` fails with a clear error instead of
    creating directories, while a fresh machine's default store just works.
    """
    from kizuna.store import open_store  # noqa: PLC0415 - settings stay import-light

    return open_store(url, create_parent=url == default_store_url())


def _meta(description: str, *, low: float | None = None, high: float | None = None
          ) -> dict[str, Any]:
    return {"description": description, "low": low, "high": high}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the platform can be configured with."""

    store: str = dataclasses.field(
        default_factory=default_store_url,
        metadata=_meta("Store URL: sqlite:///path.db, postgresql://..., or memory://"),
    )
    host: str = dataclasses.field(default="127.0.0.1", metadata=_meta("Address kizuna serve binds"))
    port: int = dataclasses.field(
        default=8000, metadata=_meta("Port kizuna serve listens on", low=1, high=65535)
    )
    debug: bool = dataclasses.field(default=False, metadata=_meta("Show tracebacks on errors"))
    tables_dir: str = dataclasses.field(
        default="",
        metadata=_meta("Directory of normalised tables to use instead of the bundled ones"),
    )
    wgi_missing: float = dataclasses.field(
        default=5.0,
        metadata=_meta(
            "Scaled WGI (0-10, 10 worst) given to a country the WGI does not cover; "
            "the default 5 is the neutral midpoint",
            low=0.0,
            high=10.0,
        ),
    )

    node_name: str = dataclasses.field(
        default="kizuna",
        metadata=_meta("This hub's node name: the name of its own STIX identity (federation)"),
    )
    demo: bool = dataclasses.field(
        default=True,
        metadata=_meta("kizuna serve seeds two demo partner organisations on an empty hub and "
                       "prints their keys once"),
    )
    production: bool = dataclasses.field(
        default=False,
        metadata=_meta("Production mode: kizuna serve refuses to start while a demo key is "
                       "active"),
    )
    minerals_public: bool = dataclasses.field(
        default=True,
        metadata=_meta("Mineral supply data (pages and /api) is served without credentials; "
                       "false requires a hub API key (Bearer, or Basic with the key as "
                       "password)"),
    )
    peer_sync: bool = dataclasses.field(
        default=True,
        metadata=_meta("kizuna serve syncs with the hub's peers (kizuna hub peer add) in the "
                       "background; false leaves it to kizuna hub sync"),
    )
    peer_sync_interval: float = dataclasses.field(
        default=2.0,
        metadata=_meta("Seconds between the background syncs with the peers (each sync pulls "
                       "and pushes everything new before the next wait)", low=0.1,
                       high=86_400.0),
    )
    taxii_max_content_length: int = dataclasses.field(
        default=10 * 1024 * 1024,
        metadata=_meta("Largest TAXII request body (bytes) the server reads; a bigger "
                       "envelope is refused with 413", low=1024, high=1024**3),
    )

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """The registry as data: name, env var, type, default and description of each setting."""
        rows = []
        defaults = cls()
        for field in dataclasses.fields(cls):
            rows.append(
                {
                    "name": field.name,
                    "env": env_name(field.name),
                    "type": _field_type(field).__name__,
                    "default": getattr(defaults, field.name),
                    "description": field.metadata.get("description", ""),
                }
            )
        return rows


def env_name(name: str) -> str:
    return f"KIZUNA_{name.upper()}"


_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool, "float": float}


def _field_type(field: dataclasses.Field[Any]) -> type:
    return _TYPES[str(field.type)]


def _coerce(name: str, raw: Any, target: type, origin: str) -> Any:
    if isinstance(raw, target) and not (target is int and isinstance(raw, bool)):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if target is bool:
                lowered = text.lower()
                if lowered in {"1", "true", "yes", "on"}:
                    return True
                if lowered in {"0", "false", "no", "off", ""}:
                    return False
                raise ValueError(text)
            return target(text)
        except ValueError:
            pass
    if target is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    raise ConfigError(
        f"setting {name!r} from {origin} must be a {target.__name__}, got {raw!r}",
        hint=f"fix {origin}",
        setting=name,
        origin=origin,
    )


def config_path(env: Mapping[str, str]) -> Path:
    explicit = env.get("KIZUNA_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _read_config(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(
                f"config file {path} does not exist",
                hint="create it, or point --config or KIZUNA_CONFIG at an existing file",
                file=str(path),
            )
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}", hint="fix the file", file=str(path)
        ) from exc
    section = data.get("kizuna", data)
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [kizuna] must be a table", file=str(path))
    return section


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build settings from defaults, the config file, the environment and explicit overrides.

    ``overrides`` are CLI flags: entries whose value is ``None`` are ignored (flag not given).
    """
    env = os.environ if env is None else env
    known = {field.name: field for field in dataclasses.fields(Settings)}
    path = config_file or config_path(env)
    required = config_file is not None or "KIZUNA_CONFIG" in env
    from_env = {name: env[env_name(name)] for name in known if env_name(name) in env}
    from_flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    layers: list[tuple[str, Mapping[str, Any]]] = [
        (f"config file {path}", _read_config(path, required=required)),
        ("the environment", from_env),
        ("the command line", from_flags),
    ]

    values: dict[str, Any] = {}
    for origin, layer in layers:
        for name, raw in layer.items():
            if name not in known:
                raise ConfigError(
                    f"unknown setting {name!r} in {origin}",
                    hint="known settings: " + ", ".join(sorted(known)),
                    setting=name,
                )
            value = _coerce(name, raw, _field_type(known[name]), origin)
            _check_range(known[name], value, origin)
            values[name] = value
    return Settings(**values)


def _check_range(field: dataclasses.Field[Any], value: Any, origin: str) -> None:
    low, high = field.metadata.get("low"), field.metadata.get("high")
    if low is None or isinstance(value, bool):
        return
    if not (low <= value <= high):  # also refuses NaN
        raise ConfigError(
            f"setting {field.name!r} from {origin} must be between {low:g} and {high:g}, "
            f"got {value!r}",
            hint=f"fix {origin}",
            setting=field.name,
            origin=origin,
        )
