"""`digest send`: plan the period's ledger rows, claim them in leased batches, select, render,
send over one reused connection, and mark each row as the SMTP server answers.

The duplicate window: a message the server accepted but whose row was not yet marked sent (the
process died in between) is sent again by the next run, with the same Message-ID and the same
content, so receiving systems can drop it. Nothing else is ever sent twice; nothing is lost.
A temporary failure (4xx) releases the row until a backoff passes, and fails it after
`max_attempts`; a permanent one (5xx) marks the delivery bounced and counts a bounce against the
address. No reply at all (a refused, dropped or timed-out connection) means the server is away:
the batch stops, its unsent rows wait as retries without spending an attempt, and the run ends
once it has waited `max_wait_seconds` in all, so an outage of any length loses nothing and the
next run sends what is left.

A little past the ~400-line guide: the Sender's steps (plan, claim, select, send, mark) read best
together; period keys live in periods.py and the ledger's SQL in store/deliveries.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypedDict

from dailypapers import catalog
from dailypapers.digest import personal
from dailypapers.digest.periods import period_end, period_key
from dailypapers.digest.policy import DigestPolicy
from dailypapers.digest.render import DigestRenderer
from dailypapers.digest.select import Candidate, select_items
from dailypapers.domain import DigestDelivery, Subscriber
from dailypapers.errors import InvalidRequest, SourceUnavailable
from dailypapers.mail import Mailer, OutgoingMail, smtp_reply_code
from dailypapers.search import SearchIndex, search_papers
from dailypapers.search.query import MAX_LIMIT, parse_query
from dailypapers.store import Database
from dailypapers.store import deliveries as ledger
from dailypapers.store import subscribers as store_subscribers

log = logging.getLogger(__name__)
# Trending papers a run ranks for every subscriber (computed once per run).
TRENDING_CANDIDATES = 100


@dataclass
class SendReport:
    period: str
    planned: int = 0
    sent: int = 0
    quiet: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> None:
        """Count one finished delivery: sent, quiet, retry, bounced, failed or skipped."""
        name = {"retry": "retried"}.get(status, status)
        setattr(self, name, getattr(self, name) + 1)
        self.outcomes[status] = self.outcomes.get(status, 0) + 1


def candidates_for(
    db: Database, policy: DigestPolicy, frequency: str, day: date, now: datetime
) -> list[Candidate]:
    """The period's trending papers, best first (computed once per run)."""
    as_of = min(now, period_end(frequency, day))
    window = 2 if frequency == "daily" else policy.trending_window_days
    ranked = catalog.trending(
        db,
        now=as_of,
        half_life_hours=policy.trending_half_life_hours,
        window_days=window,
        page_size=TRENDING_CANDIDATES,
    )
    return [Candidate(p, s) for p, s in zip(ranked.papers, ranked.scores, strict=True)]


@dataclass(frozen=True, slots=True)
class _InFlight:
    delivery: DigestDelivery
    subscriber: Subscriber
    answer: Callable[[], str]


class SenderHooks(TypedDict, total=False):
    """What a caller may swap in a Sender: the clock, the sleep, the outcome hook."""

    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    on_outcome: Callable[[str, str], None] | None


class Sender:
    """One worker's run over one period; several may run at once on PostgreSQL."""

    def __init__(
        self,
        db: Database,
        mailer: Mailer,
        policy: DigestPolicy,
        secret: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        on_outcome: Callable[[str, str], None] | None = None,
        index: SearchIndex | None = None,
        model_id: str | None = None,
    ) -> None:
        """`on_outcome(period, status)` is called once per finished delivery (after its ledger
        row is committed): the hook for metrics such as sent/failed counters."""
        self.db, self.mailer, self.policy, self.secret = db, mailer, policy, secret
        self.clock, self.sleep, self.on_outcome = clock, sleep, on_outcome
        self.index, self.model_id = index, model_id
        # Consecutive "server away" outcomes in this run: the backoff doubles with each.
        self._away = 0

    def run(self, frequency: str, day: date) -> SendReport:
        started = time.monotonic()
        period = period_key(frequency, day)
        report = SendReport(period)
        with self.db.write() as conn:
            report.planned = ledger.plan_period(conn, period, frequency)
        candidates = candidates_for(self.db, self.policy, frequency, day, self.clock())
        source = signal_source(self.db, candidates, self.index, self.model_id)
        renderer = DigestRenderer(self.secret, self.policy, period)
        waited = 0.0  # seconds slept for retries: bounded by max_wait_seconds in all
        while True:
            now = self.clock()
            lease_until = now + timedelta(seconds=self.policy.lease_seconds)
            with self.db.write() as conn:
                batch = ledger.claim_batch(
                    conn, period, limit=self.policy.batch_size, now=now, lease_until=lease_until
                )
            if batch:
                self._send_batch(batch, candidates, source, renderer, report)
                continue
            slept = self._wait_for_more(period, now, self.policy.max_wait_seconds - waited)
            if slept is None:
                break
            waited += slept
        report.seconds = time.monotonic() - started
        return report

    def _wait_for_more(self, period: str, now: datetime, budget: float) -> float | None:
        """Sleep until a retry or another worker's claim may be ready and return the seconds
        slept; None when nothing waits or the wake-up lies past `budget` seconds."""
        with self.db.read() as conn:
            waits = [ledger.next_retry_at(conn, period), ledger.leased_until(conn, period)]
        due = [w for w in waits if w is not None]
        if not due:
            return None
        wake = min(due)
        if (wake - now).total_seconds() > budget:
            log.info("digest %s: rows wait past %s; the next run takes them", period, wake)
            return None
        seconds = min(1.0, max(0.05, (wake - now).total_seconds()))
        self.sleep(seconds)
        return seconds

    def _send_batch(
        self,
        batch: list[DigestDelivery],
        candidates: list[Candidate],
        source: personal.SignalSource,
        renderer: DigestRenderer,
        report: SendReport,
    ) -> None:
        """Plan the batch in one read and one write transaction, then send message by message,
        marking each row as the server answers (one short write per message: the duplicate
        window stays one message wide)."""
        ids = [d.subscriber_id for d in batch]
        by_id = {c.paper.arxiv_id: c.paper for c in candidates}
        with self.db.read() as conn:
            subscribers = store_subscribers.subscribers_by_ids(conn, ids)
            unplanned = [
                subscribers[d.subscriber_id]
                for d in batch
                if d.paper_ids is None and d.subscriber_id in subscribers
            ]
            sent = ledger.sent_paper_ids(conn, [s.id for s in unplanned])
            signals = source.signals_for(conn, unplanned, sent)
            # A resent (already planned) delivery may name papers no longer among the candidates.
            replanned = [a for d in batch for a, _ in d.paper_ids or () if a not in by_id]
            known = personal.papers_by_ids(conn, replanned, by_id)
        plans: dict[int, list[tuple[str, str]]] = {}
        for delivery in batch:
            subscriber = subscribers.get(delivery.subscriber_id)
            if delivery.paper_ids is None and subscriber is not None:
                items = select_items(
                    candidates,
                    subscriber.preferences,
                    signals[subscriber.id],
                    top_n=self.policy.top_n,
                )
                plans[delivery.id] = [(i.paper.arxiv_id, i.reason) for i in items]
        now = self.clock()
        if plans:
            with self.db.write() as conn:
                ledger.record_plans(
                    conn, [(d, plans[d.id]) for d in batch if d.id in plans], now=now
                )
        lease_renewed = now
        # The message sent but not yet answered: its answer is read, and its row marked, only
        # after the next message is rendered (the server works while we render) and always
        # before the next message is sent, so at most one message is ever unrecorded.
        in_flight: _InFlight | None = None
        unsent: list[DigestDelivery] = []  # rows left untried because the server is away
        try:
            for position, delivery in enumerate(batch):
                subscriber = subscribers.get(delivery.subscriber_id)
                paper_ids = plans.get(delivery.id, list(delivery.paper_ids or ()))
                now = self.clock()
                if (now - lease_renewed).total_seconds() > self.policy.lease_seconds / 2:
                    lease_renewed = self._renew(batch, now)
                if subscriber is None or subscriber.status != "confirmed":
                    self._finish(delivery, "skipped", report, error="no longer subscribed")
                    continue
                if not paper_ids and self.policy.quiet_mode != "note":
                    self._finish(delivery, "quiet", report)
                    continue
                mail = renderer.render(subscriber, personal.rebuild(paper_ids, known))
                if in_flight is not None:
                    settled, in_flight = in_flight, None
                    if not self._settle(settled, report):
                        unsent = batch[position:]
                        break
                in_flight, answered = self._submit(delivery, subscriber, mail, report)
                if not answered:
                    unsent = batch[position + 1 :]
                    break
        finally:
            if in_flight is not None:
                self._settle(in_flight, report)
        if unsent:
            self._defer(unsent, "not tried: the SMTP server is away", tried=None)

    def _renew(self, batch: list[DigestDelivery], now: datetime) -> datetime:
        with self.db.write() as conn:
            ledger.renew_lease(
                conn,
                [d.id for d in batch],
                lease_until=now + timedelta(seconds=self.policy.lease_seconds),
            )
        return now

    def _submit(
        self,
        delivery: DigestDelivery,
        subscriber: Subscriber,
        mail: OutgoingMail,
        report: SendReport,
    ) -> tuple[_InFlight | None, bool]:
        """Send `mail`; (its answer to wait for, or None, and False when the server is away)."""
        try:
            answer = self.mailer.submit(mail)
        except (SourceUnavailable, InvalidRequest) as exc:
            return None, self._refused(delivery, subscriber, exc, report)
        return _InFlight(delivery, subscriber, answer), True

    def _settle(self, in_flight: _InFlight, report: SendReport) -> bool:
        """Wait for the server's answer to the message in flight and mark its row; False when
        no answer came (the server is away)."""
        try:
            message_id = in_flight.answer()
        except (SourceUnavailable, InvalidRequest) as exc:
            return self._refused(in_flight.delivery, in_flight.subscriber, exc, report)
        self._away = 0
        self._finish(in_flight.delivery, "sent", report, message_id=message_id)
        return True

    def _refused(
        self,
        delivery: DigestDelivery,
        subscriber: Subscriber,
        exc: SourceUnavailable | InvalidRequest,
        report: SendReport,
    ) -> bool:
        """5xx: a bounce; a message we cannot build: failed; no reply at all: the server is
        away (returns False); any other answer: retry later. True when the server answered."""
        code = smtp_reply_code(exc)
        if code is not None and code >= 500:
            self._bounce(delivery, subscriber, report, f"{code}: {exc}")
        elif isinstance(exc, InvalidRequest) and code is None:
            self._finish(delivery, "failed", report, error=str(exc))
        elif code is None:
            self._defer([delivery], str(exc), tried=delivery)
            report.count("retry")
            if self.on_outcome is not None:
                self.on_outcome(delivery.period, "retry")
            return False
        else:
            self._retry(delivery, report, str(exc))
        return True

    def _defer(
        self, rows: list[DigestDelivery], error: str, *, tried: DigestDelivery | None
    ) -> None:
        """The server is away: `rows` wait as retries, backing off with each outage in a row,
        without spending attempts (the addresses are not at fault)."""
        if tried is not None:
            self._away += 1
        exponent = min(max(self._away - 1, 0), self.policy.max_attempts - 1)
        now = self.clock()
        due = now + timedelta(seconds=self.policy.retry_base_seconds * (2**exponent))
        with self.db.write() as conn:
            ledger.defer(
                conn,
                [d.id for d in rows],
                now=now,
                next_attempt_at=due,
                error=error,
                tried=tried.id if tried is not None else None,
            )
        if tried is not None:
            log.warning(
                "digest %s: the SMTP server is away (%s); retry at %s", tried.period, error, due
            )

    def _retry(self, delivery: DigestDelivery, report: SendReport, error: str) -> None:
        if delivery.attempts + 1 >= self.policy.max_attempts:
            self._finish(delivery, "failed", report, error=error)
            return
        backoff = self.policy.retry_base_seconds * (2**delivery.attempts)
        due = self.clock() + timedelta(seconds=backoff)
        self._finish(delivery, "retry", report, error=error, next_attempt_at=due)

    def _bounce(
        self, delivery: DigestDelivery, subscriber: Subscriber, report: SendReport, error: str
    ) -> None:
        with self.db.write() as conn:
            store_subscribers.record_bounce(
                conn, subscriber.id, threshold=self.policy.bounce_threshold
            )
            ledger.forget_plan(conn, delivery)
        self._finish(delivery, "bounced", report, error=error)

    def _finish(
        self,
        delivery: DigestDelivery,
        status: str,
        report: SendReport,
        *,
        message_id: str | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Commit the row's outcome (sent, quiet, retry, bounced, failed, skipped), then count
        it: every delivery's outcome passes here exactly once per attempt."""
        with self.db.write() as conn:
            ledger.finish(
                conn,
                delivery.id,
                status,
                now=self.clock(),
                message_id=message_id,
                error=error,
                next_attempt_at=next_attempt_at,
            )
        # The one place outcomes are counted (the report, and metrics through on_outcome).
        report.count(status)
        if self.on_outcome is not None:
            self.on_outcome(delivery.period, status)
        if status != "sent":
            log.info(
                "digest %s to #%s: %s %s",
                delivery.period,
                delivery.subscriber_id,
                status,
                error or "",
            )


def signal_source(
    db: Database, candidates: list[Candidate], index: SearchIndex | None, model_id: str | None
) -> personal.SignalSource:
    def search(text: str) -> frozenset[str]:
        assert index is not None
        query = parse_query(text, limit=MAX_LIMIT, mode="keyword")
        return frozenset(hit.paper.arxiv_id for hit in search_papers(db, index, query).hits)

    return personal.SignalSource(
        candidates, search=search if index is not None else None, model_id=model_id
    )


def next_digest(
    db: Database,
    policy: DigestPolicy,
    secret: str,
    subscriber: Subscriber,
    day: date,
    now: datetime,
    *,
    index: SearchIndex | None = None,
    model_id: str | None = None,
) -> tuple[str, list[personal.Item]]:
    """(period, items) of the subscriber's digest for `day`, as sent or as it would be; changes
    nothing (the preview and the browser view)."""
    period = period_key(subscriber.frequency, day)
    candidates = candidates_for(db, policy, subscriber.frequency, day, now)
    with db.read() as conn:
        delivery = ledger.delivery_for(conn, subscriber.id, period)
        if delivery is not None and delivery.paper_ids is not None:
            known = {c.paper.arxiv_id: c.paper for c in candidates}
            return period, personal.items_for(conn, delivery.paper_ids, known)
        sent = ledger.sent_paper_ids(conn, [subscriber.id])
        source = signal_source(db, candidates, index, model_id)
        signals = source.signals_for(conn, [subscriber], sent)
    items = select_items(
        candidates, subscriber.preferences, signals[subscriber.id], top_n=policy.top_n
    )
    return period, items


def get_subscriber(db: Database, email: str) -> Subscriber:
    """The subscription of `email`; raises InvalidRequest when there is none."""
    with db.read() as conn:
        subscriber = store_subscribers.find_subscriber(conn, email.strip().lower())
    if subscriber is None:
        raise InvalidRequest(f"no subscription for {email}")
    return subscriber
