"""Every page kind as a person sees it, at a desktop and a phone width: a full-page screenshot in
test-artifacts/browser/look-*, no serious or critical axe-core violation, and what a person reads:
the search box keeps the words typed, links stay on the served host, cards name their first
authors, nothing spills out of a card on a phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from tests.conftest import REPO, require
from tests.integration.community.support import (
    Community,
    community_settings,
    csrf_of,
    link_path,
    new_email,
    respond,
)
from tests.integration.replay_server import ReplayServer
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import (
    HOSTILE_ID,
    build_services,
    free_port,
    populate,
    sample_hf,
    serve,
)

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__test__/axe.min.js"  # answered by the test browser, never by the app
WIDTHS = {1280: 900, 390: 844}
BLOCKING = ("serious", "critical")
SAMPLE = sample_hf()
FIRST_DAY = min(record["daily_date"] for record in SAMPLE)
# The paper with the most authors: the longest byline a card and a paper page must hold.
CROWDED = max(SAMPLE, key=lambda record: len(record["authors"]))
AUTHOR = SAMPLE[0]["authors"][0]
TITLE_WORD = max(re.findall(r"[A-Za-z]{5,}", SAMPLE[0]["title"]), key=len).lower()
WORDS = "diffusion models"
FIELDED = f'ti:{TITLE_WORD} au:"{AUTHOR}"'
# Hosts the site links out to on purpose (paper sources, code, licences); anything else that is
# not the served host:port is a link that leaves the site by mistake.
OUTSIDE = {
    "arxiv.org",
    "export.arxiv.org",
    "github.com",
    "huggingface.co",
    "doi.org",
    "creativecommons.org",
    "example.org",
}
# Boxes a person reads as one card.
CARDS = "li.card, .panel, .similar-card"


@dataclass
class Site:
    url: str
    community: Community
    reader: list[dict[str, str]]
    admin: list[dict[str, str]]
    links: dict[str, str]
    comment_id: int

    def fresh_link(self, email: str, path: str, count: int = 1) -> str:
        mail = self.community.sink.wait_for(email, count=count)
        return next(link_path(u) for u in mail.links() if path in u)


def _cookies(client: httpx.Client, url: str) -> list[dict[str, str]]:
    return [{"name": c.name, "value": c.value or "", "url": url} for c in client.cookies.jar]


def _grant_admin(community: Community, email: str) -> None:
    url = community.db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main,
        ["admin", "grant", email],
        env={"DAILYPAPERS_DATABASE_URL": url, "DAILYPAPERS_LOG_LEVEL": "WARNING"},
    )
    assert result.exit_code == 0, result.output


def _subscribe(community: Community, email: str) -> str:
    """Subscribe `email` to the weekly digest; the confirmation link's path."""
    sent = community.client().post(
        "/digest/subscribe", data={"email": email, "frequency": "weekly"}
    )
    assert sent.status_code == 200, sent.text
    mail = community.sink.wait_for(email)
    return next(link_path(u) for u in mail.links() if "/digest/confirm" in u)


def _prepare(community: Community, url: str) -> Site:
    """Accounts, a comment, a saved search and the links the site mails, made as a person would."""
    sink = community.sink
    reader = community.sign_in(new_email("reader"))
    posted = reader.post(
        f"/papers/{SAMPLE[3]['arxiv_id']}/comments",
        data={"csrf": csrf_of(reader), "body": "A **clear** result, worth a read."},
    )
    assert posted.status_code == 303, posted.text
    comment_id = int(posted.headers["location"].rsplit("-", 1)[1])
    saved = reader.post("/saved-searches", data={"csrf": csrf_of(reader), "q": WORDS})
    assert saved.status_code == 200, saved.text
    changed = new_email("changed")
    moved = reader.post("/account/email", data={"csrf": csrf_of(reader), "email": changed})
    assert moved.status_code == 303, moved.text
    admin_email = new_email("admin")
    _grant_admin(community, admin_email)
    admin = community.sign_in(admin_email)

    links = {
        "signin-confirm": link_path(community.request_link(community.client(), new_email())),
        "email-confirm": next(
            link_path(u) for u in sink.wait_for(changed).links() if "/account/email/confirm" in u
        ),
        "digest-confirm": _subscribe(community, new_email("pending")),
    }
    subscriber = new_email("digest")
    confirm = _subscribe(community, subscriber)
    client = community.client()
    page = client.get(confirm)
    token = confirm.split("token=", 1)[1]
    done = client.post(
        "/digest/confirm", data={"token": token, "csrf": _csrf(page.text)}, follow_redirects=True
    )
    assert done.status_code == 200, done.text
    community.server.services.digest_sender().run("weekly", datetime.now(UTC).date())
    digest = sink.wait_for(subscriber, count=2)
    for kind, path in (
        ("digest-view", "/digest/view"),
        ("digest-manage", "/digest/manage"),
        ("digest-unsubscribe", "/digest/unsubscribe"),
        ("digest-feedback", "/digest/feedback"),
    ):
        links[kind] = next(link_path(u) for u in digest.links() if path in u)
    links["admin-digest-preview"] = f"/admin/digest/preview?email={quote(subscriber)}"
    return Site(url, community, _cookies(reader, url), _cookies(admin, url), links, comment_id)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    return found.group(1) if found else ""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("look")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with SmtpSink() as sink, ReplayServer(respond) as arxiv:
        services = build_services(
            tmp / "data",
            base_url=url,
            digest_subscribe_rate_limit_per_hour=100_000,
            digest_subscribe_rate_limit_per_hour_per_ip=100_000,
            **community_settings(sink, arxiv),
        )
        populate(services, tmp)
        with serve(services, port=port) as server:
            assert server.url == url
            community = Community(server, sink, arxiv)
            yield _prepare(community, url)
            community.close_clients()
        services.close()


def _go(path: str | Callable[[Site], str]) -> Callable[[Any, Site], None]:
    def go(page: Any, site: Site) -> None:
        page.goto(site.url + (path(site) if callable(path) else path))

    return go


def _search_for(words: str) -> Callable[[Any, Site], None]:
    def go(page: Any, site: Site) -> None:
        page.goto(site.url + "/")
        box = page.locator("header").get_by_role("searchbox", name="Search papers")
        box.fill(words)
        box.press("Enter")
        page.wait_for_url(re.compile(r"/search\?"))

    return go


def _period(name: str) -> Callable[[Any, Site], None]:
    def go(page: Any, site: Site) -> None:
        page.goto(f"{site.url}/papers/date/{FIRST_DAY}")
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()

    return go


def _signin_sent(page: Any, site: Site) -> None:
    page.goto(site.url + "/signin")
    page.locator("main").get_by_label("Email address", exact=True).fill(new_email("sent"))
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()


def _digest_subscribed(page: Any, site: Site) -> None:
    page.goto(site.url + "/")
    footer = page.locator("footer")
    footer.locator("input[type=email]").fill(new_email("footer"))
    footer.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()


def _digest_confirmed(page: Any, site: Site) -> None:
    page.goto(site.url + _subscribe(site.community, new_email("confirmed")))
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()


def _docs(page: Any, site: Site) -> None:
    page.goto(site.url + "/docs")
    page.locator(".opblock").first.wait_for(timeout=15_000)


def _docs_tried(page: Any, site: Site) -> None:
    """/docs as a developer uses it: two operations open, one tried, one run."""
    _docs(page, site)
    health = page.locator(".opblock", has_text="/healthz").first
    health.locator(".opblock-summary-control").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    health.locator(".live-responses-table .response-col_status", has_text="200").wait_for()
    daily = page.locator(".opblock", has_text="/api/daily_papers").first
    daily.locator(".opblock-summary-control").click()
    daily.get_by_role("button", name="Try it out").click()
    daily.locator(".parameters").wait_for()


@dataclass(frozen=True)
class Kind:
    go: Callable[[Any, Site], None]
    who: str = "anyone"  # or "reader" (signed in) or "admin"


# One entry per page a person can land on: every GET page in web/routes.py, and the pages a
# form's POST answers with (sign-in sent, subscribed, confirmed).
KINDS: dict[str, Kind] = {
    "home": Kind(_go("/")),
    "day": Kind(_go(f"/papers/date/{FIRST_DAY}")),
    "papers": Kind(_go("/papers")),
    "week": Kind(_period("Week")),
    "month": Kind(_period("Month")),
    "trending": Kind(_go("/trending")),
    "search": Kind(_search_for(WORDS)),
    "search-fielded": Kind(_search_for(FIELDED)),
    "search-nothing": Kind(_search_for("zzqxv nonexistentword")),
    "paper": Kind(_go(f"/papers/{CROWDED['arxiv_id']}")),
    "paper-hostile": Kind(_go(f"/papers/{HOSTILE_ID}")),
    "paper-signed-in": Kind(_go(f"/papers/{SAMPLE[3]['arxiv_id']}"), "reader"),
    "author": Kind(_go(f"/authors/{quote(AUTHOR)}")),
    "submit": Kind(_go("/submit"), "reader"),
    "signin": Kind(_go("/signin")),
    "signin-sent": Kind(_signin_sent),
    "signin-confirm": Kind(_go(lambda site: site.links["signin-confirm"])),
    "account": Kind(_go("/account"), "reader"),
    "email-confirm": Kind(_go(lambda site: site.links["email-confirm"])),
    "comment-edit": Kind(_go(lambda site: f"/comments/{site.comment_id}/edit"), "reader"),
    "saved-searches": Kind(_go("/saved-searches"), "reader"),
    "account-digest": Kind(_go("/account/digest"), "reader"),
    "digest-subscribed": Kind(_digest_subscribed),
    "digest-confirm": Kind(_go(lambda site: site.links["digest-confirm"])),
    "digest-confirmed": Kind(_digest_confirmed),
    "digest-view": Kind(_go(lambda site: site.links["digest-view"])),
    "digest-manage": Kind(_go(lambda site: site.links["digest-manage"])),
    "digest-unsubscribe": Kind(_go(lambda site: site.links["digest-unsubscribe"])),
    "digest-feedback": Kind(_go(lambda site: site.links["digest-feedback"])),
    "moderation": Kind(_go("/moderation"), "admin"),
    "admin-digest-preview": Kind(_go(lambda site: site.links["admin-digest-preview"]), "admin"),
    "status": Kind(_go("/status")),
    "not-found": Kind(_go("/papers/2101.99999")),
    "docs": Kind(_docs),
    "docs-tried": Kind(_docs_tried),
}


def _open(browser: Any, site: Site, kind: str, width: int) -> tuple[Any, Any]:
    context = browser.new_context(
        viewport={"width": width, "height": WIDTHS[width]}, is_mobile=width < 500
    )
    context.add_init_script(_RECORD_VIOLATIONS)
    # axe-core passes the CSP in the test browser only: the browser answers a same-origin URL
    # with node_modules' copy, so `script-src 'self'` lets it in while the page itself keeps
    # the real policy (bypass_csp would also let in the page's own inline styles and scripts,
    # and axe would judge a page no person sees).
    context.route(site.url + AXE_PATH, lambda route: route.fulfill(path=str(AXE)))
    wanted = KINDS[kind]
    if wanted.who != "anyone":
        context.add_cookies(site.reader if wanted.who == "reader" else site.admin)
    page = context.new_page()
    wanted.go(page, site)
    page.wait_for_load_state("load")
    return context, page


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        lines.append(
            f"{violation['id']} ({violation['impact']}, {len(nodes)} nodes): {violation['help']}"
        )
        for node in nodes[:4]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}  {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:200]}")
    return "\n".join(lines)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_page_has_no_serious_accessibility_violation(
    browser: Any, site: Site, artifacts: Path, kind: str, width: int
) -> None:
    require(AXE.exists(), f"axe-core is not installed at {AXE} (run `npm ci` or `make test`)")
    context, page = _open(browser, site, kind, width)
    try:
        page.screenshot(path=str(artifacts / f"look-{kind}-{width}.png"), full_page=True)
        page.add_script_tag(url=site.url + AXE_PATH)
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"{kind} at {width}px:\n{_describe(blocking)}"


# A feed's own links (RSS <link>, Atom link href), not the URLs quoted in abstracts.
_FEED_LINKS = re.compile(r"<link>([^<]+)</link>|<link [^>]*href=\"([^\"]+)\"")
# Every Content-Security-Policy violation the page sees: a blocked style or script is a page
# that renders unlike its screenshot in a browser without the policy.
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI}` +
    (event.sample ? `: ${event.sample}` : '') + ` (line ${event.lineNumber})`);
});
"""


@pytest.mark.parametrize("kind", list(KINDS))
def test_page_renders_under_its_content_security_policy(
    browser: Any, site: Site, kind: str
) -> None:
    context, page = _open(browser, site, kind, 1280)
    try:
        violations = page.evaluate("window.__violations")
    finally:
        context.close()
    assert not violations, f"{kind}: the policy blocks parts of the page:\n" + "\n".join(
        sorted(set(violations))[:15]
    )


_LINKS = """() => [
  ...[...document.querySelectorAll('a[href], link[href]')].map(e => e.href),
  ...[...document.querySelectorAll('form[action]')].map(e => e.action),
  ...[...document.querySelectorAll('img[src], script[src]')].map(e => e.src),
]"""


@pytest.mark.parametrize("kind", list(KINDS))
def test_links_use_the_served_host(browser: Any, site: Site, kind: str) -> None:
    served = urlsplit(site.url).netloc
    context, page = _open(browser, site, kind, 1280)
    try:
        links = page.evaluate(_LINKS)
        feeds = page.evaluate(
            "() => [...document.querySelectorAll('link[rel=alternate]')].map(e => e.href)"
        )
        bodies = {feed: page.request.get(feed).text() for feed in feeds[:2]}
    finally:
        context.close()
    astray = sorted(
        {
            url
            for url in links
            if urlsplit(url).scheme in ("http", "https")
            and urlsplit(url).netloc != served
            and urlsplit(url).hostname not in OUTSIDE
        }
    )
    for feed, body in bodies.items():
        for url in (a or b for a, b in _FEED_LINKS.findall(body)):
            if urlsplit(url).netloc != served and urlsplit(url).hostname not in OUTSIDE:
                astray.append(f"{url} (in the feed {feed})")
    assert not astray, f"{kind} links away from {served}:\n" + "\n".join(astray[:20])


# Pages whose cards list papers, and so must name each paper's first authors.
LISTS = ["home", "day", "week", "month", "trending", "search", "search-fielded", "author"]
_BYLINES = r"""() => [...document.querySelectorAll('li.card')].map(card => ({
  title: (card.querySelector('h2') || card).innerText.trim().slice(0, 80),
  text: card.innerText,
  meta: (card.querySelector('.meta') || card).innerText.replace(/\s+/g, ' ').slice(0, 160),
}))"""


@pytest.mark.parametrize("kind", LISTS)
def test_cards_show_the_first_author_names(browser: Any, site: Site, kind: str) -> None:
    authors = {record["title"][:40]: record["authors"] for record in SAMPLE}
    context, page = _open(browser, site, kind, 1280)
    try:
        cards = page.evaluate(_BYLINES)
    finally:
        context.close()
    assert cards, f"{kind} shows no cards"
    missing = []
    for card in cards:
        names = next((v for k, v in authors.items() if card["title"].startswith(k)), None)
        if not names:
            continue
        shown = [name for name in names[:2] if name in card["text"]]
        if len(shown) < min(2, len(names)) or re.search(r"\b\d+ authors\b", card["text"]):
            missing.append(
                f"{card['title']!r}: wants {names[:2]}, its byline reads {card['meta']!r}"
            )
    assert not missing, f"{kind}: cards without their first authors:\n" + "\n".join(missing[:10])


_SPILLS = """(selector) => {
  const found = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    found.push(`the page scrolls sideways: ${doc.scrollWidth}px, window ${window.innerWidth}px`);
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  for (const card of document.querySelectorAll(selector)) {
    const edge = card.getBoundingClientRect().right;
    for (const el of card.querySelectorAll('*')) {
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (box.width <= 1 || style.visibility === 'hidden' || style.position === 'absolute' &&
          style.clip !== 'auto') continue;
      const text = (el.innerText || '').trim().slice(0, 60);
      if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
        found.push(`${name(card)} > ${name(el)} is ${el.scrollWidth}px wide inside ` +
                   `${el.clientWidth}px: ${JSON.stringify(text)}`);
      } else if (box.right > edge + 1) {
        found.push(`${name(card)} > ${name(el)} ends ${Math.round(box.right - edge)}px past ` +
                   `the card: ${JSON.stringify(text)}`);
      }
    }
  }
  return found;
}"""


@pytest.mark.parametrize("kind", list(KINDS))
def test_nothing_spills_out_of_a_card_on_a_phone(browser: Any, site: Site, kind: str) -> None:
    context, page = _open(browser, site, kind, 390)
    try:
        spills = page.evaluate(_SPILLS, CARDS)
    finally:
        context.close()
    assert not spills, f"{kind} at 390px:\n" + "\n".join(spills[:15])


@pytest.mark.parametrize("kind", ["search", "search-fielded"])
def test_the_search_box_holds_the_words_typed(browser: Any, site: Site, kind: str) -> None:
    typed = WORDS if kind == "search" else FIELDED
    context, page = _open(browser, site, kind, 1280)
    try:
        boxes = page.get_by_role("searchbox", name="Search papers")
        values = [boxes.nth(i).input_value() for i in range(boxes.count())]
        results = page.locator("ol.cards > li").count()
    finally:
        context.close()
    assert values, "the results page has no search box"
    assert all(value == typed for value in values), f"typed {typed!r}, the box holds {values}"
    assert results > 0, f"{typed!r} found nothing"


_PHONE_FACTS = """() => {
  const first = document.querySelector('ol.cards > li');
  const button = document.querySelector('.site-footer .subscribe button');
  const line = button ? parseFloat(getComputedStyle(button).lineHeight) ||
    parseFloat(getComputedStyle(button).fontSize) * 1.3 : 0;
  return {
    firstCardTop: first ? first.getBoundingClientRect().top + window.scrollY : null,
    searchBoxes: document.querySelectorAll('input[type=search]').length,
    buttonLines: button ? Math.round((button.clientHeight - 2) / line * 10) / 10 : null,
    voteWidths: [...new Set([...document.querySelectorAll('li.card .votes')]
      .map(v => Math.round(v.getBoundingClientRect().width)))],
  };
}"""


@pytest.mark.parametrize("kind", ["search", "home", "trending"])
def test_a_phone_shows_results_first_with_even_vote_boxes(
    browser: Any, site: Site, kind: str
) -> None:
    """#16 points 5, 6 and 9 at 390×844: the first result starts on the first screen, one search
    box, the footer's Subscribe button on one line, and every vote box one width whatever its
    count (a wider box for "163" than for "7" shifted the titles)."""
    context, page = _open(browser, site, kind, 390)
    try:
        facts = page.evaluate(_PHONE_FACTS)
    finally:
        context.close()
    assert facts["firstCardTop"] is not None, f"{kind} shows no results"
    assert facts["firstCardTop"] < WIDTHS[390] - 120, facts
    assert facts["searchBoxes"] == 1, facts
    assert facts["buttonLines"] is not None and facts["buttonLines"] < 1.9, facts
    assert len(facts["voteWidths"]) == 1, facts
