"""Password hashes (PBKDF2-HMAC-SHA256, salted): for the admin login and the local staff accounts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 600_000  # OWASP recommendation for PBKDF2-HMAC-SHA256


def hash_password(password: str, iterations: int = HASH_ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"{HASH_SCHEME}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt, digest = encoded.split("$")
        if scheme != HASH_SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _dummy_hash(iterations: int) -> str:
    return hash_password(secrets.token_urlsafe(16), iterations=iterations)


def verify_nothing(password: str, iterations: int = HASH_ITERATIONS) -> bool:
    """Costs as much as a real check: for unknown account names, so that names cannot be probed."""
    verify_password(password, _dummy_hash(iterations))
    return False
