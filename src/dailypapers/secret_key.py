"""The secret key: written once by `init` into the data directory; placeholders are refused."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dailypapers.errors import ConfigurationError

MIN_SECRET_CHARS = 32
_PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "secret", "secret-key", "secretkey", "dev", "development", "insecure"}
)


def write_secret_key(path: Path) -> bool:
    """Create `path` with a random key, readable by the owner only; False if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return True


def resolve_secret_key(
    explicit: str | None, key_file: Path | None, default_file: Path, *, allow_weak: bool
) -> str:
    """The key from settings, else the named file, else the data directory's file; checked."""
    if explicit:
        key = explicit
    else:
        path = key_file or default_file
        if not path.is_file():
            raise ConfigurationError(
                f"no secret key: {path} is missing. Run `dailypapers init`, "
                "or set DAILYPAPERS_SECRET_KEY."
            )
        key = path.read_text(encoding="utf-8").strip()
    if not allow_weak:
        if key.casefold() in _PLACEHOLDERS or "change" in key.casefold():
            raise ConfigurationError("the secret key is a placeholder; set a random one")
        if len(key) < MIN_SECRET_CHARS:
            raise ConfigurationError(
                f"the secret key is too short ({len(key)} < {MIN_SECRET_CHARS} characters)"
            )
    return key
