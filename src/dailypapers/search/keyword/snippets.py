"""Snippet marking: which words of a title or abstract are indexed as one of the query's terms."""

from __future__ import annotations

import functools
import re

from dailypapers.search.keyword.schema import ABSTRACT_SNIPPET_CHARS, ANALYZERS
from dailypapers.search.results import Snippet

# The rest of a word as tantivy's simple tokenizer sees it: a run of letters and digits.
_WORD_REST = re.compile(r"[^\W_]*")


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str | None:
    """The term `word` is indexed as in title and abstract (None: too long to be indexed)."""
    tokens = ANALYZERS["dp_text"].analyze(word)
    return tokens[0] if tokens else None


class Marker:
    """Finds the words of a text that are indexed as one of `terms` (term -> weight)."""

    def __init__(self, terms: dict[str, float]) -> None:
        self.terms = terms
        # A stem differs from its word in the last two letters at most (happy -> happi,
        # probability -> probabl, using -> use): words starting with the rest are candidates,
        # found with str.find (re's alternations scan each abstract at a tenth of the speed).
        self.prefixes = sorted({t[: max(2, len(t) - 2)] for t in terms})

    def matches(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, weight) of each word of `text` indexed as one of the terms, in order."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a letter that lowercases to two: offsets would shift
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        found: dict[int, tuple[int, int, float]] = {}
        for prefix in self.prefixes:
            start = lowered.find(prefix)
            while start >= 0:
                if start not in found and (start == 0 or not lowered[start - 1].isalnum()):
                    end = _WORD_REST.match(lowered, start + len(prefix)).end()  # type: ignore[union-attr]
                    stem = _stem(text[start:end])
                    if stem is not None and (weight := self.terms.get(stem)) is not None:
                        found[start] = (start, end, weight)
                start = lowered.find(prefix, start + 1)
        return [found[start] for start in sorted(found)]

    def title(self, text: str) -> Snippet:
        """The whole text, its matching words marked."""
        return Snippet(text, tuple((start, end) for start, end, _ in self.matches(text)))

    def fragment(self, text: str, max_chars: int) -> Snippet:
        """The piece of `text` (at most `max_chars`, cut between words) holding the most weight
        of matching words, them marked; the text's lead where nothing matches. The lead wins
        ties, then the earliest piece."""
        found = self.matches(text)
        if not found:
            return Snippet(lead(text))
        best_start, best_weight = 0, sum(w for _, end, w in found if end <= max_chars)
        for start, _, _ in found:
            weight = sum(w for s, end, w in found if s >= start and end <= start + max_chars)
            if weight > best_weight + 1e-12:
                best_start, best_weight = start, weight
        if best_start > 0 and len(text) - best_start <= max_chars:
            # A piece that reaches the end: start it where a whole window would.
            best_start = min(best_start, _word_start(text, len(text) - max_chars))
        end = len(text)
        if end - best_start > max_chars:
            cut = text.rfind(" ", best_start, best_start + max_chars)
            end = cut if cut > best_start else best_start + max_chars
        head = "… " if best_start > 0 else ""
        tail = " …" if end < len(text) else ""
        spans = tuple(
            (s - best_start + len(head), e - best_start + len(head))
            for s, e, _ in found
            if s >= best_start and e <= end
        )
        return Snippet(head + text[best_start:end] + tail, spans)


def _word_start(text: str, position: int) -> int:
    """The start of the first word at or after `position`."""
    space = text.find(" ", max(0, position))
    return space + 1 if 0 <= space < len(text) - 1 else max(0, position)


def lead(text: str) -> str:
    if len(text) <= ABSTRACT_SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, ABSTRACT_SNIPPET_CHARS)
    return text[: cut if cut > 0 else ABSTRACT_SNIPPET_CHARS] + " …"
