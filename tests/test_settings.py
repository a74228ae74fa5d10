"""Settings: defaults, precedence (overrides > RETAIN_* env > retain.toml > defaults), errors, default_toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from retain.errors import ConfigError
from retain.settings import Engine, IngestSettings, Settings, default_toml


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No RETAIN_* variable from the caller's shell (or CI) leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("RETAIN_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _write_toml(workspace: Path, text: str) -> Path:
    path = workspace / "retain.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_toml(tmp_path):
    settings = Settings.load(tmp_path)
    assert settings.workspace == tmp_path
    assert settings.database_url is None
    assert settings.engine is Engine.DUCKDB
    assert settings.activity_window_days == 90
    assert settings.ingest == IngestSettings(chunk_rows=250_000)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve().as_posix()}/state.db"


def test_toml_values_are_read(tmp_path):
    _write_toml(
        tmp_path,
        'engine = "pyspark"\nactivity_window_days = 30\ndatabase_url = "sqlite:////srv/retain/state.db"\n'
        "[ingest]\nchunk_rows = 1000\n",
    )
    settings = Settings.load(tmp_path)
    assert (settings.engine, settings.activity_window_days, settings.ingest.chunk_rows) == (Engine.PYSPARK, 30, 1000)
    assert settings.resolved_database_url == "sqlite:////srv/retain/state.db"


def test_precedence_overrides_then_env_then_toml_then_defaults(tmp_path, clean_env):
    _write_toml(tmp_path, "activity_window_days = 30\n[ingest]\nchunk_rows = 1000\n")
    clean_env.setenv("RETAIN_ACTIVITY_WINDOW_DAYS", "45")
    clean_env.setenv("RETAIN_INGEST__CHUNK_ROWS", "2000")
    clean_env.setenv("RETAIN_ENGINE", "pyspark")

    from_env = Settings.load(tmp_path)
    assert (from_env.activity_window_days, from_env.ingest.chunk_rows, from_env.engine) == (45, 2000, Engine.PYSPARK)

    overridden = Settings.load(tmp_path, activity_window_days=60, ingest={"chunk_rows": 3000})
    assert (overridden.activity_window_days, overridden.ingest.chunk_rows, overridden.engine) == (
        60,
        3000,
        Engine.PYSPARK,
    )

    clean_env.delenv("RETAIN_ACTIVITY_WINDOW_DAYS")
    clean_env.delenv("RETAIN_ENGINE")
    toml_only = Settings.load(tmp_path)
    assert (toml_only.activity_window_days, toml_only.engine) == (30, Engine.DUCKDB)  # engine: default


def test_retain_database_url_env_overrides_the_toml(tmp_path, clean_env):
    _write_toml(tmp_path, 'database_url = "sqlite:////srv/a.db"\n')
    clean_env.setenv("RETAIN_DATABASE_URL", "postgresql+psycopg://retain@db:5432/retain")
    assert Settings.load(tmp_path).resolved_database_url == "postgresql+psycopg://retain@db:5432/retain"


def test_empty_retain_database_url_means_the_default(tmp_path, clean_env):
    clean_env.setenv("RETAIN_DATABASE_URL", "")
    assert Settings.load(tmp_path).database_url is None


def test_bad_engine_in_toml_names_file_key_value_and_valid_values(tmp_path):
    path = _write_toml(tmp_path, 'engine = "oracle"\n')
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    message = str(info.value)
    assert f"{path}: key 'engine' has invalid value 'oracle'" in message
    assert "valid values: duckdb, pyspark" in message


def test_bad_nested_value_in_toml(tmp_path):
    path = _write_toml(tmp_path, "[ingest]\nchunk_rows = 0\n")
    with pytest.raises(ConfigError, match=rf"{path}: key 'ingest.chunk_rows' has invalid value 0.*integer > 0"):
        Settings.load(tmp_path)


def test_bad_value_in_env_names_the_variable(tmp_path, clean_env):
    _write_toml(tmp_path, 'engine = "duckdb"\n')
    clean_env.setenv("RETAIN_ENGINE", "oracle")
    clean_env.setenv("RETAIN_ACTIVITY_WINDOW_DAYS", "-1")
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    message = str(info.value)
    assert "environment variable RETAIN_ENGINE has invalid value 'oracle'" in message
    assert "valid values: duckdb, pyspark" in message
    assert "environment variable RETAIN_ACTIVITY_WINDOW_DAYS has invalid value '-1'" in message


def test_none_override_means_not_given(tmp_path, clean_env):
    _write_toml(tmp_path, 'engine = "pyspark"\n')
    clean_env.setenv("RETAIN_ACTIVITY_WINDOW_DAYS", "45")
    settings = Settings.load(tmp_path, engine=None, activity_window_days=None, database_url=None)
    assert (settings.engine, settings.activity_window_days) == (Engine.PYSPARK, 45)


def test_bad_override_names_the_argument(tmp_path):
    with pytest.raises(ConfigError, match="argument 'activity_window_days' has invalid value 0"):
        Settings.load(tmp_path, activity_window_days=0)


def test_unknown_key_in_toml_lists_valid_keys(tmp_path):
    path = _write_toml(tmp_path, "activity_window_day = 30\n")
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    assert f"{path}: key 'activity_window_day' is not a setting" in str(info.value)
    valid = "valid keys: database_url, engine, activity_window_days, keep_snapshots, segments, ingest, inbox, health"
    assert valid in str(info.value)


def test_invalid_toml_syntax_names_the_file(tmp_path):
    path = _write_toml(tmp_path, "engine = \n")
    with pytest.raises(ConfigError, match=rf"{path} is not valid TOML \(.*line 1"):
        Settings.load(tmp_path)


def test_workspace_key_in_toml_is_refused(tmp_path):
    _write_toml(tmp_path, 'workspace = "/elsewhere"\n')
    with pytest.raises(ConfigError, match="key 'workspace' is not allowed"):
        Settings.load(tmp_path)


def test_bad_database_url_does_not_print_it(tmp_path, clean_env):
    clean_env.setenv("RETAIN_DATABASE_URL", "postgres ql://user:hunter2@db")
    with pytest.raises(ConfigError, match="environment variable RETAIN_DATABASE_URL") as info:
        Settings.load(tmp_path)
    assert "hunter2" not in str(info.value)


def test_settings_are_frozen(tmp_path):
    settings = Settings.load(tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        settings.activity_window_days = 7


def test_default_toml_lists_every_setting_with_its_default(tmp_path):
    text = default_toml()
    parsed = tomllib.loads(text)
    assert parsed == {
        "engine": "duckdb",
        "activity_window_days": 90,
        "keep_snapshots": 5,
        "segments": {},
        "ingest": {"chunk_rows": 250_000},
        "inbox": {"flush_seconds": 10.0, "flush_rows": 1000},
        "health": {
            "weights": {
                "engagement": 0.3,
                "usage_trend": 0.2,
                "support": 0.15,
                "sentiment": 0.1,
                "payment": 0.15,
                "adoption": 0.1,
                "cadence": 0.35,
                "order_trend": 0.2,
                "alive": 0.3,
                "refunds": 0.15,
            },
            "green_min": 70.0,
            "yellow_min": 40.0,
            "engagement_saturation": 20.0,
        },
        "channels": {},
        "delivery": {
            "max_attempts": 8,
            "backoff_base_seconds": 30.0,
            "backoff_cap_seconds": 3600.0,
            "lease_seconds": 120.0,
            "batch": 50,
        },
        "automation": {
            "max_messages": 3,
            "per_days": 7,
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "default_timezone": "UTC",
            "base_url": "http://localhost:8000",
            "link_days": 365,
            "explain_min_p_churn": 0.1,
        },
        "service": {"host": "127.0.0.1", "port": 8000, "workers": 1, "session_hours": 12.0, "secure_cookies": False},
        "platforms": {"stripe": {"tolerance_seconds": 300}, "shopify": {}},  # the secrets are commented out
    }
    assert "# endpoint_secret = " in text and "# api_secret = " in text
    # database_url has no TOML spelling for "unset": it is shown commented out, with an example.
    assert '# database_url = "postgresql+psycopg://' in text
    assert "One of: duckdb, pyspark." in text
    assert all(len(line) <= 120 for line in text.splitlines())

    _write_toml(tmp_path, text)
    with_file = Settings.load(tmp_path).model_dump(exclude={"workspace"})
    without_file = Settings.load(tmp_path / "no-toml-here").model_dump(exclude={"workspace"})
    assert with_file == without_file


def test_platform_secrets_come_from_the_file_or_the_environment_and_are_never_shown(tmp_path, clean_env):
    _write_toml(tmp_path, '[platforms.stripe]\nendpoint_secret = "whsec_from_file"\n')
    clean_env.setenv("RETAIN_PLATFORMS__SHOPIFY__API_SECRET", "shpss_from_env")
    settings = Settings.load(tmp_path)
    assert settings.platforms.stripe.endpoint_secret.get_secret_value() == "whsec_from_file"
    assert settings.platforms.shopify.api_secret.get_secret_value() == "shpss_from_env"
    assert "whsec_from_file" not in repr(settings) and "shpss_from_env" not in repr(settings)
    _write_toml(tmp_path, '[platforms.stripe]\nendpoint_secret = "   "\ntolerance_seconds = 0\n')
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    message = str(info.value)
    assert "key 'platforms.stripe.endpoint_secret' has invalid value (hidden: it is a secret)" in message
    assert "key 'platforms.stripe.tolerance_seconds' has invalid value 0" in message
