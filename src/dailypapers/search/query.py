"""The one search `Query` and its lenient parser: what every surface (page, API, feeds, saved
searches, digests) turns user input into. Pure: no I/O, no search engine.

Malformed syntax never errors; it degrades to plain words. Only over-limit input raises
`InvalidRequest` (a 400), as do filter parameters that cannot be read (a bad date).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from dailypapers.errors import InvalidRequest

Field = Literal["ti", "au", "abs", "cat", "id"]
Sort = Literal["relevance", "date", "upvotes"]
# keyword: every word required (BM25); semantic: nearest vectors; hybrid: both, fused.
Mode = Literal["keyword", "semantic", "hybrid"]

FIELDS: tuple[Field, ...] = get_args(Field)
SORTS: tuple[Sort, ...] = get_args(Sort)
MODES: tuple[Mode, ...] = get_args(Mode)
DEFAULT_MODE: Mode = "hybrid"
# Limits a request may not exceed: beyond them the answer is a clear 400, not a slow search.
MAX_QUERY_CHARS = 2_000
MAX_LIMIT = 120
DEFAULT_LIMIT = 20
# Deep pages cost a top-(offset + limit) collection each; nobody reads result 10,001.
MAX_OFFSET = 10_000
# Clauses past this many are dropped: each one is a sub-query over several fields.
MAX_CLAUSES = 64
MAX_CATEGORIES = 20

_FIELD_PREFIX = re.compile(r"(ti|au|abs|cat|id):", re.IGNORECASE)
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class Clause:
    """One searched thing: a word or a "quoted phrase", in one field or all, wanted or excluded."""

    text: str
    field: Field | None = None
    phrase: bool = False
    excluded: bool = False

    def render(self) -> str:
        body = f'"{self.text}"' if self.phrase else self.text
        return f"{'-' if self.excluded else ''}{f'{self.field}:' if self.field else ''}{body}"


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search. Filters narrow the candidates before ranking; `page` counts from 1."""

    text: str = ""
    clauses: tuple[Clause, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    categories: tuple[str, ...] = ()
    min_upvotes: int | None = None
    sort: Sort = "relevance"
    page: int = 1
    limit: int = DEFAULT_LIMIT
    mode: Mode = DEFAULT_MODE
    # True when the text had something in it that parsed to nothing searchable ("*", "!!").
    blank_text: bool = field(default=False, compare=False)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @property
    def wanted(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.excluded)

    @property
    def excluded(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.excluded)

    @property
    def semantic_text(self) -> str:
        """What the query's vector is computed from: the text without fields or exclusions
        (the whole text when it has none, so a pasted abstract is embedded whole)."""
        if all(c.field is None and not c.excluded for c in self.clauses):
            return self.text
        return " ".join(c.text for c in self.wanted if c.field is None)

    @property
    def constraints(self) -> tuple[Clause, ...]:
        """Clauses a semantic hit must also satisfy: fielded words and exclusions."""
        return tuple(c for c in self.clauses if c.excluded or c.field is not None)

    @property
    def is_browse(self) -> bool:
        """No wanted words: every paper that passes the filters matches (newest first)."""
        return not self.wanted

    def to_params(self) -> dict[str, str]:
        """The query as URL parameters, defaults left out; `query_from_params` reads them back."""
        params: dict[str, str] = {}
        if self.text:
            params["q"] = self.text
        if self.date_from:
            params["from"] = self.date_from.isoformat()
        if self.date_to:
            params["to"] = self.date_to.isoformat()
        if self.categories:
            params["cat"] = ",".join(self.categories)
        if self.min_upvotes:
            params["min_upvotes"] = str(self.min_upvotes)
        if self.sort != "relevance":
            params["sort"] = self.sort
        if self.page != 1:
            params["page"] = str(self.page)
        if self.limit != DEFAULT_LIMIT:
            params["limit"] = str(self.limit)
        if self.mode != DEFAULT_MODE:
            params["mode"] = self.mode
        return params


def parse_query(
    text: str = "",
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    categories: tuple[str, ...] | list[str] = (),
    min_upvotes: int | None = None,
    sort: str = "relevance",
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
    mode: str = DEFAULT_MODE,
) -> Query:
    """Parse typed search text plus filters. Raises InvalidRequest only for over-limit input."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidRequest(
            f"the query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if page < 1 or (page - 1) * limit > MAX_OFFSET:
        raise InvalidRequest(f"page must be between 1 and {MAX_OFFSET // limit + 1}, not {page}")
    if sort not in SORTS:
        raise InvalidRequest(f"sort must be one of {', '.join(SORTS)}, not {sort[:40]!r}")
    if mode not in MODES:
        raise InvalidRequest(f"mode must be one of {', '.join(MODES)}, not {mode[:40]!r}")
    if min_upvotes is not None and min_upvotes < 0:
        raise InvalidRequest("min_upvotes must be zero or more")
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    cleaned = clean_text(text)
    clauses = tuple(_clauses(cleaned))[:MAX_CLAUSES]
    return Query(
        text=cleaned,
        clauses=clauses,
        date_from=date_from,
        date_to=date_to,
        categories=_categories(categories),
        min_upvotes=min_upvotes or None,
        sort=sort,
        page=page,
        limit=limit,
        mode=mode,  # checked against MODES above
        blank_text=bool(cleaned) and not clauses,
    )


def query_from_params(params: Mapping[str, str]) -> Query:
    """Parse URL parameters (q, from, to, cat, min_upvotes, sort, page, limit, mode) into a
    Query."""
    text = params.get("q", "")
    if len(text) > MAX_QUERY_CHARS:  # before any other work on a hostile 100 KB value
        raise InvalidRequest(
            f"the query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}"
        )
    cat = params.get("cat", "")
    return parse_query(
        text,
        date_from=_date_param(params, "from"),
        date_to=_date_param(params, "to"),
        categories=[c for c in re.split(r"[,\s]+", cat[:1_000]) if c],
        min_upvotes=_int_param(params, "min_upvotes", None),
        sort=params.get("sort") or "relevance",
        page=_int_param(params, "page", 1) or 0,
        limit=_int_param(params, "limit", DEFAULT_LIMIT) or 0,
        mode=params.get("mode") or DEFAULT_MODE,
    )


def clean_text(text: str) -> str:
    """Control characters, unpaired surrogates and line breaks become spaces; runs collapse."""
    if text.isascii() and text.isprintable():
        return " ".join(text.split())
    kept = (" " if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text)
    return " ".join("".join(kept).split())


def _clauses(text: str) -> Iterator[Clause]:
    position, negate_next = 0, False
    while position < len(text):
        if text[position] == " ":
            position += 1
            continue
        clause, position = _read_clause(text, position)
        if clause is None:
            continue
        if clause.field is None and not clause.phrase and not clause.excluded:
            if clause.text == "AND" or clause.text == "OR":
                continue  # every word is required already; OR is not an operator here
            if clause.text == "NOT":
                negate_next = True
                continue
        if negate_next:
            clause = Clause(clause.text, clause.field, clause.phrase, excluded=True)
            negate_next = False
        yield clause


def _read_clause(text: str, start: int) -> tuple[Clause | None, int]:
    """Read one clause at `start`; return it (None when nothing usable) and where it ended."""
    position = start
    excluded = False
    if text[position] in "-+" and position + 1 < len(text) and text[position + 1] != " ":
        excluded = text[position] == "-"
        position += 1
    field: Field | None = None
    prefix = _FIELD_PREFIX.match(text, position)
    if prefix and prefix.end() < len(text) and text[prefix.end()] != " ":
        field = prefix.group(1).lower()  # type: ignore[assignment]  # the regex allows FIELDS only
        position = prefix.end()
    if text[position] == '"':
        closing = text.find('"', position + 1)
        if closing != -1:
            phrase = " ".join(text[position + 1 : closing].split())
            clause = Clause(phrase, field, phrase=True, excluded=excluded) if phrase else None
            return clause, closing + 1
        position += 1  # an unbalanced quote: the rest reads as plain words
        if field is not None or excluded:
            return None, position
    end = text.find(" ", position)
    end = len(text) if end == -1 else end
    word = text[position:end].replace('"', " ").strip()
    if prefix and field is None:
        word = word.rstrip(":")  # `ti:` alone degrades to the plain word "ti"
    if not word:
        return None, end
    return Clause(word, field, phrase=False, excluded=excluded), end


def _categories(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        cleaned = clean_text(value).strip()
        if cleaned and len(cleaned) <= 64:
            seen.setdefault(cleaned, None)
    if len(seen) > MAX_CATEGORIES:
        raise InvalidRequest(f"at most {MAX_CATEGORIES} categories can be filtered on at once")
    return tuple(seen)


def _date_param(params: Mapping[str, str], name: str) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}", value):
            return date(int(value), 1, 1) if name == "from" else date(int(value), 12, 31)
        if re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = int(value[:4]), int(value[5:])
            if name == "from":
                return date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date like 2024-05-27, not {value[:40]!r}") from None


def _int_param(params: Mapping[str, str], name: str, default: int | None) -> int | None:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not re.fullmatch(r"\d{1,9}", value):
        raise InvalidRequest(f"{name} must be a whole number, not {value[:40]!r}")
    return int(value)
