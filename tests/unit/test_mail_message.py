"""The hand-written MIME bytes of mail.message_bytes, read back with the stdlib `email` parser:
encoded words, folding, the Date, both parts' content, and refused header injection."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

import pytest

from dailypapers.errors import InvalidRequest
from dailypapers.mail import FOLD_COLUMNS, MAX_LINE_OCTETS, OutgoingMail, message_bytes

LONG_URL = "https://papers.example.org/digest/unsubscribe?token=" + "x" * 180
NOW = datetime(2026, 11, 4, 7, 30, 5, tzinfo=UTC)


def _parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _mail(**kw: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "to": "reader@example.org",
        "subject": "Für dich — 10 papers for 2026-W45, with a subject longer than one line",
        "text": "1. “Title”\n   Why: keyword\n.a line starting with a dot\ntrailing space \n",
        "html": "<p>👍 More like this</p>\n<p>short lines</p>\n",
        "headers": (
            ("Message-ID", "<digest.weekly.2026-W45.7.abc@papers.example.org>"),
            ("List-Unsubscribe", f"<{LONG_URL}>, <mailto:noreply@papers.example.org?subject=u>"),
        ),
    }
    fields.update(kw)
    return OutgoingMail(**fields)  # type: ignore[arg-type]


def test_headers_are_ascii_folded_and_decode_to_the_original_values() -> None:
    rendered = message_bytes(_mail(), "Papiers élus <noreply@papers.example.org>", now=NOW)
    head, _, _ = rendered.data.partition(b"\r\n\r\n")
    head.decode("ascii")  # every header byte is ASCII
    for line in head.split(b"\r\n"):
        # a line passes the soft limit only when one unbreakable word (the URL) is that long
        assert len(line) <= FOLD_COLUMNS or max(map(len, line.split())) > FOLD_COLUMNS // 2
        assert len(line) <= MAX_LINE_OCTETS
    assert b"=?utf-8?" in head  # the subject and the display name are encoded words
    message = _parse(rendered.data)
    assert message["Subject"] == _mail().subject
    assert message["From"] == "Papiers élus <noreply@papers.example.org>"
    assert message["To"] == "reader@example.org"
    assert message["List-Unsubscribe"] == (
        f"<{LONG_URL}>, <mailto:noreply@papers.example.org?subject=u>"
    )
    assert message["Date"].datetime == NOW
    assert message["Message-ID"] == rendered.message_id == _mail().headers[0][1]
    assert message.defects == [] and all(part.defects == [] for part in message.walk())


def test_both_parts_read_back_exactly_and_the_bytes_use_crlf_only() -> None:
    rendered = message_bytes(_mail(), "noreply@papers.example.org", now=NOW)
    assert b"\n" not in rendered.data.replace(b"\r\n", b"")
    assert max(len(line) for line in rendered.data.split(b"\r\n")) <= MAX_LINE_OCTETS
    message = _parse(rendered.data)
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert str(text.get_content()).replace("\r\n", "\n") == _mail().text
    # non-ASCII HTML goes out as character references (7bit), which a browser shows the same
    assert html["Content-Transfer-Encoding"] == "7bit"
    assert str(html.get_content()) == "<p>&#128077; More like this</p>\r\n<p>short lines</p>\r\n"


def test_html_with_a_line_too_long_for_smtp_goes_quoted_printable() -> None:
    html = "<p>👍 " + "long " * 300 + "</p>\n"
    rendered = message_bytes(_mail(html=html), "noreply@papers.example.org", now=NOW)
    body = rendered.data.partition(b"\r\n\r\n")[2]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    part = _parse(rendered.data).get_body(preferencelist=("html",))
    assert part is not None and part["Content-Transfer-Encoding"] == "quoted-printable"
    assert str(part.get_content()).replace("\r\n", "\n") == html


def test_the_same_mail_renders_to_the_same_bytes_but_its_date() -> None:
    first = message_bytes(_mail(), "noreply@papers.example.org", now=NOW)
    again = message_bytes(_mail(), "noreply@papers.example.org", now=NOW)
    assert first.data == again.data


def test_a_plain_mail_gets_a_fresh_message_id_and_one_text_part() -> None:
    rendered = message_bytes(
        OutgoingMail("a@example.org", "Hi", "Open https://x.example/"), "Papers <n@example.org>"
    )
    message = _parse(rendered.data)
    assert message.get_content_type() == "text/plain"
    assert message["Message-ID"] == rendered.message_id and "@example.org>" in rendered.message_id
    assert "https://x.example/" in str(message.get_content())


@pytest.mark.parametrize(
    "mail",
    [
        OutgoingMail("a@example.org", "Hi\r\nBcc: everyone@example.org", "text"),
        OutgoingMail("a@example.org\nBcc: b@example.org", "Hi", "text"),
        OutgoingMail("a@example.org", "Hi", "text", headers=(("X-Evil", "a\nb: c"),)),
        OutgoingMail("not an address", "Hi", "text"),
        OutgoingMail("rüdiger@exämple.org", "Hi", "text"),
    ],
)
def test_line_breaks_in_headers_and_bad_addresses_are_refused(mail: OutgoingMail) -> None:
    with pytest.raises(InvalidRequest):
        message_bytes(mail, "noreply@example.org")
