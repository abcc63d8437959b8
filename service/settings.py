"""Every environment variable the service reads, in one place, with its default.

Secrets (Twilio credentials, SECRET_KEY, DATA_KEY) come only from the environment; nothing secret has a
default that would work in production.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .privacy.keys import Keyring

ROOT = Path(__file__).resolve().parent.parent
TWILIO_API = "https://api.twilio.com"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Twilio's <Say voice>: its basic voices, Amazon Polly's (Polly.Name, -Neural, -Generative), Google's.
TWILIO_VOICE = re.compile(r"man|woman|alice|Polly\.[A-Z][A-Za-z]+(-Neural|-Generative|-LongForm)?"
                          r"|Google\.[a-z]{2,3}-[A-Z]{2}-[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
FHIR_PLACEHOLDER = "https://nurse-line.invalid/fhir"  # names no real host: set FHIR_BASE_URL in production


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'instance' / 'triage.sqlite3'}"
    transport: str = "console"  # console | twilio
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_phone_number: str = ""
    twilio_api_base_url: str = TWILIO_API
    twilio_timeout: float = 5.0
    public_base_url: str = ""  # e.g. https://triage.example.org, when behind a proxy
    flows_dir: str = str(ROOT / "flows")
    roster_file: str = str(ROOT / "roster.example.yaml")
    clinic_name: str = "Clinic"
    clinic_phone: str = ""
    clinic_timezone: str = "America/New_York"
    default_region: str = "US"  # how numbers without a +country code are read
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    dispatch: str = "background"  # inline: send before the webhook answers (tests); background: after
    outbox_threads: int = 4  # background sends at once per process in each lane (pages; the rest): side by side
    auto_migrate: bool = True  # create/upgrade the schema at start-up (the embedded default)
    run_clock: bool = False  # run the clock's jobs inside the web process (dev mode; on for SQLite)
    fhir_base_url: str = ""  # where our FHIR canonical URLs and code systems live (records/fhir.py); see fhir_base
    dashboard_session_hours: float = 8.0  # a dashboard login lasts this long, however active (one shift)
    dashboard_idle_minutes: float = 30.0  # ...and ends sooner after this long without activity (not refreshes)
    dashboard_require_2fa: bool = False  # TOTP for every account (admins always need it)
    trusted_proxies: int = 0  # proxy hops in front of the service whose X-Forwarded-For is believed
    advanced_opt_out: bool = False  # Twilio answers STOP/START/HELP itself (it sends OptOutType): no second reply
    target_ack_minutes_emergency: float = 5.0  # service levels: an emergency acknowledged within this long
    target_contact_minutes_callback: float = 30.0  # ...and a nurse callback reached within this long
    metrics_token: str = field(default="", repr=False)  # GET /metrics needs it as a bearer token; empty: off
    data_key: str = field(default="", repr=False)  # seals patient content in the database (privacy/keys.py)
    data_key_old: str = field(default="", repr=False)  # earlier keys, comma-separated: read only (rotate-key)
    retention_days: int | None = None  # patient content older than this is purged by the clock; None: kept
    twilio_whatsapp_from: str = ""  # the clinic's WhatsApp sender, E.164 (README, WhatsApp); empty: WhatsApp is off
    whatsapp_templates_file: str = ""  # approved templates for texts outside WhatsApp's 24-hour window
    spool_dir: str = str(ROOT / "instance" / "spool")  # Twilio requests kept on disk while the database is down
    voice_en: str = ""  # Twilio voice for English <Say> (e.g. Polly.Joanna-Neural); empty: Twilio's default
    voice_es: str = ""  # ...and for Spanish (e.g. Polly.Lupe-Neural)
    voice_input_timeout: int = 6  # seconds a caller has to answer a question (relay and TTY callers need more)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        default = cls()
        database_url = env.get("DATABASE_URL") or default.database_url
        values = dict(
            database_url=database_url,
            transport=env.get("TRIAGE_TRANSPORT", default.transport).strip().lower(),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_phone_number=env.get("TWILIO_PHONE_NUMBER", ""),
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or TWILIO_API,
            twilio_timeout=float(env.get("TWILIO_TIMEOUT", default.twilio_timeout)),
            public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
            flows_dir=env.get("FLOWS_DIR", default.flows_dir),
            roster_file=env.get("ROSTER_FILE", default.roster_file),
            clinic_name=env.get("CLINIC_NAME", default.clinic_name),
            clinic_phone=env.get("CLINIC_PHONE", default.clinic_phone),
            clinic_timezone=env.get("CLINIC_TIMEZONE", default.clinic_timezone),
            default_region=env.get("DEFAULT_REGION", default.default_region),
            dispatch=env.get("TRIAGE_DISPATCH", default.dispatch),
            outbox_threads=int(env.get("OUTBOX_THREADS") or default.outbox_threads),
            auto_migrate=_flag(env.get("AUTO_MIGRATE"), database_url.startswith("sqlite")),
            run_clock=_flag(env.get("RUN_CLOCK"), database_url.startswith("sqlite")),
            fhir_base_url=env.get("FHIR_BASE_URL", "").strip().rstrip("/"),
            dashboard_session_hours=float(env.get("DASHBOARD_SESSION_HOURS") or default.dashboard_session_hours),
            dashboard_idle_minutes=float(env.get("DASHBOARD_IDLE_MINUTES") or default.dashboard_idle_minutes),
            dashboard_require_2fa=_flag(env.get("DASHBOARD_REQUIRE_2FA"), False),
            trusted_proxies=int(env.get("TRUSTED_PROXIES") or default.trusted_proxies),
            advanced_opt_out=_flag(env.get("TWILIO_ADVANCED_OPT_OUT"), False),
            target_ack_minutes_emergency=float(env.get("TARGET_ACK_MINUTES_EMERGENCY")
                                               or default.target_ack_minutes_emergency),
            target_contact_minutes_callback=float(env.get("TARGET_CONTACT_MINUTES_CALLBACK")
                                                  or default.target_contact_minutes_callback),
            metrics_token=env.get("METRICS_TOKEN", "").strip(),
            data_key=env.get("DATA_KEY", "").strip(),
            data_key_old=env.get("DATA_KEY_OLD", "").strip(),
            retention_days=int(env["RETENTION_DAYS"]) if env.get("RETENTION_DAYS", "").strip() else None,
            twilio_whatsapp_from=env.get("TWILIO_WHATSAPP_FROM", "").strip().removeprefix("whatsapp:"),
            whatsapp_templates_file=env.get("WHATSAPP_TEMPLATES_FILE", "").strip(),
            spool_dir=env.get("SPOOL_DIR", "").strip() or default.spool_dir,
            voice_en=env.get("VOICE_EN", "").strip(),
            voice_es=env.get("VOICE_ES", "").strip(),
            voice_input_timeout=int(env.get("VOICE_INPUT_TIMEOUT") or default.voice_input_timeout),
        )
        if env.get("SECRET_KEY"):
            values["secret_key"] = env["SECRET_KEY"]
        elif not database_url.startswith("sqlite"):
            # Several web processes share Postgres: each would invent its own key, and dashboard
            # sessions and CSRF tokens would fail at random. Production must set SECRET_KEY.
            values["secret_key"] = ""
        return cls(**values)

    def problems(self) -> list[str]:
        """Settings that would make the service unsafe to run; reported at start-up."""
        found = []
        if self.transport not in ("console", "twilio"):
            found.append(f"TRIAGE_TRANSPORT must be console or twilio, not {self.transport!r}")
        if self.transport == "twilio":
            for name in ("twilio_account_sid", "twilio_auth_token", "twilio_phone_number"):
                if not getattr(self, name):
                    found.append(f"{name.upper()} is required with TRIAGE_TRANSPORT=twilio")
        if not 0 < self.dashboard_session_hours <= 24:
            found.append(f"DASHBOARD_SESSION_HOURS must be in (0, 24], not {self.dashboard_session_hours}")
        if not 0 < self.dashboard_idle_minutes <= self.dashboard_session_hours * 60:
            found.append(f"DASHBOARD_IDLE_MINUTES must be more than 0 and at most DASHBOARD_SESSION_HOURS, "
                         f"not {self.dashboard_idle_minutes}")
        if not 0 <= self.trusted_proxies <= 5:
            found.append(f"TRUSTED_PROXIES must be 0 to 5 (proxy hops), not {self.trusted_proxies}")
        if self.fhir_base_url and not self.fhir_base_url.startswith(("https://", "http://")):
            found.append(f"FHIR_BASE_URL must be an http(s) URL (the FHIR export's canonical base), "
                         f"not {self.fhir_base_url!r}")
        if self.dispatch not in ("inline", "background"):
            found.append(f"TRIAGE_DISPATCH must be inline or background, not {self.dispatch!r}")
        if not 1 <= self.outbox_threads <= 32:
            found.append(f"OUTBOX_THREADS must be 1 to 32, not {self.outbox_threads}")
        if not self.secret_key:
            found.append("SECRET_KEY is required with a shared database (every web process must sign alike)")
        found += self._data_key_problems()
        if self.retention_days is not None and self.retention_days < 1:
            found.append(f"RETENTION_DAYS must be at least 1 (or unset: keep everything), not {self.retention_days}")
        if not 0 < self.twilio_timeout < 25:
            # outbound.LEASE (30 s) must outlast one send, or a slow send could be claimed twice.
            found.append(f"TWILIO_TIMEOUT must be between 0 and 25 seconds, not {self.twilio_timeout}")
        for name in ("target_ack_minutes_emergency", "target_contact_minutes_callback"):
            if not 0 < getattr(self, name) <= 24 * 60:
                found.append(f"{name.upper()} must be more than 0 and at most 1440 minutes, not {getattr(self, name)}")
        if self.metrics_token and len(self.metrics_token) < 16:
            found.append("METRICS_TOKEN must have at least 16 characters (it is a password for /metrics)")
        if self.twilio_whatsapp_from and not E164.fullmatch(self.twilio_whatsapp_from):
            found.append(f"TWILIO_WHATSAPP_FROM must be the WhatsApp sender's number in E.164 (+15551234567), "
                         f"not {self.twilio_whatsapp_from!r}")
        if self.whatsapp_templates_file and not Path(self.whatsapp_templates_file).is_file():
            found.append(f"WHATSAPP_TEMPLATES_FILE {self.whatsapp_templates_file!r} is not a file")
        for name, voice in (("VOICE_EN", self.voice_en), ("VOICE_ES", self.voice_es)):
            if voice and not TWILIO_VOICE.fullmatch(voice):
                found.append(f"{name} must be a Twilio voice (man, woman, alice, Polly.Joanna-Neural, "
                             f"Google.es-US-Neural2-A ...), not {voice!r}")
        if not 3 <= self.voice_input_timeout <= 60:
            found.append(f"VOICE_INPUT_TIMEOUT must be 3 to 60 seconds, not {self.voice_input_timeout}")
        return found

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.twilio_whatsapp_from)

    def _data_key_problems(self) -> list[str]:
        if not self.data_key:
            if self.data_key_old:
                return ["DATA_KEY_OLD is set without DATA_KEY: the current key must be set too"]
            if not self.database_url.startswith("sqlite"):
                # A shared database is production (as for SECRET_KEY): patient content is never stored plain.
                return ["DATA_KEY is required with a shared database (patient content is encrypted at rest; "
                        "make one with `flask --app service data new-key`)"]
            return []
        try:
            self.keyring()
        except ValueError as error:
            return [f"DATA_KEY and DATA_KEY_OLD must each be 32 bytes in base64url "
                    f"(`flask --app service data new-key`): {error}"]
        return []

    def keyring(self) -> Keyring | None:
        """The data keys; None in dev without DATA_KEY (content stored readable)."""
        return Keyring.parse(self.data_key, self.data_key_old)

    @property
    def context(self) -> dict[str, str]:
        """Placeholders flows may use in their texts."""
        return {"clinic_name": self.clinic_name, "clinic_phone": self.clinic_phone or "the clinic"}

    @property
    def fhir_base(self) -> str:
        """FHIR_BASE_URL, else PUBLIC_BASE_URL/fhir, else a placeholder under .invalid (RFC 2606: no such host)."""
        return self.fhir_base_url or (f"{self.public_base_url}/fhir" if self.public_base_url else FHIR_PLACEHOLDER)
