"""Settings, read from the environment (prefix KITRUN_) and an optional .env file."""

from __future__ import annotations

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"


class ConfigError(RuntimeError):
    """A setting makes start-up impossible; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KITRUN_", env_file=".env", extra="ignore")

    env: str = Field("development", description="development or production")
    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "zh_CN"
    timezone: str = Field("UTC", description="IANA zone of the district: 'today' at the points")
    session_days: int = 14
    api_token_days: int = 30
    trusted_proxies: str = Field(
        "",
        description="comma-separated addresses or CIDRs of reverse proxies whose "
        "X-Forwarded-For is believed (empty: none; the peer is the client)",
    )
    login_free_failures: int = Field(5, description="per account and address, before delays")
    login_free_failures_per_ip: int = Field(30, description="per address, all accounts")
    login_delay_seconds: int = Field(30, description="the first delay; doubled at each failure")
    login_max_delay_seconds: int = 900
    login_window_seconds: int = Field(86400, description="counts start afresh this long after")
    expiry_alert_days: int = 30
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "kitrun@localhost"
    claim_rate_per_ip: int = 30
    claim_rate_per_student: int = 10
    claim_rate_window_seconds: int = 60
    cjk_font: str | None = None
    labels_sync_limit: int = Field(500, description="more labels than this print in the background")
    osrm_url: str | None = None
    geocoder_url: str | None = Field(
        None,
        description="a Nominatim-compatible geocoder (e.g. https://nominatim.example.org); "
        "None: delivery addresses are not placed on the map (diplomats pin them)",
    )
    geocoder_user_agent: str = Field("kitrun", description="sent to the geocoder (its policy)")
    geocoder_timeout_seconds: float = Field(3.0, description="a claim never waits longer")
    phone_region: str = Field("FR", description="region of phone numbers typed without +code")
    tile_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="map tiles ({z}/{x}/{y}) under the run page's map; empty: the drawn map only",
    )
    tile_attribution: str = Field(
        "© OpenStreetMap contributors", description="the tile server's required credit"
    )
    road_factor: float = 1.3
    average_speed_kmh: float = 60.0
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        "text", description="text, or json: one JSON object per line (with the request id)"
    )
    metrics_allow: str = Field(
        "127.0.0.1,::1",
        description="comma-separated addresses or CIDRs that may read /metrics (the client as "
        "resolved behind KITRUN_TRUSTED_PROXIES)",
    )
    metrics_token: str | None = Field(
        None, description="a bearer token that may read /metrics from any address (empty: none)"
    )
    metrics_dir: Path | None = Field(
        None, description="where `kitrun serve`'s workers keep their counts (data_dir/metrics)"
    )
    purge_interval_seconds: float = Field(
        3600, description="how often each process purges data past retention (0: never)"
    )
    file_retention_days: int = Field(
        30, description="label PDFs, outbox mails and roster import errors are kept this long"
    )

    @property
    def production(self) -> bool:
        return self.env.lower() == "production"

    @property
    def tile_origin(self) -> str | None:
        """scheme://host[:port] of KITRUN_TILE_URL (the CSP lets images come from it), or None."""
        if not self.tile_url:
            return None
        parts = urlsplit(self.tile_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"KITRUN_TILE_URL must be an http(s) URL, not {self.tile_url!r}")
        return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"

    @cached_property
    def sqlalchemy_url(self) -> str:
        url = self.database_url or f"sqlite:///{self.data_dir / 'kitrun.db'}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    @cached_property
    def trusted_proxy_list(self) -> list[str]:
        """KITRUN_TRUSTED_PROXIES as checked addresses and networks (ConfigError if not)."""
        out = []
        for raw in self.trusted_proxies.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(
                    f"KITRUN_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    "(e.g. 10.0.0.5, 172.30.0.0/16, ::1); names and * are not accepted."
                ) from None
            out.append(str(net.network_address) if net.num_addresses == 1 else str(net))
        return out

    @cached_property
    def metrics_allow_list(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """KITRUN_METRICS_ALLOW as networks (ConfigError if an entry is not one)."""
        out = []
        for raw in self.metrics_allow.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                out.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ConfigError(
                    f"KITRUN_METRICS_ALLOW: {entry!r} is not an IP address or network "
                    "(e.g. 127.0.0.1, 10.0.0.0/8, ::1)."
                ) from None
        return out

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @cached_property
    def secret(self) -> str:
        """The signing key: from the setting, or (development only) generated once into data_dir."""
        if self.secret_key and self.secret_key != DEFAULT_SECRET:
            return self.secret_key
        if self.production:
            raise ConfigError(
                "KITRUN_SECRET_KEY is missing or still the default; in production set it to a "
                "long random value, e.g. the output of `openssl rand -hex 32`."
            )
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


def get_settings() -> Settings:
    return Settings()
