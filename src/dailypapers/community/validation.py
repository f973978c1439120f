"""Checks on what people type: addresses, names, URLs and comment bodies. Refuses CR/LF and
control characters everywhere, so nothing typed can become a mail header or break a page.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from dailypapers.errors import InvalidRequest

MAX_EMAIL_CHARS = 254
MAX_DISPLAY_NAME_CHARS = 80
MAX_URL_CHARS = 500
MAX_COMMENT_CHARS = 10_000
MAX_REPORT_REASON_CHARS = 500
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,38}$")


def _has_control(text: str, *, allow_newlines: bool = False) -> bool:
    for ch in text:
        if allow_newlines and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\u200d":
            return True
    return False


def normalise_email(raw: str) -> str:
    """The address, trimmed and lower-cased; raises InvalidRequest for anything unusual."""
    if "\r" in raw or "\n" in raw:
        raise InvalidRequest("an email address cannot contain line breaks")
    address = raw.strip()
    if not address or len(address) > MAX_EMAIL_CHARS or not _EMAIL.match(address):
        raise InvalidRequest("please enter a valid email address, like ada@example.org")
    return address.lower()


def check_username(raw: str) -> str:
    name = raw.strip()
    if not _USERNAME.match(name):
        raise InvalidRequest(
            "a username has 2 to 39 letters, digits, '-' or '_', and starts with a letter or digit"
        )
    return name


def check_display_name(raw: str) -> str | None:
    if "\r" in raw or "\n" in raw or _has_control(raw):
        raise InvalidRequest("a display name cannot contain line breaks or control characters")
    name = " ".join(raw.split())
    if len(name) > MAX_DISPLAY_NAME_CHARS:
        raise InvalidRequest(f"a display name has at most {MAX_DISPLAY_NAME_CHARS} characters")
    return name or None


def check_link(raw: str, what: str) -> str | None:
    """An http(s) URL, or None for an empty field."""
    url = raw.strip()
    if not url:
        return None
    if len(url) > MAX_URL_CHARS or _has_control(url) or any(ch.isspace() for ch in url):
        raise InvalidRequest(f"the {what} must be a single http(s) URL of at most 500 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest(f"the {what} must start with https:// or http://")
    return url


def check_comment(raw: str) -> str:
    body = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise InvalidRequest("a comment cannot be empty")
    if len(body) > MAX_COMMENT_CHARS:
        raise InvalidRequest(f"a comment has at most {MAX_COMMENT_CHARS:,} characters")
    if _has_control(body, allow_newlines=True):
        raise InvalidRequest("a comment cannot contain control characters")
    return body


def check_reason(raw: str) -> str | None:
    reason = " ".join(raw.split())
    if len(reason) > MAX_REPORT_REASON_CHARS:
        raise InvalidRequest(f"a reason has at most {MAX_REPORT_REASON_CHARS} characters")
    return reason or None
