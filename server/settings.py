"""All configuration in one pydantic-settings class (environment prefix COUNSEL_)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from media.speech.config import EngineConfig, EngineKind
from translation.base import EngineOptions
from translation.paths import DEFAULT_INDEX_URL

DEVELOPMENT_SECRET = "development-only-secret-change-me"

UrlList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUNSEL_", env_file=".env", extra="ignore")

    mode: Literal["development", "production"] = "development"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    public_url: str | None = Field(
        default=None, description="Base URL used in invite links; the request's URL when unset "
        "(its Host is one of allowed_hosts)."
    )
    timezone: str = Field(default="UTC", description="Zone for entering and showing times.")
    default_locale: str = Field(
        default="en", min_length=2, max_length=16,
        description="The interface's language when neither the person nor their browser chose "
        "one the interface has (e.g. ko; see docs/i18n.md).",
    )
    staff_language: str = Field(
        default="en", min_length=2, max_length=16,
        description="The language staff speak and read in a room until they choose another "
        "(a code of the join page's list, e.g. ko).",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str = "sqlite+aiosqlite:///./var/counsel-room.db"
    redis_url: str | None = None
    node_url: str | None = Field(
        default=None, description="With redis_url: this node's own address (http(s)://..., "
        "reachable by the pages: behind one proxy, a path that it routes to this node, e.g. "
        "https://counsel.example.org/nodes/a). Rooms are served by one node each; a node with "
        "an address takes rooms and sockets of its rooms are sent to it. Nodes without one "
        "serve every room locally (media of a room then needs all its people on one node).",
    )
    data_dir: Path = Path("var")
    models_dir: Path = Field(default=Path("var/models"), description="Installed speech models.")

    translation_dir: Path | None = Field(
        default=None,
        description="Installed translation models (Argos packs, multilingual models); "
        "<models_dir>/translation when unset.",
    )
    translation_threads: int = Field(
        default=1, ge=0,
        description="CPU threads of each translation model (CTranslate2 intra_threads; 0 = all "
        "cores). 1 by default: beside Whisper in one process more threads contend and were "
        "measured 3x slower.",
    )
    translation_in_pool: bool = Field(
        default=False,
        description="Translate on the ASR pool's workers (needs speech_pool_url; install the "
        "same translation models on nodes, which only read their descriptions, and workers).",
    )
    translation_index_url: str = Field(
        default=DEFAULT_INDEX_URL,
        description="The Argos package index `models install argos` downloads packs from.",
    )

    captions_enabled: bool = Field(
        default=True, description="Live captions of consenting speakers (needs an installed model)."
    )
    speech_engine: EngineKind = Field(
        default=EngineKind.FASTER_WHISPER, description="faster-whisper or openai-whisper."
    )
    speech_model: str = Field(
        default="whisper-base",
        description="An installed model name (models_dir) or a model path; the default is "
        "multilingual, so nobody's speech is forced through an English-only model.",
    )
    speech_device: str = Field(default="cpu", description="cpu, cuda, cuda:1, ...")
    speech_compute_type: str = Field(default="int8", description="faster-whisper compute type.")
    speech_beam_size: int = Field(default=5, ge=1, le=10)
    speech_cpu_threads: int = Field(default=2, ge=0)
    speech_pool_url: str | None = Field(
        default=None,
        description="Redis URL of the ASR worker pool: the node hands speech to "
        "`counsel-room asr-worker` processes instead of loading a model; unset = in-process.",
    )
    speech_pool_prefix: str = Field(
        default="counsel:asr", min_length=1,
        description="Key prefix of the pool's Redis streams (nodes and workers must agree).",
    )
    speech_pool_claim_after_s: float = Field(
        default=10.0, gt=0,
        description="Workers take over a job left pending this long by a worker that stopped.",
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for GET /metrics; unset: only scrapers on loopback may read it.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="How `serve` logs: text lines, or one JSON object per line (time, level, "
        "logger, message, exception).",
    )

    allowed_hosts: UrlList = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"],
        description="Host names this server answers to (the Host header); the host of "
        "public_url is added. Requests naming another host are refused (400), so invitation "
        "links never carry a host an attacker chose.",
    )
    hsts_seconds: int | None = Field(
        default=None, ge=0,
        description="Strict-Transport-Security max-age; unset: one year when cookies are "
        "secure (production), none otherwise; 0 switches it off.",
    )
    login_limit_per_account: str = Field(
        default="10 per 15 minutes",
        description="Sign-in attempts per staff account (every attempt counts; a success "
        "starts afresh).",
    )
    login_limit_per_address: str = Field(
        default="30 per 15 minutes", description="Failed sign-ins per client address."
    )
    join_limit_per_address: str = Field(
        default="20 per 15 minutes",
        description="Wrong invitation codes and unknown short links (/j/...) per client "
        "address (each invitation also locks after 5 wrong codes).",
    )
    hall_ask_limit_per_address: str = Field(
        default="30 per minute",
        description="Questions to the hall's help chatbot per client address.",
    )

    invite_ttl_hours: float = Field(default=72, gt=0)
    invite_ask_for_id: bool = Field(
        default=True,
        description="The ready-to-send invitation message asks the worker to have their ID "
        "card and claim number at hand.",
    )
    room_token_ttl_minutes: float = Field(default=240, gt=0)
    staff_session_hours: float = Field(default=12, gt=0)
    cookie_secure: bool | None = Field(
        default=None, description="Send cookies over HTTPS only; on by default in production."
    )

    form_link_days: float = Field(
        default=30, gt=0, description="How long a link to fill a form stays valid.")
    form_attachment_max_mb: float = Field(
        default=10, gt=0, le=100, description="Largest attachment a form accepts (MB).")
    form_files_per_field: int = Field(default=5, ge=1, le=50)

    ws_max_message_bytes: int = Field(default=16 * 1024, ge=512)
    ws_rate_per_second: float = Field(default=5.0, gt=0)
    ws_rate_burst: int = Field(default=20, ge=1)
    ws_send_queue: int = Field(default=512, ge=16)
    ws_max_sockets_per_participant: int = Field(
        default=4, ge=1,
        description="Sockets one participant may hold on a node (tabs, devices); more are "
                    "refused (close 4429).")
    ws_max_sockets_per_address: int = Field(
        default=200, ge=1,
        description="Sockets from one client address on a node, authenticated or not (an "
                    "office behind one NAT address holds many); more are refused (4429).")
    chat_rate_per_second: float = Field(
        default=2.0, gt=0, description="Chat messages per second per participant, all of "
                                       "their sockets together (refused: rate_limited).")
    chat_rate_burst: int = Field(default=10, ge=1)
    chat_rate_per_address_per_second: float = Field(
        default=20.0, gt=0, description="Chat messages per second from one client address, "
                                        "everyone there together.")
    chat_rate_per_address_burst: int = Field(default=50, ge=1)
    http_head_timeout_s: float = Field(
        default=10.0, gt=0, description="A request's line and headers must arrive within this "
                                        "many seconds (against slowloris).")
    ws_write_deadline_s: float = Field(
        default=10.0, gt=0, description="A socket whose client takes no frame for this long "
                                        "(it stopped reading) is closed (4408).")
    chat_max_chars: int = Field(default=4000, ge=1)

    rtc_stun_urls: UrlList = Field(
        default_factory=list, description="STUN servers for browsers and the server's peers."
    )
    rtc_turn_urls: UrlList = Field(
        default_factory=list, description="TURN servers for browsers (need rtc_turn_secret)."
    )
    rtc_turn_secret: SecretStr | None = Field(
        default=None, description="coturn's static-auth-secret (use-auth-secret scheme)."
    )
    rtc_turn_ttl_s: int = Field(default=4 * 3600, gt=0)
    rtc_host_addresses: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Addresses the server gathers ICE host candidates on; all but loopback "
        "when unset. Clients' loopback candidates are accepted only when these include "
        "loopback (tests, development).",
    )
    rtc_ice_timeout_s: float = Field(default=20.0, gt=0)
    rtc_allowed_networks: UrlList = Field(
        default_factory=list,
        description="CIDR networks the server may send ICE checks to although they are "
        "private, link-local, shared or reserved (your TURN relays, a LAN whose clients connect "
        "directly: 10.20.0.0/16). Only global unicast addresses otherwise; metadata, multicast, "
        "unspecified addresses and host names never (docs/media.md).",
    )
    rtc_denied_networks: UrlList = Field(
        default_factory=list,
        description="CIDR networks the server never sends ICE checks to, even if global or "
        "allowed (e.g. the server's own public range).",
    )

    @field_validator("login_limit_per_account", "login_limit_per_address",
                     "join_limit_per_address", "hall_ask_limit_per_address")
    @classmethod
    def _check_limit(cls, value: str) -> str:
        """A rate in the `limits` notation: "10 per 15 minutes", "5/minute"."""
        parse(value)
        return value

    @field_validator("rtc_stun_urls", "rtc_turn_urls", "rtc_host_addresses", "allowed_hosts",
                     mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        """Environment values are comma-separated lists (`stun:a:3478,stun:b:3478`)."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _check_rtc(self) -> Settings:
        if self.rtc_turn_urls and self.rtc_turn_secret is None:
            raise ValueError("COUNSEL_RTC_TURN_URLS need COUNSEL_RTC_TURN_SECRET")
        for address in self.rtc_host_addresses or ():
            ipaddress.ip_address(address)
        return self

    @field_validator("rtc_allowed_networks", "rtc_denied_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        """Comma-separated CIDR networks in the environment (`10.20.0.0/16,fd42::/48`)."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("rtc_allowed_networks", "rtc_denied_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network)  # host bits must be zero: 10.20.0.0/16
        return value

    @model_validator(mode="after")
    def _check_pool(self) -> Settings:
        if self.translation_in_pool and not self.speech_pool_url:
            raise ValueError("COUNSEL_TRANSLATION_IN_POOL needs COUNSEL_SPEECH_POOL_URL")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.mode == "development":
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEVELOPMENT_SECRET:
            raise ValueError("set COUNSEL_SECRET_KEY: the default secret is for development only")
        if len(secret) < 32:
            raise ValueError("COUNSEL_SECRET_KEY must be at least 32 characters in production")
        return self

    def speech_engine_config(self) -> EngineConfig:
        """The speech engine these settings describe (media.speech knows nothing of settings)."""
        return EngineConfig(
            engine=self.speech_engine, model=self.speech_model, models_dir=self.models_dir,
            device=self.speech_device, compute_type=self.speech_compute_type,
            beam_size=self.speech_beam_size, cpu_threads=self.speech_cpu_threads,
        )

    def translation_options(self) -> EngineOptions:
        """How this node's (or worker's) translation models run."""
        return EngineOptions(intra_threads=self.translation_threads)

    @property
    def translation_path(self) -> Path:
        """Where translation models are installed (``translation_dir`` or a default)."""
        return self.translation_dir or self.models_dir / "translation"

    @property
    def speech_multilingual(self) -> bool:
        """Whether the configured model is multilingual, known from its name (Whisper's
        English-only models end in ``.en``): a node using the pool loads no model to ask."""
        return not Path(self.speech_model).name.endswith(".en")

    @property
    def secure_cookies(self) -> bool:
        return self.mode == "production" if self.cookie_secure is None else self.cookie_secure

    @property
    def trusted_hosts(self) -> list[str]:
        """allowed_hosts and the host of public_url."""
        hosts = list(self.allowed_hosts)
        public = urlsplit(self.public_url).hostname if self.public_url else None
        return [*hosts, public] if public and public not in hosts else hosts

    @property
    def hsts_max_age(self) -> int:
        if self.hsts_seconds is not None:
            return self.hsts_seconds
        return 365 * 24 * 3600 if self.secure_cookies else 0
