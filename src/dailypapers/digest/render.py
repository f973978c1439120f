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

from dailypapers.digest import links
from dailypapers.digest.policy import DigestPolicy
from dailypapers.digest.select import Item
from dailypapers.domain import Subscriber
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
    return f"<digest.{safe_period}.{subscriber_id}.{tag.hexdigest()[:12]}@{policy.domain}>"


def _items(
    secret: str, policy: DigestPolicy, subscriber: Subscriber, items: Sequence[Item]
) -> list[RenderedItem]:
    out = []
    for item in items:
        p = item.paper

        # One token per item; the kind is a plain parameter (any kind is the subscriber's to pick).
        token = links.long_lived(secret, links.FEEDBACK, subscriber, a=p.arxiv_id)
        feedback = links.url(policy.base_url, "/digest/feedback", token)
        names = ", ".join(p.authors[:4]) + (" et al." if len(p.authors) > 4 else "")
        out.append(
            RenderedItem(
                arxiv_id=p.arxiv_id,
                title=" ".join(p.title.split()),
                authors=names,
                url=f"{policy.base_url}/papers/{quote(p.arxiv_id, safe='/.')}",
                reason=item.reason,
                up=f"{feedback}&kind=up",
                down=f"{feedback}&kind=down",
                mute=f"{feedback}&kind=mute",
                topic=p.primary_category,
            )
        )
    return out


def render_digest(
    secret: str,
    policy: DigestPolicy,
    subscriber: Subscriber,
    period: str,
    items: Sequence[Item],
) -> OutgoingMail:
    """The digest mail; with no items, the short quiet-period note."""
    unsubscribe = links.long_lived(secret, links.UNSUBSCRIBE, subscriber)
    unsubscribe_url = links.url(policy.base_url, "/digest/unsubscribe", unsubscribe)
    manage_url = links.url(
        policy.base_url, "/digest/manage", links.long_lived(secret, links.MANAGE, subscriber)
    )
    view_url = links.url(
        policy.base_url,
        "/digest/view",
        links.long_lived(secret, links.VIEW, subscriber, p=period),
    )
    label = period.split(":", 1)[-1]
    kind = "week" if period.startswith("weekly") else "day"
    context = {
        "site_name": policy.site_name,
        "period": label,
        "kind": kind,
        "items": _items(secret, policy, subscriber, items),
        "unsubscribe_url": unsubscribe_url,
        "manage_url": manage_url,
        "view_url": view_url,
        "base_url": policy.base_url,
    }
    subject = (
        f"{policy.site_name}: {len(items)} papers for {label}"
        if items
        else f"{policy.site_name}: a quiet {kind} ({label})"
    )
    from_address = parseaddr(policy.mail_from)[1] or f"noreply@{policy.domain}"
    mailto = f"mailto:{from_address}?subject=unsubscribe%20{subscriber.id}"
    headers = (
        ("Message-ID", message_id(secret, policy, subscriber.id, period)),
        ("List-Id", policy.list_id),
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <{mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Auto-Submitted", "auto-generated"),
    )
    return OutgoingMail(
        to=subscriber.email,
        subject=subject,
        text=_ENV_TEXT.get_template("digest.txt").render(context),
        html=_ENV_HTML.get_template("digest.html").render(context),
        headers=headers,
    )


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
