"""Every setting comes from the environment; an unsafe combination stops the start, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import create_app
from service.privacy.keys import key_id, new_key, parse_key
from service.settings import Settings

POSTGRES = "postgresql://triage:secret@db.example.org/triage"


def test_a_fresh_machine_runs_embedded_with_nothing_set() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///") and settings.transport == "console"
    assert settings.auto_migrate and settings.run_clock and settings.secret_key
    assert settings.outbox_threads == 4
    assert settings.problems() == []


def test_a_shared_database_needs_its_secret_key_from_the_environment() -> None:
    settings = Settings.from_env({"DATABASE_URL": POSTGRES})
    assert not settings.auto_migrate and not settings.run_clock  # the release phase and the clock process do
    assert any("SECRET_KEY is required" in p for p in settings.problems())
    assert Settings.from_env({"DATABASE_URL": POSTGRES, "SECRET_KEY": "k" * 32, "DATA_KEY": new_key()}).problems() == []


def test_twilio_transport_needs_its_credentials() -> None:
    problems = Settings.from_env({"TRIAGE_TRANSPORT": "twilio"}).problems()
    assert {p.split()[0] for p in problems} == {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER"}


def test_whatsapp_is_off_until_its_sender_is_set(tmp_path: Path) -> None:
    default = Settings.from_env({})
    assert (default.whatsapp_enabled, default.twilio_whatsapp_from, default.whatsapp_templates_file) == (False, "", "")
    templates = tmp_path / "whatsapp_templates.yaml"
    templates.write_text("{}")
    settings = Settings.from_env({"TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
                                  "WHATSAPP_TEMPLATES_FILE": str(templates)})
    assert (settings.whatsapp_enabled, settings.twilio_whatsapp_from) == (True, "+14155238886")  # prefix optional
    assert settings.whatsapp_templates_file == str(templates) and settings.problems() == []
    problems = Settings.from_env({"TWILIO_WHATSAPP_FROM": "415 523 8886",
                                  "WHATSAPP_TEMPLATES_FILE": str(tmp_path / "missing.yaml")}).problems()
    assert [p.split()[0] for p in problems] == ["TWILIO_WHATSAPP_FROM", "WHATSAPP_TEMPLATES_FILE"], problems


@pytest.mark.parametrize("env, problem", [
    ({"TRIAGE_TRANSPORT": "carrier-pigeon"}, "TRIAGE_TRANSPORT must be console or twilio"),
    ({"TRIAGE_DISPATCH": "later"}, "TRIAGE_DISPATCH must be inline or background"),
    ({"TWILIO_TIMEOUT": "30"}, "TWILIO_TIMEOUT must be between 0 and 25 seconds"),  # outlasts the outbox lease
    ({"OUTBOX_THREADS": "0"}, "OUTBOX_THREADS must be 1 to 32"),
    ({"DASHBOARD_SESSION_HOURS": "48"}, "DASHBOARD_SESSION_HOURS must be in (0, 24]"),
    ({"DASHBOARD_IDLE_MINUTES": "0"}, "DASHBOARD_IDLE_MINUTES must be more than 0"),
    ({"DASHBOARD_IDLE_MINUTES": "600"}, "DASHBOARD_IDLE_MINUTES must be more than 0 and at most"),  # past 8 h
    ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES must be 0 to 5"),
    ({"TARGET_ACK_MINUTES_EMERGENCY": "0"}, "TARGET_ACK_MINUTES_EMERGENCY must be more than 0 and at most 1440"),
    ({"TARGET_CONTACT_MINUTES_CALLBACK": "2000"}, "TARGET_CONTACT_MINUTES_CALLBACK must be more than 0"),
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must have at least 16 characters"),
])
def test_unsafe_values_are_named(env: dict[str, str], problem: str) -> None:
    problems = Settings.from_env(env).problems()
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_outbox_threads_is_read_from_the_environment() -> None:
    assert Settings.from_env({"OUTBOX_THREADS": "8"}).outbox_threads == 8


def test_dashboard_security_settings_are_read_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.dashboard_idle_minutes, default.dashboard_require_2fa, default.trusted_proxies) == (30, False, 0)
    settings = Settings.from_env({"DASHBOARD_IDLE_MINUTES": "15", "DASHBOARD_REQUIRE_2FA": "1", "TRUSTED_PROXIES": "2"})
    assert (settings.dashboard_idle_minutes, settings.dashboard_require_2fa, settings.trusted_proxies) == (15, True, 2)


def test_service_level_targets_are_read_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.target_ack_minutes_emergency, default.target_contact_minutes_callback) == (5, 30)
    settings = Settings.from_env({"TARGET_ACK_MINUTES_EMERGENCY": "2.5", "TARGET_CONTACT_MINUTES_CALLBACK": "20"})
    assert (settings.target_ack_minutes_emergency, settings.target_contact_minutes_callback) == (2.5, 20)
    assert settings.problems() == []


def test_metrics_are_off_until_a_token_is_set() -> None:
    assert Settings.from_env({}).metrics_token == ""
    settings = Settings.from_env({"METRICS_TOKEN": " k3y-for-prometheus-0123 "})
    assert settings.metrics_token == "k3y-for-prometheus-0123" and settings.problems() == []
    assert "k3y" not in repr(settings)  # a secret: never in a log line that prints the settings


def test_fhir_base_url_names_the_exports_canonical_urls() -> None:
    assert Settings.from_env({"FHIR_BASE_URL": "https://ehr.example.org/fhir/"}).fhir_base == \
        "https://ehr.example.org/fhir"
    assert Settings.from_env({"PUBLIC_BASE_URL": "https://line.example.org"}).fhir_base == \
        "https://line.example.org/fhir"  # no FHIR_BASE_URL: under the service's own address
    assert Settings.from_env({}).fhir_base.endswith(".invalid/fhir")  # a placeholder that names no host
    problems = Settings.from_env({"FHIR_BASE_URL": "ehr.example.org/fhir"}).problems()
    assert len(problems) == 1 and problems[0].startswith("FHIR_BASE_URL must be an http(s) URL"), problems


def test_a_shared_database_refuses_to_start_without_a_data_key() -> None:
    """Production (a shared database, as for SECRET_KEY) never stores patient content in the clear."""
    settings = Settings.from_env({"DATABASE_URL": POSTGRES, "SECRET_KEY": "k" * 32})
    assert [p.split(" (")[0] for p in settings.problems()] == ["DATA_KEY is required with a shared database"]
    with pytest.raises(RuntimeError, match="DATA_KEY is required"):
        create_app(settings)
    current, old = new_key(), new_key()
    keyed = Settings.from_env({"DATABASE_URL": POSTGRES, "SECRET_KEY": "k" * 32, "DATA_KEY": current,
                               "DATA_KEY_OLD": old})
    keyring = keyed.keyring()
    assert keyed.problems() == [] and keyring is not None
    assert (keyring.current_id, keyring.old_ids) == (key_id(parse_key(current)), [key_id(parse_key(old))])
    assert current not in repr(keyed) and old not in repr(keyed)  # secrets stay out of reprs and tracebacks


def test_dev_without_a_data_key_stores_content_readable_and_keeps_it() -> None:
    settings = Settings.from_env({})
    assert settings.keyring() is None and settings.retention_days is None and settings.problems() == []
    assert Settings.from_env({"RETENTION_DAYS": "2555"}).retention_days == 2555  # 7 years


@pytest.mark.parametrize("env, problem", [
    ({"DATA_KEY": "too-short"}, "DATA_KEY and DATA_KEY_OLD must each be 32 bytes in base64url"),
    ({"DATA_KEY": new_key(), "DATA_KEY_OLD": "AAAA"}, "DATA_KEY and DATA_KEY_OLD must each be 32 bytes"),
    ({"DATA_KEY_OLD": new_key()}, "DATA_KEY_OLD is set without DATA_KEY"),
    ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS must be at least 1"),
])
def test_unsafe_data_settings_are_named(env: dict[str, str], problem: str) -> None:
    problems = Settings.from_env(env).problems()
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_the_outage_spool_and_the_voices_are_read_from_the_environment(tmp_path: Path) -> None:
    default = Settings.from_env({})
    assert default.spool_dir.endswith("instance/spool") and (default.voice_en, default.voice_es) == ("", "")
    assert default.voice_input_timeout == 6
    settings = Settings.from_env({"SPOOL_DIR": str(tmp_path), "VOICE_EN": "Polly.Joanna-Neural",
                                  "VOICE_ES": "Google.es-US-Neural2-A", "VOICE_INPUT_TIMEOUT": "20"})
    assert (settings.spool_dir, settings.voice_en, settings.voice_es) == (str(tmp_path), "Polly.Joanna-Neural",
                                                                          "Google.es-US-Neural2-A")
    assert settings.voice_input_timeout == 20 and settings.problems() == []


@pytest.mark.parametrize("env, problem", [
    ({"VOICE_EN": "Joanna"}, "VOICE_EN must be a Twilio voice"),
    ({"VOICE_ES": "Polly.lupe"}, "VOICE_ES must be a Twilio voice"),
    ({"VOICE_INPUT_TIMEOUT": "2"}, "VOICE_INPUT_TIMEOUT must be 3 to 60 seconds"),
    ({"VOICE_INPUT_TIMEOUT": "90"}, "VOICE_INPUT_TIMEOUT must be 3 to 60 seconds"),
])
def test_unusable_voice_settings_are_named(env: dict[str, str], problem: str) -> None:
    problems = Settings.from_env(env).problems()
    assert len(problems) == 1 and problems[0].startswith(problem), problems
