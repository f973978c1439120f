"""The hostile-input corpus: payloads every form, query parameter, input file and upstream parser
is fed. Each entry is plain data; the tests decide what a clean answer to it is.
"""

from __future__ import annotations

# Markup that runs script if it ever reaches a page, a feed or an email unescaped.
XSS = (
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(2)>",
    "</textarea><script>alert(3)</script>",
    "javascript:alert(4)",
    '<a href="javascript:alert(5)">click</a>',
    "{{7*7}}{% raw %}${7*7}",
    "]]><script>alert(6)</script><![CDATA[",
)
# The raw markers that must never appear unescaped in HTML.
XSS_MARKERS = ("<script>alert", "<img src=x onerror", "<svg/onload", '<a href="javascript:')

# SQL and the full-text query syntax (tantivy's and ours).
SQL_AND_FTS = (
    "' OR '1'='1",
    "'; DROP TABLE papers; --",
    '" OR 1=1 --',
    "1; SELECT pg_sleep(5)",
    "title:(",
    'AND OR NOT "',
    '"unterminated phrase',
    "*:* ~~~ ^^^ [a TO",
    "-",
    "author:\\",
    "%_%",
    "\\x00",
)

# Control characters, broken encodings and sizes.
NUL = "a\x00b"
CONTROL = "bell\x07 esc\x1b[31m del\x7f vt\x0b ff\x0c"
BIDI = "\u202eevil\u202c \ufeff zero\u200bwidth"
LONE_SURROGATE_UTF8 = b"\xed\xa0\x80"  # a surrogate encoded as UTF-8: invalid
INVALID_UTF8 = b"d\xe9j\xe0 \xff\xfe \xc3\x28"
MEGABYTE = "A" * (1024 * 1024)
TEXT_VALUES = (*XSS, *SQL_AND_FTS, NUL, CONTROL, BIDI, "", " ", "0", "-1", "9" * 40, "☃" * 3000)

# Malformed and deeply nested JSON.
# Deep enough to exhaust a recursive parser, small enough to pass a 128 KiB body limit.
DEEP_JSON = "[" * 50_000 + "]" * 50_000
DEEP_OBJECT = '{"a":' * 20_000 + "1" + "}" * 20_000
BAD_JSON = ("{", '{"a": }', "[1, 2", "nul", '{"a": 1}{"b": 2}', "\ufeff{}", "NaN", '"\\ud800"')

# Return targets that leave the site if a redirect trusts them.
OPEN_REDIRECTS = (
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example/",
    "http:/\\evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "///evil.example",
    " //evil.example",
    "\x00//evil.example",
)

# Mail header injection through addresses and names.
CRLF_ADDRESSES = (
    "victim@example.org\r\nBcc: everyone@example.org",
    "victim@example.org\nBcc: everyone@example.org",
    "victim@example.org\rSubject: injected",
    "victim@example.org%0d%0aBcc:everyone@example.org",
    '"Name\r\nBcc: x@example.org" <victim@example.org>',
    "victim@example.org, second@example.org",
    "<victim@example.org>",
    "victim@example.org\x00",
)
CRLF_NAMES = (
    "Mallory\r\nBcc: everyone@example.org",
    "Mallory\nSubject: injected",
    "=?utf-8?b?QmNjOiBldmls?=",
)

# Paths a file-taking option must not be steered out of or through.
PATH_TRAVERSAL = ("../../../../etc/passwd", "/etc/passwd", "/dev/zero", "/proc/self/environ")

# Tokens: structurally broken ones (forged and expired ones are minted by the tests).
BROKEN_TOKENS = (
    "",
    ".",
    "a.b",
    "a.b.c",
    "x" * 5000,
    "eyJ9.AAAA",
    "%00",
    "\x00.\x00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
)


def unescaped(html: str) -> list[str]:
    """The XSS markers present in `html` as live markup."""
    return [marker for marker in XSS_MARKERS if marker in html]
