"""Settings: one pydantic-settings object built at the edge (CLI callback, ``create_app``), never at import time.

Precedence, highest first: explicit overrides passed to :meth:`Settings.load` > ``RETAIN_*`` environment
variables (nested keys with ``__``, e.g. ``RETAIN_INGEST__CHUNK_ROWS``) > ``<workspace>/retain.toml`` > defaults.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
import tomllib
from contextvars import ContextVar
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from retain.engine import Engine
from retain.errors import ConfigError
from retain.state.connect_errors import check_credentials

__all__ = [
    "CONFIG_FILE_NAME",
    "DEFAULT_HEALTH_WEIGHTS",
    "ENV_PREFIX",
    "AutomationSettings",
    "ChannelKind",
    "ChannelSettings",
    "DeliverySettings",
    "Engine",
    "FileChannel",
    "HealthComponent",
    "HealthSettings",
    "InboxSettings",
    "IngestSettings",
    "PlatformsSettings",
    "ServiceSettings",
    "Settings",
    "ShopifySettings",
    "SmtpChannel",
    "SmtpSecurity",
    "StripeSettings",
    "WebhookChannel",
    "default_toml",
]

CONFIG_FILE_NAME = "retain.toml"
ENV_PREFIX = "RETAIN_"
_NESTED_DELIMITER = "__"

# The toml file of the Settings.load call in progress; read by ``settings_customise_sources``.
_toml_file: ContextVar[Path | None] = ContextVar("retain_toml_file", default=None)


class IngestSettings(BaseModel):
    """Settings of ``retain ingest`` (the ``[ingest]`` section of ``retain.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chunk_rows: int = Field(
        default=250_000,
        gt=0,
        description="Rows read and validated per chunk; lower it to bound memory on large files.",
    )


class InboxSettings(BaseModel):
    """When live facts leave the inbox for the lake (the ``[inbox]`` section of ``retain.toml``).

    The server flushes when either threshold is reached; ``retain flush`` flushes at once.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    flush_seconds: float = Field(
        default=10.0, gt=0, description="The server flushes the inbox into the lake at least this often (seconds)."
    )
    flush_rows: int = Field(
        default=1000, gt=0, description="The server flushes as soon as this many facts are waiting in the inbox."
    )


class HealthComponent(StrEnum):
    """Components of the health score (``retain.health.score``); the keys of ``[health] weights``."""

    ENGAGEMENT = "engagement"
    USAGE_TREND = "usage_trend"
    SUPPORT = "support"
    SENTIMENT = "sentiment"
    PAYMENT = "payment"
    ADOPTION = "adoption"
    # Purchase cadence, for shops (non-contractual customers).
    CADENCE = "cadence"
    ORDER_TREND = "order_trend"
    ALIVE = "alive"
    REFUNDS = "refunds"


#: Default weights of the health components (only their ratios matter: the components a business has data for
#: are re-normalised to sum to 1).
DEFAULT_HEALTH_WEIGHTS: dict[str, float] = {
    HealthComponent.ENGAGEMENT: 0.3,
    HealthComponent.USAGE_TREND: 0.2,
    HealthComponent.SUPPORT: 0.15,
    HealthComponent.SENTIMENT: 0.1,
    HealthComponent.PAYMENT: 0.15,
    HealthComponent.ADOPTION: 0.1,
    HealthComponent.CADENCE: 0.35,
    HealthComponent.ORDER_TREND: 0.2,
    HealthComponent.ALIVE: 0.3,
    HealthComponent.REFUNDS: 0.15,
}


class HealthSettings(BaseModel):
    """Settings of the health score (the ``[health]`` section of ``retain.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, float] = Field(
        default_factory=lambda: {str(k): v for k, v in DEFAULT_HEALTH_WEIGHTS.items()},
        description=(
            "Weight of each health component (engagement, usage_trend, support, sentiment, payment, adoption; for "
            "shops cadence, order_trend, alive, refunds); the score is the weighted mean of the components this "
            "business has data for, so only ratios matter. A component left out gets weight 0."
        ),
    )
    green_min: float = Field(default=70.0, ge=0, le=100, description="Scores at or above this are green.")
    yellow_min: float = Field(
        default=40.0, ge=0, le=100, description="Scores at or above this (and below green_min) are yellow; else red."
    )
    engagement_saturation: float = Field(
        default=20.0,
        gt=0,
        description="Events in the last 30 days that count as fully engaged (engagement component = 100).",
    )

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float]) -> dict[str, float]:
        valid = [str(c) for c in HealthComponent]
        unknown = sorted(set(value) - set(valid))
        if unknown:
            raise ValueError(f"unknown health component(s) {unknown}; valid components: {', '.join(valid)}")
        bad = {k: w for k, w in value.items() if not (w >= 0 and w < float("inf"))}
        if bad:
            raise ValueError(f"weights must be finite and >= 0; got {bad}")
        if sum(value.values()) <= 0:
            raise ValueError("the weights must sum to more than 0; give at least one component a positive weight")
        return value

    @field_validator("yellow_min")
    @classmethod
    def _check_bands(cls, value: float, info: Any) -> float:
        green = info.data.get("green_min")
        if green is not None and value > green:
            raise ValueError(f"yellow_min ({value}) must not exceed green_min ({green})")
        return value


class ChannelKind(StrEnum):
    """What delivers a channel's messages: the ``kind`` of a ``[channels.NAME]`` table in ``retain.toml``.

    The senders (``retain.automation.channels``) register under these keys.
    """

    SMTP = "smtp"
    WEBHOOK = "webhook"
    FILE = "file"


class SmtpSecurity(StrEnum):
    """How an SMTP channel protects its connection."""

    NONE = "none"
    """Plain SMTP (a relay on localhost or a private network)."""
    STARTTLS = "starttls"
    """Connect in plain text, then upgrade with STARTTLS (usually port 587)."""
    SSL = "ssl"
    """TLS from the first byte (SMTPS, usually port 465)."""


_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class SmtpChannel(BaseModel):
    """An email channel delivered to an SMTP server (``kind = "smtp"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["smtp"] = Field(description="smtp: the channel's messages are emails sent to an SMTP server.")
    host: str = Field(default="127.0.0.1", min_length=1, description="SMTP server host name or address.")
    port: int = Field(default=25, ge=1, le=65535, description="SMTP server port (25, 587 with STARTTLS, 465 SSL).")
    sender: str = Field(description='The From address, e.g. "Retain <care@example.com>".')
    security: SmtpSecurity = Field(default=SmtpSecurity.NONE, description="none, starttls or ssl.")
    username: str | None = Field(default=None, description="Login user; unset: no login.")
    password: SecretStr | None = Field(
        default=None, description="Login password (never printed); or RETAIN_CHANNELS__<NAME>__PASSWORD."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Socket timeout of each SMTP operation.")

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        from email.utils import parseaddr

        _, address = parseaddr(value)
        if "@" not in address or any(ch in value for ch in "\r\n"):
            raise ValueError('not an email address; expected e.g. "Retain <care@example.com>" or care@example.com')
        return value

    @model_validator(mode="after")
    def _check_login(self) -> SmtpChannel:
        if self.password is not None and not self.username:
            raise ValueError("a password is set but no username; set username too, or remove the password")
        return self


class WebhookChannel(BaseModel):
    """A channel whose messages are JSON bodies POSTed to a URL, signed with HMAC-SHA256 (``kind = "webhook"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["webhook"] = Field(description="webhook: the channel's messages are POSTed as JSON to a URL.")
    url: str = Field(description="The http(s) URL the messages are POSTed to.")
    secret: SecretStr = Field(
        description="Key of the X-Retain-Signature HMAC (never printed); or RETAIN_CHANNELS__<NAME>__SECRET.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="Seconds to wait for the receiver's answer.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL; expected e.g. https://crm.example.com/hooks/retain")
        return value.strip()

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError(
                "the secret is shorter than 16 characters; use a long random one (e.g. `openssl rand -hex 32`)"
            )
        return value


class FileChannel(BaseModel):
    """A channel that appends one JSON line per message to a file (``kind = "file"``): a hand-off to other tools."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["file"] = Field(description="file: the channel's messages are appended to a JSON Lines file.")
    path: Path = Field(description="The JSON Lines file; a relative path is inside the workspace.")


ChannelSettings = Annotated[SmtpChannel | WebhookChannel | FileChannel, Field(discriminator="kind")]
"""The settings of one channel, chosen by its ``kind``."""

_CHANNEL_MODELS: dict[str, type[BaseModel]] = {
    ChannelKind.SMTP: SmtpChannel,
    ChannelKind.WEBHOOK: WebhookChannel,
    ChannelKind.FILE: FileChannel,
}


class DeliverySettings(BaseModel):
    """How ``retain worker`` delivers the outbox (the ``[delivery]`` section of ``retain.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=8, gt=0, description="Attempts before a message is dead-lettered.")
    backoff_base_seconds: float = Field(
        default=30.0, gt=0, description="Wait after the first failed attempt; doubled after each further one."
    )
    backoff_cap_seconds: float = Field(default=3600.0, gt=0, description="The longest wait between two attempts.")
    lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A claimed message is another worker's to take after this long (its worker may have died).",
    )
    batch: int = Field(default=50, gt=0, description="Messages a worker claims at a time.")

    @model_validator(mode="after")
    def _check_backoff(self) -> DeliverySettings:
        if self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ValueError(
                f"backoff_cap_seconds ({self.backoff_cap_seconds:g}) is below backoff_base_seconds "
                f"({self.backoff_base_seconds:g}); raise the cap or lower the base"
            )
        return self


_TIME_OF_DAY = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class AutomationSettings(BaseModel):
    """How playbooks run (the ``[automation]`` section of ``retain.toml``): pressure rules, links, time zones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_messages: int = Field(
        default=3, gt=0, description="Messages a customer gets at most, across every playbook, in per_days days."
    )
    per_days: int = Field(default=7, gt=0, description="The rolling window of max_messages, in days.")
    quiet_start: str = Field(
        default="21:00", description="Start of the quiet hours (HH:MM, the customer's local time): nothing is sent."
    )
    quiet_end: str = Field(default="08:00", description="End of the quiet hours (HH:MM); messages wait until then.")
    default_timezone: str = Field(
        default="UTC",
        description="IANA time zone of customers whose customers.attributes hold no valid 'timezone'.",
    )
    base_url: str = Field(
        default="http://localhost:8000",
        description="Public address of retain's web service: unsubscribe and survey links point there.",
    )
    signing_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs unsubscribe and survey links (never printed); or RETAIN_AUTOMATION__SIGNING_SECRET. "
            "Unset: one is generated once and kept in <workspace>/.signing_secret (mode 0600)."
        ),
    )
    link_days: int = Field(default=365, gt=0, description="Days an unsubscribe or survey link stays valid.")
    explain_min_p_churn: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description=(
            "A refresh explains (reasons, reason code, playbook) every customer with P(churn) at least this, besides "
            "the top 20: playbooks that act on a reason see only explained customers. Lower it for reason playbooks "
            "with a lower min_p_churn; 1 explains the top 20 only (the fastest refresh)."
        ),
    )

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _check_time(cls, value: str) -> str:
        if not _TIME_OF_DAY.fullmatch(value.strip()):
            raise ValueError("not a time of day; expected 24-hour HH:MM, e.g. 21:00 or 08:00")
        return value.strip()

    @field_validator("default_timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "not a time zone; expected an IANA name such as UTC, Europe/Berlin or America/New_York"
            ) from None
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("not an http(s) base URL; expected e.g. https://retain.example.com")
        return value.strip().rstrip("/")

    @field_validator("signing_secret")
    @classmethod
    def _check_signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 16:
            raise ValueError("the secret is shorter than 16 bytes; use a long random one (e.g. `openssl rand -hex 32`)")
        return value

    def pressure_values(self) -> dict[str, Any]:
        """The pressure rules' settings as a mapping (``PressureSettings.from_mapping`` takes it)."""
        return {
            "max_messages": self.max_messages,
            "per_days": self.per_days,
            "quiet_start": self.quiet_start,
            "quiet_end": self.quiet_end,
            "default_timezone": self.default_timezone,
        }


class ServiceSettings(BaseModel):
    """How `retain serve` runs (the ``[service]`` section of ``retain.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", min_length=1, description="Address the server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server listens on.")
    workers: int = Field(
        default=1, ge=1, le=64, description="Server processes; more than one needs a PostgreSQL state database."
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="Hours a dashboard sign-in lasts before the browser must sign in again."
    )
    secure_cookies: bool = Field(
        default=False, description="Send the session cookie over HTTPS only; turn on when served behind TLS."
    )


def _check_platform_secret(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not value.get_secret_value().strip():
        raise ValueError("the secret is empty; paste the whole secret or remove the line")
    return value


class StripeSettings(BaseModel):
    """Stripe webhooks (``[platforms.stripe]``): the endpoint's signing secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Signing secret (whsec_...) of the webhook endpoint in Stripe's dashboard (never printed); or "
            "RETAIN_PLATFORMS__STRIPE__ENDPOINT_SECRET. Unset: Stripe webhooks are refused."
        ),
    )
    tolerance_seconds: int = Field(
        default=300, gt=0, description="A signature older (or newer) than this is refused as a replay."
    )

    @field_validator("endpoint_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return _check_platform_secret(value)


class ShopifySettings(BaseModel):
    """Shopify webhooks (``[platforms.shopify]``): the app's client secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Client secret (API secret key) of the Shopify app that sends the webhooks (never printed); or "
            "RETAIN_PLATFORMS__SHOPIFY__API_SECRET. Unset: Shopify webhooks are refused."
        ),
    )

    @field_validator("api_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return _check_platform_secret(value)


class PlatformsSettings(BaseModel):
    """Billing and shop platforms that post webhooks to retain (the ``[platforms]`` section of ``retain.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stripe: StripeSettings = Field(default_factory=StripeSettings, description="Stripe webhooks.")
    shopify: ShopifySettings = Field(default_factory=ShopifySettings, description="Shopify webhooks.")


class Settings(BaseSettings):
    """Every setting of a retain workspace.

    Build it with :meth:`Settings.load` at the edge of the program and pass it down explicitly. (Calling
    ``Settings(workspace=...)`` directly reads the environment but not ``retain.toml``.)

    Parameters
    ----------
    workspace : Path
        The workspace folder (holds ``retain.toml``, ``data/``, ``marts/``, ``state.db``...).
    database_url : str or None
        SQLAlchemy URL of the state database; ``None`` means the SQLite file ``<workspace>/state.db``.
    engine : Engine
        Analytics backend.
    activity_window_days : int
        A customer with activity in the last this many days counts as active (> 0).
    keep_snapshots : int
        ``retain refresh`` keeps this many marts snapshots (the newest ones; the current one always stays).
    segments : dict of str to str
        User-defined segments: name → predicate over profile columns, e.g.
        ``{"big_spenders_gone_quiet": "days_since_last_order > 30 AND total_revenue >= 500"}``.
    ingest : IngestSettings
        Ingest options.
    inbox : InboxSettings
        When the server flushes live facts from the inbox into the lake.
    health : HealthSettings
        Health score weights and bands.
    channels : dict of str to ChannelSettings
        The channels messages leave through, by name (``[channels.email]``, ``[channels.crm]`` …).
    delivery : DeliverySettings
        Retries, back-off, leases and batch size of ``retain worker``.
    automation : AutomationSettings
        Pressure rules (frequency cap, quiet hours), link signing and the default time zone of playbooks.
    platforms : PlatformsSettings
        Secrets that check the webhooks of Stripe and Shopify.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    workspace: Path = Field(description="The workspace folder.")
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the state database. Unset: the SQLite file <workspace>/state.db. "
            "PostgreSQL in production; the environment variable RETAIN_DATABASE_URL overrides this."
        ),
        examples=["postgresql+psycopg://retain:secret@localhost:5432/retain"],
    )
    engine: Engine = Field(default=Engine.DUCKDB, description="Analytics engine that runs the metrics and features.")
    activity_window_days: int = Field(
        default=90, gt=0, description="A customer with activity in the last this many days counts as active."
    )
    keep_snapshots: int = Field(
        default=5, gt=0, description="Marts snapshots that `retain refresh` keeps (the newest; older ones are deleted)."
    )
    segments: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "User-defined segments, one line per segment: name = predicate over customer profile columns, "
            "validated when the profiles are computed."
        ),
        examples=[{"big_spenders_gone_quiet": "days_since_last_order > 30 AND total_revenue >= 500"}],
    )
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="Options of `retain ingest`.")
    inbox: InboxSettings = Field(
        default_factory=InboxSettings,
        description="Live facts (posted to the API) wait in the inbox until a flush writes them into the lake.",
    )
    health: HealthSettings = Field(
        default_factory=HealthSettings, description="Health score: component weights and green/yellow/red bands."
    )
    channels: dict[str, ChannelSettings] = Field(
        default_factory=dict,
        description=(
            "The channels messages leave through, one [channels.NAME] table each, with kind = smtp, webhook or "
            "file. Secrets can come from the environment instead: RETAIN_CHANNELS__<NAME>__PASSWORD or __SECRET."
        ),
        examples=[
            {
                "email": {
                    "kind": "smtp",
                    "host": "smtp.example.com",
                    "port": 587,
                    "security": "starttls",
                    "sender": "Retain <care@example.com>",
                    "username": "care@example.com",
                },
                "crm": {
                    "kind": "webhook",
                    "url": "https://crm.example.com/hooks/retain",
                    "secret": "a long random string",
                },
                "export": {"kind": "file", "path": "outbox.jsonl"},
            }
        ],
    )
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings,
        description="How `retain worker` delivers the outbox: attempts, back-off, leases, batch size.",
    )
    automation: AutomationSettings = Field(
        default_factory=AutomationSettings,
        description="How playbooks run: frequency cap, quiet hours, default time zone, link address and signing key.",
    )
    service: ServiceSettings = Field(
        default_factory=ServiceSettings,
        description="How `retain serve` runs: address, port, processes and dashboard sessions.",
    )
    platforms: PlatformsSettings = Field(
        default_factory=PlatformsSettings,
        description="Webhooks of billing and shop platforms: the secrets that prove a delivery comes from them.",
    )

    @field_validator("channels")
    @classmethod
    def _check_channel_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = sorted(name for name in value if not _CHANNEL_NAME.fullmatch(name))
        if bad:
            raise ValueError(
                f"channel name(s) {bad} are not allowed; use lower-case letters, digits, - and _ (at most 64)"
            )
        return value

    @model_validator(mode="after")
    def _check_timeouts(self) -> Settings:
        # A send that outlasts the lease lets a second worker take the message and send it again.
        lease = self.delivery.lease_seconds
        slow = sorted(
            name for name, channel in self.channels.items() if getattr(channel, "timeout_seconds", 0) >= lease
        )
        if slow:
            raise ValueError(
                f"channel(s) {slow} wait longer (timeout_seconds) than delivery.lease_seconds ({lease:g}), so a "
                "slow send could be taken over and repeated by another worker; lower the timeout or raise the lease"
            )
        return self

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:  # RETAIN_DATABASE_URL= (empty) means "use the default", as in most tools
                return None
            try:
                check_credentials(value)
            except ConfigError as error:
                raise ValueError(str(error)) from None
            try:
                make_url(value)
            except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
                raise ValueError(
                    "not a database URL; expected e.g. postgresql+psycopg://user:password@host:5432/dbname "
                    "or sqlite:////absolute/path/state.db"
                ) from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _toml_file.get()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @classmethod
    def load(cls, workspace: Path | str, **overrides: Any) -> Settings:
        """Read the settings of ``workspace``.

        Parameters
        ----------
        workspace : Path or str
            The workspace folder; ``<workspace>/retain.toml`` is read when it exists.
        **overrides
            Explicit values (e.g. from CLI options); they win over the environment and the file. ``None``
            means "not given" (an unset CLI option) and is dropped. Nested settings are passed as dicts:
            ``ingest={"chunk_rows": 1000}``.

        Returns
        -------
        Settings

        Raises
        ------
        ConfigError
            A value is invalid or unknown; the message names where it came from (file and key, environment
            variable or argument), the bad value and the valid values.
        """
        workspace = Path(workspace)
        overrides = {key: value for key, value in overrides.items() if value is not None}
        toml_path = workspace / CONFIG_FILE_NAME
        _read_toml(toml_path)  # fail early, with the file named, on a syntax error or a misplaced key
        token = _toml_file.set(toml_path)
        try:
            return cls(workspace=workspace, **overrides)
        except ValidationError as exc:
            raise _config_error(cls, exc, toml_path, overrides) from None
        except SettingsError as exc:  # e.g. RETAIN_INGEST='{not json'
            raise ConfigError(
                f"Invalid settings: {exc}. Fix or unset the {ENV_PREFIX}* environment variable."
            ) from None
        finally:
            _toml_file.reset(token)

    @property
    def resolved_database_url(self) -> str:
        """The state database URL: ``database_url``, or the SQLite file ``<workspace>/state.db``."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.workspace.resolve() / 'state.db').as_posix()}"


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix the syntax or delete the file.") from None
    if "workspace" in data:
        raise ConfigError(
            f"{path}: key 'workspace' is not allowed in {CONFIG_FILE_NAME}; the workspace is the folder that "
            "holds the file. Remove the line."
        )
    return data


def _lookup(data: dict[str, Any], loc: tuple[str | int, ...]) -> tuple[bool, Any]:
    node: Any = data
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _valid_values(model: type[BaseModel], loc: tuple[str | int, ...], kinds: dict[str, str] | None = None) -> str:
    """Describe what ``loc`` accepts: enum members, bounds, or the valid keys of an unknown key's parent.

    ``kinds`` maps channel names to their kind, to describe a key inside ``[channels.NAME]``.
    """
    if len(loc) >= 3 and loc[0] == "channels" and (channel := _CHANNEL_MODELS.get((kinds or {}).get(str(loc[1]), ""))):
        model, loc = channel, loc[2:]  # a key inside [channels.NAME]: the fields of that channel's kind
    fields = model.model_fields
    for depth, part in enumerate(loc):
        info = fields.get(str(part))
        if info is None:
            return "; valid keys: " + ", ".join(k for k in fields if k != "workspace")
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and depth < len(loc) - 1:
            fields = annotation.model_fields
            continue
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return "; valid values: " + ", ".join(str(m.value) for m in annotation)
        if annotation is int:
            bounds = [f" > {m.gt}" for m in info.metadata if getattr(m, "gt", None) is not None]
            return "; expected an integer" + "".join(bounds)
    return ""


def _without_tag(loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str | None]:
    """``loc`` without the channel kind pydantic inserts after a channel's name (``channels.email.smtp.port``)."""
    if len(loc) >= 3 and loc[0] == "channels" and loc[2] in _CHANNEL_MODELS:
        return (*loc[:2], *loc[3:]), str(loc[2])
    return loc, None


_SECRET_KEYS = frozenset({"password", "secret", "signing_secret", "endpoint_secret", "api_secret"})


def _shown(loc: tuple[str | int, ...], value: Any) -> str | None:
    """``value`` as a message may show it; ``None`` for a table (it may hold a secret)."""
    if loc[:1] == ("database_url",):
        return "(hidden: it may contain a password)"
    if loc and str(loc[-1]) in _SECRET_KEYS:
        return "(hidden: it is a secret)"
    return None if isinstance(value, dict | list) else repr(value)


def _env_name(loc: tuple[str | int, ...]) -> str:
    """The environment variable that set ``loc``: the nested name, or a parent holding JSON."""
    environ = {k.upper() for k in os.environ}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + _NESTED_DELIMITER.join(str(p) for p in loc[:depth]).upper()
        if name in environ:
            return name
    return ENV_PREFIX + _NESTED_DELIMITER.join(str(p) for p in loc).upper()


def _config_error(cls: type[Settings], exc: ValidationError, toml_path: Path, overrides: dict[str, Any]) -> ConfigError:
    # Find which source supplied each bad value, in precedence order, so the message points at what to edit.
    env_values = EnvSettingsSource(cls)()
    toml_values = _read_toml(toml_path)

    def where(loc: tuple[str | int, ...]) -> str:
        dotted = ".".join(str(p) for p in loc)
        if not loc:
            return "the settings"
        if _lookup(overrides, loc)[0]:
            return f"argument {dotted!r}"
        if _lookup(env_values, loc)[0]:
            return f"environment variable {_env_name(loc)}"
        if _lookup(toml_values, loc)[0]:
            return f"{toml_path}: key {dotted!r}"
        return f"setting {dotted!r}"

    errors = exc.errors()
    kinds = {str(loc[1]): tag for loc, tag in (_without_tag(tuple(e["loc"])) for e in errors) if tag is not None}
    valid_kinds = ", ".join(str(k) for k in ChannelKind)
    lines = []
    for error in errors:
        loc, _ = _without_tag(tuple(error["loc"]))
        kind = error["type"]
        message = error["msg"].removeprefix("Value error, ").rstrip(".")
        if kind == "union_tag_invalid":
            tag = error.get("ctx", {}).get("tag")
            lines.append(f"{where((*loc, 'kind'))} has invalid value {tag!r}; valid values: {valid_kinds}.")
        elif kind == "union_tag_not_found":
            lines.append(f"{where(loc)} has no kind; add kind = one of {valid_kinds}.")
        elif kind == "extra_forbidden":
            lines.append(f"{where(loc)} is not a setting{_valid_values(cls, loc, kinds)}. Remove or rename it.")
        elif kind == "missing":
            lines.append(f"{where(loc[:-1])} lacks the required key {str(loc[-1])!r}. Add it.")
        elif (shown := _shown(loc, error["input"])) is None:
            lines.append(f"{where(loc)}: {message}.")  # a check across keys: no single value to show
        else:
            lines.append(f"{where(loc)} has invalid value {shown}: {message}{_valid_values(cls, loc, kinds)}.")
    return ConfigError("Invalid settings:\n  " + "\n  ".join(lines))


def _toml_value(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:_}" if isinstance(value, int) else repr(value)
    if isinstance(value, dict):  # an inline table
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _toml_key(key: Any) -> str:
    """A bare TOML key when the name allows it, else a quoted one."""
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


_INLINE_LIMIT = 100
"""A name -> value table longer than this on one line is written as its own ``[section.name]`` table."""


def _toml_lines(model: type[BaseModel], instance: BaseModel) -> tuple[list[str], list[tuple[str, Any]]]:
    lines: list[str] = []
    sections: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        if name == "workspace":
            continue
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            sections.append((name, value))
            continue
        if isinstance(value, dict) and not value:  # an empty name -> value table: a section with an example
            sections.append((name, info))
            continue
        comment = info.description or ""
        if isinstance(info.annotation, type) and issubclass(info.annotation, Enum):
            comment += " One of: " + ", ".join(str(m.value) for m in info.annotation) + "."
        if isinstance(value, dict) and len(f"{name} = {_toml_value(value)}") > _INLINE_LIMIT:
            sections.append((name, (comment, value)))  # too long for one line: a table of its own
            continue
        lines += textwrap.wrap(comment, width=100, initial_indent="# ", subsequent_indent="# ")
        if value is None:
            example = (info.examples or ["..."])[0]
            lines.append(f"# {name} = {_toml_value(example)}")
        else:
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return lines, sections


def _section_lines(name: str, section: Any, description: str) -> list[str]:
    """``[name]`` and its body: a settings model, an empty table with an example, or a long name -> value table."""
    lines = [f"[{name}]"]
    if isinstance(section, tuple):  # (comment, table) of a long name -> value table
        comment, table = section
        lines += textwrap.wrap(comment, 100, initial_indent="# ", subsequent_indent="# ")
        return [*lines, *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()), ""]
    lines += textwrap.wrap(description, 100, initial_indent="# ", subsequent_indent="# ")
    if isinstance(section, BaseModel):
        body, nested = _toml_lines(type(section), section)
        lines += body
        for child, value in nested:
            lines += _section_lines(f"{name}.{child}", value, "")
        return lines
    example = (section.examples or [{}])[0]  # a name -> value table (e.g. segments), empty by default
    for key, value in example.items():
        if isinstance(value, dict):  # a table per name (e.g. channels): a commented [name.key] table
            lines += [f"# [{name}.{_toml_key(key)}]", *(f"# {k} = {_toml_value(v)}" for k, v in value.items())]
        else:
            lines.append(f"# {key} = {_toml_value(value)}")
    return [*lines, ""]


def default_toml() -> str:
    """The commented ``retain.toml`` that ``retain init`` writes: every setting with its default.

    Returns
    -------
    str
        TOML text; loading a workspace with it gives the same settings as loading one without it.
    """
    defaults = Settings.model_construct(workspace=Path("."))
    lines = [
        "# retain workspace settings.",
        f"# Environment variables {ENV_PREFIX}<KEY> override this file (nested keys: "
        f"{ENV_PREFIX}INGEST{_NESTED_DELIMITER}CHUNK_ROWS);",
        "# command-line options override both. Delete a line to go back to the built-in default.",
        "",
    ]
    top, sections = _toml_lines(Settings, defaults)
    lines += top
    for name, section in sections:
        lines += _section_lines(name, section, Settings.model_fields[name].description or "")
    return "\n".join(lines).rstrip("\n") + "\n"
