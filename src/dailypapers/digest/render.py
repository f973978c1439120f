"""A digest as an email: plain text and simple inline-styled HTML from templates/email, the list
headers of RFC 2369/2919/8058 and a Message-ID fixed by (subscriber, period).

Jinja is allowed here (STYLE.md); nothing else below the web layer imports it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from dailypapers.digest import links
from dailypapers.digest.policy import DigestPolicy
from dailypapers.digest.select import Item
from dailypapers.domain import Paper, Subscriber
from dailypapers.mail import OutgoingMail

_ENV_TEXT = jinja2.Environment(
    loader=jinja2.PackageLoader("dailypapers.digest", "templates/email"),
    autoescape=False,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_ENV_HTML = jinja2.Environment(
    loader=jinja2.PackageLoader("dailypapers.digest", "templates/email"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True, slots=True)
class RenderedItem:
    arxiv_id: str
    title: str
    authors: str
    url: str
    reason: str
    up: str
    down: str
    mute: str
    topic: str | None


def message_id(secret: str, policy: DigestPolicy, subscriber_id: int, period: str) -> str:
    """The same (subscriber, period) always gets the same Message-ID, so a resend is a dup."""
    tag = hmac.new(secret.encode(), f"{subscriber_id}|{period}".encode(), hashlib.sha256)
    safe_period = period.replace(":", ".")
    return f"<digest.{safe_period}.{subscriber_id}.{tag.hexdigest()[:12]}@{policy.mail_domain}>"


# Per-subscriber values in an item fragment: the fragment is rendered once per paper with these
# markers in their place, split on NUL, and filled in per subscriber.
_SLOTS = ("index", "reason", "up", "down", "mute")


def _marker(slot: str) -> str:
    return f"\x00{slot}\x00"


def _clean(text: str) -> str:
    return " ".join(text.replace("\x00", " ").split())


class DigestRenderer:
    """Renders one period's digests. What is the same for every subscriber (the period's words,
    each paper's item in HTML and text, the templates) is rendered once per run; per subscriber
    only the signed links, the reasons and the numbering are filled in, then the outer page."""

    def __init__(self, secret: str, policy: DigestPolicy, period: str) -> None:
        self.secret, self.policy, self.period = secret, policy, period
        self.signer = links.LinkSigner(secret)
        self.label = period.split(":", 1)[-1]
        self.kind = "week" if period.startswith("weekly") else "day"
        self.from_address = parseaddr(policy.mail_from)[1] or f"noreply@{policy.domain}"
        self._text = _ENV_TEXT.get_template("digest.txt")
        self._html = _ENV_HTML.get_template("digest.html")
        self._item_text = _ENV_TEXT.get_template("digest_item.txt")
        self._item_html = _ENV_HTML.get_template("digest_item.html")
        # paper id -> (text parts, HTML parts): static text at even positions, slots at odd
        self._fragments: dict[str, tuple[list[str], list[str]]] = {}

    def _fragment(self, paper: Paper) -> tuple[list[str], list[str]]:
        known = self._fragments.get(paper.arxiv_id)
        if known is None:
            names = ", ".join(paper.authors[:4]) + (" et al." if len(paper.authors) > 4 else "")
            item = RenderedItem(
                arxiv_id=paper.arxiv_id,
                title=_clean(paper.title),
                authors=_clean(names),
                url=f"{self.policy.base_url}/papers/{quote(paper.arxiv_id, safe='/.')}",
                reason=_marker("reason"),
                up=_marker("up"),
                down=_marker("down"),
                mute=_marker("mute"),
                topic=_clean(paper.primary_category) if paper.primary_category else None,
            )
            index = _marker("index")
            known = (
                self._item_text.render(item=item, index=index).split("\x00"),
                self._item_html.render(item=item, index=index).split("\x00"),
            )
            self._fragments[paper.arxiv_id] = known
        return known

    def _items(self, subscriber: Subscriber, items: Sequence[Item]) -> tuple[str, list[Markup]]:
        """The items as one text block and a list of HTML fragments."""
        text: list[str] = []
        html: list[Markup] = []
        for number, item in enumerate(items, start=1):
            p = item.paper
            # One token per item; the kind is a plain parameter (any kind is the subscriber's).
            token = self.signer.long_lived(links.FEEDBACK, subscriber, a=p.arxiv_id)
            feedback = links.url(self.policy.base_url, "/digest/feedback", token)
            values = {
                "index": str(number),
                "reason": item.reason,
                "up": f"{feedback}&kind=up",
                "down": f"{feedback}&kind=down",
                "mute": f"{feedback}&kind=mute",
            }
            text_parts, html_parts = self._fragment(p)
            text.extend(values[part] if n % 2 else part for n, part in enumerate(text_parts))
            html.append(
                Markup(
                    "".join(
                        str(escape(values[part])) if n % 2 else part
                        for n, part in enumerate(html_parts)
                    )
                )
            )
        return "".join(text), html

    def render(self, subscriber: Subscriber, items: Sequence[Item]) -> OutgoingMail:
        """The digest mail; with no items, the short quiet-period note."""
        secret, policy, period = self.secret, self.policy, self.period
        base = policy.base_url
        sign = self.signer.long_lived
        unsubscribe_token = sign(links.UNSUBSCRIBE, subscriber)
        unsubscribe_url = links.url(base, "/digest/unsubscribe", unsubscribe_token)
        manage_url = links.url(base, "/digest/manage", sign(links.MANAGE, subscriber))
        view_url = links.url(base, "/digest/view", sign(links.VIEW, subscriber, p=period))
        text_items, html_items = self._items(subscriber, items)
        context = {
            "site_name": policy.site_name,
            "period": self.label,
            "kind": self.kind,
            "unsubscribe_url": unsubscribe_url,
            "manage_url": manage_url,
            "view_url": view_url,
            "base_url": base,
        }
        subject = (
            f"{policy.site_name}: {len(items)} papers for {self.label}"
            if items
            else f"{policy.site_name}: a quiet {self.kind} ({self.label})"
        )
        # The mailto carries the same signed token as the link, never a guessable id: whoever
        # processes that mailbox unsubscribes by posting the token to /digest/unsubscribe.
        mailto = f"mailto:{self.from_address}?subject=unsubscribe%20{quote(unsubscribe_token)}"
        headers: tuple[tuple[str, str], ...] = (
            ("Message-ID", message_id(secret, policy, subscriber.id, period)),
            ("List-Id", policy.list_id),
            ("List-Unsubscribe", f"<{unsubscribe_url}>, <{mailto}>"),
        )
        if policy.one_click:
            headers += (("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),)
        headers += (("Auto-Submitted", "auto-generated"),)
        return OutgoingMail(
            to=subscriber.email,
            subject=subject,
            text=self._text.render(context, items=[text_items] if items else []),
            html=self._html.render(context, items=html_items),
            headers=headers,
        )


def render_digest(
    secret: str,
    policy: DigestPolicy,
    subscriber: Subscriber,
    period: str,
    items: Sequence[Item],
) -> OutgoingMail:
    """One digest mail (the preview and the browser view; `digest send` keeps a renderer)."""
    return DigestRenderer(secret, policy, period).render(subscriber, items)


def render_page_html(
    secret: str, policy: DigestPolicy, subscriber: Subscriber, period: str, items: Sequence[Item]
) -> str:
    """The HTML part alone: the browser view and the admin preview."""
    html = render_digest(secret, policy, subscriber, period, items).html
    assert html is not None
    return html


def render_confirm(policy: DigestPolicy, to: str, frequency: str, link: str) -> OutgoingMail:
    """The double opt-in mail: one link, which opens a page with a Confirm button."""
    text = _ENV_TEXT.get_template("confirm.txt").render(
        frequency=frequency, site_name=policy.site_name, hours=policy.confirm_hours, link=link
    )
    return OutgoingMail(to=to, subject=f"Confirm your {policy.site_name} digest", text=text)
