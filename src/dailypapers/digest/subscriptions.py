"""Subscribing with double opt-in, and what the signed links in a digest do.

Reading a link (what a mail scanner fetches) never changes anything: each `read_*` only checks
the token and returns the subscription; the matching action runs on the page's POST, or on the
RFC 8058 one-click POST, which needs no cookie because the signed token is the proof.
Long-lived links carry the subscriber's token version; rotating it revokes them all.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from dailypapers import tokens
from dailypapers.community import rate_limits
from dailypapers.community import saved_searches as saved
from dailypapers.community.validation import normalise_email
from dailypapers.digest import links
from dailypapers.digest.policy import DigestPolicy
from dailypapers.digest.render import render_confirm
from dailypapers.domain import DigestPreferences, Subscriber
from dailypapers.errors import InvalidRequest, SourceUnavailable
from dailypapers.mail import Mailer
from dailypapers.store import Database
from dailypapers.store import subscribers as store
from dailypapers.store.featured_lists import list_papers_by_ids
from dailypapers.tokens import InvalidToken

log = logging.getLogger(__name__)
FREQUENCIES = ("daily", "weekly")


def _frequency(raw: str) -> str:
    if raw not in FREQUENCIES:
        raise InvalidRequest("choose a daily or a weekly digest")
    return raw


def subscribe(
    db: Database,
    mailer: Mailer,
    policy: DigestPolicy,
    secret: str,
    *,
    email: str,
    frequency: str,
    ip: str,
    now: datetime,
    user_id: int | None = None,
) -> str:
    """Mail an opt-in link (nothing else is sent before it is followed); the address.

    An address already confirmed gets no mail at all, and the page says the same thing either
    way, so the form neither spams an inbox nor tells who subscribes.
    """
    address = normalise_email(email)
    chosen = _frequency(frequency)
    with db.write() as conn:
        subscriber = store.add_pending(conn, address, chosen, user_id=user_id, now=now)
        rate_limits.take(
            conn,
            f"subscribe-email:{tokens.digest(address)}",
            limit=policy.subscribe_per_hour_per_address,
            window=rate_limits.HOUR,
            now=now,
            what="confirmation mails for this address",
        )
        # Last: every subscription from one network updates this one counter row, and the row
        # stays locked until commit. Taken first, it was held across the whole transaction and
        # 4 PostgreSQL workers queued on it for seconds (#9). A refusal still rolls back all.
        rate_limits.take(
            conn,
            f"subscribe-ip:{ip}",
            limit=policy.subscribe_per_hour_per_ip,
            window=rate_limits.HOUR,
            now=now,
            what="subscriptions from your network",
        )
    if subscriber.status in ("confirmed", "bouncing"):
        log.info("subscribe: %s is already subscribed; no mail sent", subscriber.id)
        return address
    send_opt_in(mailer, policy, secret, subscriber, now=now)
    return address


def send_opt_in(
    mailer: Mailer, policy: DigestPolicy, secret: str, subscriber: Subscriber, *, now: datetime
) -> None:
    """Mail the opt-in link to the subscriber's (new) address."""
    token = links.confirm_token(
        secret, subscriber, expires_at=now + timedelta(hours=policy.confirm_hours)
    )
    link = links.url(policy.base_url, "/digest/confirm", token)
    try:
        mailer.send(render_confirm(policy, subscriber.email, subscriber.frequency, link))
    except SourceUnavailable as exc:
        log.warning("the opt-in mail to subscriber %s failed: %s", subscriber.id, exc)
        raise SourceUnavailable("we could not send the confirmation mail; try again later") from exc


def read_confirm_link(db: Database, secret: str, token: str, *, now: datetime) -> Subscriber:
    claims = tokens.read_token(secret, links.CONFIRM, token, now=now)
    sid, email = claims.data.get("s"), claims.data.get("e")
    if not links.is_row_id(sid):
        raise InvalidToken("this link is not meant for this")
    with db.read() as conn:
        subscriber = store.get_subscriber(conn, sid)
    if subscriber.email != email:
        raise InvalidToken("this link was for another address")
    return subscriber


def confirm(db: Database, secret: str, token: str, *, ip: str, now: datetime) -> Subscriber:
    """Confirm the subscription, recording consent time and IP (idempotent)."""
    subscriber = read_confirm_link(db, secret, token, now=now)
    if subscriber.status == "unsubscribed":
        # The opt-in link lives 7 days; replayed after an unsubscribe it must not undo it.
        raise InvalidToken("you unsubscribed after this link was sent; subscribe again instead")
    if subscriber.status != "confirmed":
        with db.write() as conn:
            store.confirm(conn, subscriber.id, ip=ip, now=now)
            subscriber = store.get_subscriber(conn, subscriber.id)
    return subscriber


def read_link(db: Database, secret: str, purpose: str, token: str, *, now: datetime) -> Subscriber:
    """The subscriber of a long-lived link; InvalidToken once their token version moved on."""
    sid, version = links.read_subscriber_id(secret, purpose, token, now=now)
    with db.read() as conn:
        subscriber = store.get_subscriber(conn, sid)
    if subscriber.token_version != version:
        raise InvalidToken("this link has been replaced by a newer one")
    return subscriber


def unsubscribe(db: Database, secret: str, token: str, *, now: datetime) -> Subscriber:
    subscriber = read_link(db, secret, links.UNSUBSCRIBE, token, now=now)
    with db.write() as conn:
        store.unsubscribe(conn, subscriber.id, now=now)
        return store.get_subscriber(conn, subscriber.id)


def _words(raw: str, limit: int = 20) -> tuple[str, ...]:
    parts = [p.strip() for p in raw.replace("\n", ",").split(",")]
    words = tuple(dict.fromkeys(p[:100] for p in parts if p))
    if len(words) > limit:
        raise InvalidRequest(f"at most {limit} entries per field")
    return words


def update_preferences(
    db: Database, secret: str, token: str, form: dict[str, str], *, now: datetime
) -> Subscriber:
    """Apply the manage page's form: frequency, filters, and optionally a new address."""
    subscriber = read_link(db, secret, links.MANAGE, token, now=now)
    prefs = DigestPreferences(
        keywords=_words(form.get("keywords", "")),
        exclude=_words(form.get("exclude", "")),
        categories=_words(form.get("categories", "")),
        authors=_words(form.get("authors", "")),
        more_like_upvotes=form.get("more_like_upvotes") in ("on", "1", "true"),
        muted_topics=_words(form.get("muted_topics", "")),
    )
    with db.write() as conn:
        store.update_settings(
            conn, subscriber.id, frequency=_frequency(form.get("frequency", "")), prefs=prefs
        )
        new_email = form.get("email", "").strip()
        if new_email and normalise_email(new_email) != subscriber.email:
            if store.find_subscriber(conn, normalise_email(new_email)) is not None:
                raise InvalidRequest("that address already has a subscription")
            # A new address is pending until it confirms, like any other: no digest goes to
            # an address that did not opt in, and the old links stop working.
            store.change_email(conn, subscriber.id, normalise_email(new_email))
            store.rotate_token_version(conn, subscriber.id)
            store.mark_pending(conn, subscriber.id)
        updated = store.get_subscriber(conn, subscriber.id)
    if "saved_searches" in form:
        saved.replace_all(db, form["saved_searches"], subscriber_id=subscriber.id, now=now)
    return updated


def read_feedback(
    db: Database, secret: str, token: str, kind: str, *, now: datetime
) -> tuple[Subscriber, str, str]:
    """(subscriber, arxiv id, kind) of a 👍 / 👎 / mute link (the token names the paper)."""
    subscriber = read_link(db, secret, links.FEEDBACK, token, now=now)
    arxiv_id = str(tokens.read_token(secret, links.FEEDBACK, token, now=now).data.get("a", ""))
    if not arxiv_id:
        raise InvalidToken("this link is not meant for this")
    if kind not in links.FEEDBACK_KINDS:
        raise InvalidRequest("the feedback is up, down or mute")
    return subscriber, arxiv_id, kind


def give_feedback(
    db: Database, secret: str, token: str, kind: str, *, topic: str | None, now: datetime
) -> tuple[Subscriber, str, str]:
    """Record 👍 / 👎, or mute the paper's topic (its primary category) for future digests."""
    subscriber, arxiv_id, kind = read_feedback(db, secret, token, kind, now=now)
    with db.write() as conn:
        store.add_feedback(conn, subscriber.id, arxiv_id, kind, topic, now)
        if kind == "mute" and topic and topic not in subscriber.preferences.muted_topics:
            prefs = subscriber.preferences
            muted = DigestPreferences(
                keywords=prefs.keywords,
                exclude=prefs.exclude,
                categories=prefs.categories,
                authors=prefs.authors,
                more_like_upvotes=prefs.more_like_upvotes,
                muted_topics=(*prefs.muted_topics, topic),
            )
            store.update_settings(conn, subscriber.id, frequency=subscriber.frequency, prefs=muted)
    return subscriber, arxiv_id, kind


def topic_of(db: Database, arxiv_id: str) -> str | None:
    """The topic a "mute" link mutes: the paper's primary category."""
    with db.read() as conn:
        papers = list_papers_by_ids(conn, [arxiv_id])
    return papers[0].primary_category if papers else None
