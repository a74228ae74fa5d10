"""Channel and delivery settings in retain.toml: parsed by kind, secrets from the environment and never shown,
errors naming the file, key and valid keys or values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retain.errors import ConfigError
from retain.settings import (
    ChannelKind,
    DeliverySettings,
    FileChannel,
    Settings,
    SmtpChannel,
    SmtpSecurity,
    WebhookChannel,
    default_toml,
)

TOML = """
[channels.email]
kind = "smtp"
host = "127.0.0.1"
port = 1025
sender = "Retain <care@example.com>"
username = "care"
password = "from-the-file-pw"

[channels.crm]
kind = "webhook"
url = "https://crm.example.com/hooks/retain"
secret = "0123456789abcdef0123"
timeout_seconds = 5

[channels.export]
kind = "file"
path = "outbox.jsonl"

[delivery]
max_attempts = 5
backoff_base_seconds = 10
backoff_cap_seconds = 600
lease_seconds = 60
batch = 20
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("RETAIN_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _write(workspace: Path, text: str) -> Path:
    path = workspace / "retain.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_channels_and_delivery_are_read_by_kind(tmp_path):
    _write(tmp_path, TOML)
    settings = Settings.load(tmp_path)
    email, crm, export = (settings.channels[n] for n in ("email", "crm", "export"))
    assert isinstance(email, SmtpChannel) and isinstance(crm, WebhookChannel) and isinstance(export, FileChannel)
    assert (email.host, email.port, email.security, email.username) == ("127.0.0.1", 1025, SmtpSecurity.NONE, "care")
    assert email.password.get_secret_value() == "from-the-file-pw"
    assert (crm.url, crm.timeout_seconds, crm.secret.get_secret_value()) == (
        "https://crm.example.com/hooks/retain",
        5.0,
        "0123456789abcdef0123",
    )
    assert export.path == Path("outbox.jsonl")
    assert settings.delivery == DeliverySettings(
        max_attempts=5, backoff_base_seconds=10, backoff_cap_seconds=600, lease_seconds=60, batch=20
    )
    assert [c.kind for c in settings.channels.values()] == [ChannelKind.SMTP, ChannelKind.WEBHOOK, ChannelKind.FILE]


def test_secrets_come_from_the_environment_and_are_never_printed(tmp_path, clean_env):
    _write(tmp_path, TOML)
    clean_env.setenv("RETAIN_CHANNELS__EMAIL__PASSWORD", "from-the-env-pw")
    clean_env.setenv("RETAIN_CHANNELS__CRM__SECRET", "env-secret-0123456789")
    settings = Settings.load(tmp_path)
    assert settings.channels["email"].password.get_secret_value() == "from-the-env-pw"
    assert settings.channels["crm"].secret.get_secret_value() == "env-secret-0123456789"
    assert settings.channels["email"].host == "127.0.0.1"  # the rest still from the file
    shown = f"{settings!r} {settings} {settings.model_dump()} {settings.model_dump_json()}"
    assert "from-the-env-pw" not in shown and "env-secret" not in shown and "from-the-file-pw" not in shown


def test_defaults_without_channels(tmp_path):
    settings = Settings.load(tmp_path)
    assert settings.channels == {}
    assert settings.delivery == DeliverySettings(
        max_attempts=8, backoff_base_seconds=30, backoff_cap_seconds=3600, lease_seconds=120, batch=50
    )
    assert "# [channels.email]" in default_toml() and "\n[delivery]\n" in default_toml()


def test_channel_errors_name_file_key_and_what_is_valid(tmp_path):
    path = _write(
        tmp_path,
        """
[channels.email]
kind = "smtp"
port = 0
sender = "nobody"
prot = 3
[channels.crm]
kind = "webhok"
[channels.nokind]
url = "https://x.example.com"
[channels.hook]
kind = "webhook"
url = "ftp://x.example.com/in"
secret = "short-secret"
[channels.export]
kind = "file"
""",
    )
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    lines = str(info.value).splitlines()[1:]
    assert [line.strip() for line in lines] == [
        f"{path}: key 'channels.email.port' has invalid value 0: Input should be greater than or equal to 1; "
        "expected an integer.",
        f"{path}: key 'channels.email.sender' has invalid value 'nobody': not an email address; expected e.g. "
        '"Retain <care@example.com>" or care@example.com.',
        f"{path}: key 'channels.email.prot' is not a setting; valid keys: kind, host, port, sender, security, "
        "username, password, timeout_seconds. Remove or rename it.",
        f"{path}: key 'channels.crm.kind' has invalid value 'webhok'; valid values: smtp, webhook, file.",
        f"{path}: key 'channels.nokind' has no kind; add kind = one of smtp, webhook, file.",
        f"{path}: key 'channels.hook.url' has invalid value 'ftp://x.example.com/in': not an http(s) URL; "
        "expected e.g. https://crm.example.com/hooks/retain.",
        f"{path}: key 'channels.hook.secret' has invalid value (hidden: it is a secret): the secret is shorter "
        "than 16 characters; use a long random one (e.g. `openssl rand -hex 32`).",
        f"{path}: key 'channels.export' lacks the required key 'path'. Add it.",
    ]
    assert "short-secret" not in str(info.value)


def test_a_bad_secret_from_the_environment_names_the_variable_not_the_value(tmp_path, clean_env):
    _write(tmp_path, TOML)
    clean_env.setenv("RETAIN_CHANNELS__CRM__SECRET", "tiny-secret")
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    assert "environment variable RETAIN_CHANNELS__CRM__SECRET has invalid value (hidden: it is a secret)" in str(
        info.value
    )
    assert "tiny-secret" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[delivery]\nbackoff_cap_seconds = 10\n", "backoff_cap_seconds (10) is below backoff_base_seconds (30)"),
        ("[delivery]\nlease_seconds = 5\n" + TOML.split("[delivery]")[0],
         "channel(s) ['crm', 'email'] wait longer (timeout_seconds) than delivery.lease_seconds (5)"),
        ('[channels.Email]\nkind = "file"\npath = "x"\n', "channel name(s) ['Email'] are not allowed"),
        ('[channels.e]\nkind = "smtp"\nsender = "a@example.com"\npassword = "pw-without-user"\n',
         "a password is set but no username"),
    ],
)  # fmt: skip
def test_settings_that_do_not_fit_together_are_refused(tmp_path, text, message):
    _write(tmp_path, text)
    with pytest.raises(ConfigError, match="Invalid settings") as info:
        Settings.load(tmp_path)
    assert message in str(info.value)
    assert "pw-without-user" not in str(info.value)
