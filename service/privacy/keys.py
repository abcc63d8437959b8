"""The data keys (DATA_KEY, DATA_KEY_OLD) and sealing one value with them: AES-256-GCM.

A sealed value is text: `enc:v1:<key id>:<base64url(nonce + ciphertext + tag)>`. The key id (8 hex
digits of a hash of the key) names the key that sealed it, so a value is opened with whichever key of
the ring it names, and `flask data rotate-key` finds what is not yet under the current key. The
associated data binds each value to its column ("messages.body") and to its header: a ciphertext copied
into another column, or given another key id, does not open.

With no key (dev), values are stored as they are; the few that would look sealed ("enc:...") are stored
behind `enc:plain:` so that a patient who texts "enc:v1:..." reads back as written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc:"
SEALED = "enc:v1:"
PLAIN = "enc:plain:"  # dev: a plain value that starts like a sealed one
KEY_BYTES = 32
NONCE_BYTES = 12  # random per value: under one key, far fewer than 2**32 values are ever sealed
SEALED_ID = re.compile(r'^"?enc:v1:([0-9a-f]{8}):')  # also inside a JSON column: a JSON string


class DataKeyError(Exception):
    """A sealed value that no key of the ring opens. Never says what the value holds."""


def parse_key(text: str) -> bytes:
    """A key as DATA_KEY holds it: 32 random bytes, base64url (`flask --app service data new-key`)."""
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{len(key)} bytes, not {KEY_BYTES}")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"triage data key id:" + key).hexdigest()[:8]


def sealed_key_id(raw: str | None) -> str | None:
    """The id of the key a stored value (a text, or a JSON column's text) was sealed with; None: plain."""
    match = SEALED_ID.match(raw or "")
    return match.group(1) if match else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Keyring:
    """The current key (seals every new value) and old keys (open values sealed before a rotation)."""

    current_id: str
    keys: dict[str, AESGCM] = field(repr=False)

    @classmethod
    def parse(cls, current: str, old: str = "") -> Keyring | None:
        """From DATA_KEY and DATA_KEY_OLD (comma-separated); None when DATA_KEY is empty (dev)."""
        if not current.strip():
            return None
        main = parse_key(current)
        keys = {key_id(main): AESGCM(main)}
        for text in old.split(","):
            if text.strip():
                key = parse_key(text)
                keys.setdefault(key_id(key), AESGCM(key))
        return cls(key_id(main), keys)

    @property
    def old_ids(self) -> list[str]:
        return [kid for kid in self.keys if kid != self.current_id]

    def seal(self, label: str, plain: str) -> str:
        header = f"{SEALED}{self.current_id}:"
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[self.current_id].encrypt(nonce, plain.encode(), (header + label).encode())
        return header + _b64(nonce + sealed)

    def open(self, label: str, stored: str) -> str:
        kid, _, body = stored[len(SEALED):].partition(":")
        aead = self.keys.get(kid)
        if aead is None:
            raise DataKeyError(f"{label}: sealed with key {kid}, which neither DATA_KEY nor DATA_KEY_OLD holds")
        data = _unb64(body)
        try:
            return aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], f"{SEALED}{kid}:{label}".encode()).decode()
        except InvalidTag:
            raise DataKeyError(f"{label}: a value under key {kid} does not open (altered, or moved)") from None


def seal_text(keyring: Keyring | None, label: str, value: str) -> str:
    if keyring is not None:
        return keyring.seal(label, value)
    return PLAIN + value if value.startswith(PREFIX) else value


def open_text(keyring: Keyring | None, label: str, stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    if stored.startswith(PLAIN):
        return stored[len(PLAIN):]
    if stored.startswith(SEALED):
        if keyring is None:
            raise DataKeyError(f"{label}: the value is encrypted and DATA_KEY is not set")
        return keyring.open(label, stored)
    return stored  # "enc:" followed by anything else: a plain value from before this format existed
