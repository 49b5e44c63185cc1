"""Personal data: the ID-card number's check digit (GB 11643-1999), its encryption at rest, and masking.

- ``check_id_number``: 18 characters, 17 digits and a check character computed with ISO 7064 MOD 11-2 over the
  weights 2^(17-i) mod 11 (GB 11643-1999 §8), a real calendar birth date; a trailing ``x`` becomes ``X``.
- ``IdVault``: Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``) with a list of keys, the first encrypting
  and all decrypting (key rotation); a keyed HMAC-SHA256 of the number finds duplicate applications without
  decrypting anything.
- ``mask_name`` / ``mask_id_number`` / ``mask_phone``: the public forms (张*, 1408**********123X, 138****1234).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from datetime import date

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger("weizhili.relief")

_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dXx]$")
_PHONE = re.compile(r"^\+?[\d\- ]{5,20}$")


def check_id_number(value: str) -> str:
    """The normalised 18-character number, or ``ValueError`` with a sentence saying what is wrong."""
    if not isinstance(value, str) or not _SHAPE.match(value):
        raise ValueError("Must be 18 characters: 17 digits and a check digit (0-9 or X).")
    value = value.upper()
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValueError("The birth date in the number (digits 7-14) is not a real date.") from exc
    expected = _CHECK[sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS)) % 11]
    if value[17] != expected:
        raise ValueError("The check digit does not match (GB 11643).")
    return value


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits (used by tests and tools)."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def valid_phone(value: str) -> bool:
    return bool(_PHONE.match(value))


def mask_name(name: str) -> str:
    """张三 → 张*, 黎桂强 → 黎**: the surname stays, every other character is a star."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def mask_id_number(number: str) -> str:
    """140821198101088295 → 1408**********8295: the first four and last four characters stay."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str | None) -> str | None:
    """15817269286 → 158****9286."""
    if not phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


def _dev_key(label: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"weizhili-relief-dev-{label}".encode()).digest()).decode()


#: Development defaults only (like the local JWT secret); deployments set RELIEF_ID_FERNET_KEYS / RELIEF_ID_HMAC_KEY.
DEV_FERNET_KEY = _dev_key("fernet")
DEV_HMAC_KEY = _dev_key("hmac")


class IdVault:
    """Encrypts ID-card numbers and computes their keyed digest. ``fernet_keys``: newest first."""

    def __init__(self, fernet_keys: list[str], hmac_key: str):
        if not fernet_keys or not hmac_key:
            raise ValueError("IdVault needs at least one Fernet key and an HMAC key")
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in fernet_keys])
        self._hmac_key = hmac_key.encode()

    @classmethod
    def from_settings(cls, extra: dict, environ: dict) -> "IdVault":
        """Keys from ``settings.extra`` or the environment (``RELIEF_ID_FERNET_KEYS``: comma-separated Fernet
        keys, newest first; ``RELIEF_ID_HMAC_KEY``); the development defaults otherwise, with a warning."""
        keys = extra.get("relief_id_fernet_keys") or environ.get("RELIEF_ID_FERNET_KEYS")
        hmac_key = extra.get("relief_id_hmac_key") or environ.get("RELIEF_ID_HMAC_KEY")
        if not keys or not hmac_key:
            log.warning("RELIEF_ID_FERNET_KEYS / RELIEF_ID_HMAC_KEY not set: using development keys; "
                        "set them in any deployment that holds real ID-card numbers")
        keys, hmac_key = keys or DEV_FERNET_KEY, hmac_key or DEV_HMAC_KEY
        return cls([k.strip() for k in keys.split(",") if k.strip()], hmac_key)

    def encrypt(self, number: str) -> str:
        return self._fernet.encrypt(number.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # a key was removed from the ring too early
            raise RuntimeError("an ID-card number cannot be decrypted with the configured keys") from exc

    def digest(self, number: str) -> str:
        return hmac.new(self._hmac_key, number.encode(), hashlib.sha256).hexdigest()
