"""Settings layer in order: defaults < config file < KIZUNA_* env < CLI flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.errors import ConfigError
from kizuna.settings import Settings, load_settings


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_when_nothing_is_configured(tmp_path: Path) -> None:
    settings = load_settings(env={"KIZUNA_CONFIG": str(write_config(tmp_path, ""))})
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.store.startswith("sqlite:///") and settings.store.endswith("kizuna.db")


def test_each_layer_overrides_the_one_before(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[kizuna]\nport = 9001\nhost = '0.0.0.0'\nstore = 'memory://'\n")
    env = {"KIZUNA_CONFIG": str(config), "KIZUNA_PORT": "9002", "KIZUNA_STORE": "sqlite:///e.db"}
    settings = load_settings({"store": "sqlite:///flag.db", "port": None}, env=env)
    assert settings.host == "0.0.0.0"  # config file
    assert settings.port == 9002  # env beats config; an unset flag (None) is ignored
    assert settings.store == "sqlite:///flag.db"  # flag beats env


def test_env_values_are_coerced_to_the_declared_type(tmp_path: Path) -> None:
    env = {"KIZUNA_CONFIG": str(write_config(tmp_path, "")), "KIZUNA_DEBUG": "yes",
           "KIZUNA_WGI_MISSING": "7.5"}
    settings = load_settings(env=env)
    assert settings.debug is True
    assert settings.wgi_missing == 7.5


def test_a_bad_env_value_names_the_setting_and_its_origin(tmp_path: Path) -> None:
    env = {"KIZUNA_CONFIG": str(write_config(tmp_path, "")), "KIZUNA_PORT": "eighty"}
    with pytest.raises(ConfigError, match="'port' from the environment must be a int"):
        load_settings(env=env)


def test_an_unknown_key_in_the_config_file_is_refused_with_the_known_keys(tmp_path: Path) -> None:
    env = {"KIZUNA_CONFIG": str(write_config(tmp_path, "[kizuna]\nprot = 1\n"))}
    with pytest.raises(ConfigError, match="unknown setting 'prot'") as info:
        load_settings(env=env)
    assert "port" in str(info.value)


def test_a_broken_config_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[kizuna\nport=1")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings(env={"KIZUNA_CONFIG": str(config)})
    assert info.value.fields["file"] == str(config)


def test_a_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"KIZUNA_CONFIG": str(tmp_path / "nope.toml")})


def test_the_registry_describes_every_setting_with_its_env_var() -> None:
    names = {row["name"]: row for row in Settings.describe()}
    assert names["store"]["env"] == "KIZUNA_STORE"
    assert names["port"]["type"] == "int"
    assert all(row["description"] for row in names.values())


@pytest.mark.parametrize("raw", ["-5", "50", "nan"])
def test_an_out_of_range_wgi_default_is_refused(tmp_path: Path, raw: str) -> None:
    env = {"KIZUNA_CONFIG": str(write_config(tmp_path, "")), "KIZUNA_WGI_MISSING": raw}
    with pytest.raises(ConfigError, match="'wgi_missing' from the environment must be between 0"):
        load_settings(env=env)


def test_a_port_out_of_range_is_refused_from_the_config_file(tmp_path: Path) -> None:
    env = {"KIZUNA_CONFIG": str(write_config(tmp_path, "[kizuna]\nport = 70000\n"))}
    with pytest.raises(ConfigError, match=r"'port' from config file .* between 1 and 65535"):
        load_settings(env=env)
