"""What a phone keypad press means, the same for the voice channel and for conversation tests."""

from __future__ import annotations

REPEAT_KEY = "9"  # hear the question again
NURSE_KEY = "0"  # reach a nurse at any time
NURSE_WORD = "NURSE"  # the keyword the engine already understands


def key_to_text(digits: str) -> str | None:
    """The text the engine should read for these digits; None means 'repeat the question'."""
    digits = digits.strip().rstrip("#*")
    if digits == REPEAT_KEY:
        return None
    if digits == NURSE_KEY:
        return NURSE_WORD
    return digits
