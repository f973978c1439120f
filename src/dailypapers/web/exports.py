"""Papers as text for other tools: BibTeX in arXiv's @misc form, and a paper as markdown.

Pure functions of domain values (stdlib only); the web serves them, the digest may reuse them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from dailypapers.domain import Paper

_KEY_WORD = re.compile(r"[a-z0-9]+")
_SKIP_TITLE_WORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with"})
_NEW_STYLE_YEAR = re.compile(r"^(\d{2})\d{2}\.")
# What a markdown renderer would turn from text into markup: the start of an HTML tag, comment
# or autolink (`<` then a letter, `/`, `!` or `?`), a character reference (`&amp;`, `&#60;`) and
# the `[` of an inline link or image. A backslash makes each one literal (CommonMark §2.4) and
# leaves the rest of the text as written, `a < b` and `A & B` included.
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)|\[(?=[^\]]*\]\()")


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


def paper_year(paper: Paper) -> int | None:
    if paper.published_at is not None:
        return paper.published_at.year
    match = _NEW_STYLE_YEAR.match(paper.arxiv_id)
    if match:
        return 2000 + int(match[1])
    if paper.featured is not None:
        return paper.featured.featured_on.year
    return None


def bibtex_key(paper: Paper) -> str:
    """arXiv-style key: first author's surname, year, first significant title word."""
    surname = _ascii_words(paper.authors[0].split()[-1]) if paper.authors else ["anon"]
    title_words = [w for w in _ascii_words(paper.title) if w not in _SKIP_TITLE_WORDS]
    year = paper_year(paper)
    key = "".join(surname[:1]) + (str(year) if year else "") + "".join(title_words[:1])
    return key or "arxiv" + _ascii_words(paper.arxiv_id)[0]


def render_bibtex(paper: Paper) -> str:
    fields = [
        ("title", _braced(paper.title)),
        ("author", _braced(" and ".join(paper.authors))),
        ("year", str(paper_year(paper) or "")),
        ("eprint", paper.arxiv_id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", paper.primary_category or ""),
        ("doi", paper.doi or ""),
        ("url", abs_url(paper.arxiv_id)),
    ]
    body = ",\n".join(f"      {name}={{{value}}}" for name, value in fields if value)
    return f"@misc{{{bibtex_key(paper)},\n{body}\n}}\n"


def render_bibtex_list(papers: Iterable[Paper]) -> str:
    """Entries for a list; a key used twice gets a, b, ... appended, as BibTeX needs."""
    seen: dict[str, int] = {}
    entries = []
    for paper in papers:
        entry = render_bibtex(paper)
        key = bibtex_key(paper)
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            entry = entry.replace(f"@misc{{{key},", f"@misc{{{key}{_suffix(count)},", 1)
        entries.append(entry)
    return "\n".join(entries)


def render_markdown(paper: Paper, *, page_url: str) -> str:
    """The paper as markdown: title, authors, links, dates and the abstract.

    The paper's own text stays text: markup in a title, author or abstract is escaped so that
    a renderer shows it rather than running it.
    """
    lines = [f"# {_inert(paper.title)}", ""]
    if paper.authors:
        lines += [f"**Authors:** {_inert(', '.join(paper.authors))}", ""]
    facts = [f"- arXiv: [{paper.arxiv_id}]({abs_url(paper.arxiv_id)})"]
    facts.append(f"- PDF: {pdf_url(paper.arxiv_id)}")
    if paper.published_at is not None:
        facts.append(f"- Published: {paper.published_at.date().isoformat()}")
    if paper.featured is not None:
        facts.append(f"- Featured: {paper.featured.featured_on.isoformat()}")
    facts.append(f"- Upvotes: {paper.upvotes}")
    if paper.primary_category:
        facts.append(f"- Category: {paper.primary_category}")
    if paper.code_url:
        facts.append(f"- Code: {paper.code_url}")
    if paper.project_url:
        facts.append(f"- Project page: {paper.project_url}")
    if paper.is_withdrawn:
        facts.append("- Withdrawn by its authors")
    facts.append(f"- Page: {page_url}")
    lines += [*facts, "", "## Abstract", "", _inert(paper.abstract), ""]
    return "\n".join(lines)


def _inert(text: str) -> str:
    return _MARKUP.sub(lambda match: "\\" + match[0], text)


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _KEY_WORD.findall(folded)


def _braced(text: str) -> str:
    """BibTeX breaks on unbalanced braces: keep balanced text, drop braces otherwise."""
    depth = 0
    for ch in text:
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth < 0:
            break
    return text if depth == 0 else text.replace("{", "").replace("}", "")


def _suffix(count: int) -> str:
    letters = ""
    while count:
        count, rest = divmod(count - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters
