"""Phone numbers: E.164 through phonenumbers, and masking for anything a person may read in logs."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=1024)  # a patient's number arrives with every text; parsing it was 2% of a webhook's CPU
def to_e164(raw: str | None, region: str = "US") -> str | None:
    """The number in E.164, or None when it is missing, hidden or not a valid number."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    # "Possible" rather than "valid": a newly assigned area code must not lock a patient out.
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(phone: str | None) -> str:
    """'+15550100123' -> '+1******0123': enough for a nurse to tell patients apart, not to dial."""
    if not phone:
        return "(no number)"
    keep = 4 if len(phone) > 6 else 1
    prefix = phone[:2] if phone.startswith("+") else ""
    return prefix + "*" * max(len(phone) - len(prefix) - keep, 1) + phone[-keep:]


def pretty(phone: str | None) -> str:
    """A readable form for nurses' pages: '+1 555-010-0123'."""
    if not phone:
        return "(hidden number)"
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
