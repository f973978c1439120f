"""Record parsing for the three dump formats: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dailypapers.domain import author_key, split_arxiv_id
from dailypapers.ingest.formats import RecordError, detect_format, parse_record

HF = {
    "arxiv_id": "2405.15738",
    "title": "ConvLLaVA:  Hierarchical\nBackbones",
    "abstract": "High-resolution LMMs.",
    "authors": ["Chunjiang Ge", "Sijie Cheng"],
    "published": "2024-05-24",
    "daily_date": "2024-05-27",
    "upvotes": 32,
    "num_comments": 3,
    "github": "https://github.com/alibaba/conv-llava",
}
ARXIV = {
    "arxiv_id": "2503.11677",
    "title": "Simulation of prosthetic vision",
    "abstract": "Objective.",
    "authors": ["Jungyeon Park", "Daniel Palanker"],
    "categories": ["cs.HC", "cs.CV"],
    "published": "2025-03-18",
    "updated": None,
}
KAGGLE = {
    "id": "0704.0001",
    "submitter": "Pavel Nadolsky",
    "authors": "C. Bal\\'azs, E. L. Berger",
    "title": "Calculation of prompt diphoton production",
    "comments": "37 pages, 15 figures",
    "journal-ref": "Phys.Rev.D76:013009,2007",
    "doi": "10.1103/PhysRevD.76.013009",
    "report-no": "ANL-HEP-PR-07-12",
    "categories": "hep-ph math.CO",
    "license": None,
    "abstract": "  A fully differential calculation.\n",
    "versions": [
        {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
    ],
    "update_date": "2008-11-13",
    "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""]],
}


def parse(record: object, fmt: str = "hf") -> object:
    return parse_record(record, fmt, max_field_chars=10_000)  # type: ignore[arg-type]


def test_formats_are_detected_from_their_distinctive_fields() -> None:
    assert detect_format(HF) == "hf"
    assert detect_format(ARXIV) == "arxiv"
    assert detect_format(KAGGLE) == "kaggle"
    assert detect_format({"something": 1}) is None


def test_hf_record_carries_featured_day_counts_and_code_link() -> None:
    paper = parse(HF)
    assert paper.arxiv_id == "2405.15738"
    assert paper.title == "ConvLLaVA: Hierarchical Backbones"
    assert paper.featured.featured_on == date(2024, 5, 27)
    assert paper.featured.upvotes_baseline == 32
    assert paper.featured.comments_baseline == 3
    assert paper.code_url == "https://github.com/alibaba/conv-llava"
    assert paper.published_at == datetime(2024, 5, 24, tzinfo=UTC)


def test_arxiv_record_keeps_category_order_with_primary_first() -> None:
    paper = parse(ARXIV, "arxiv")
    assert paper.categories == ("cs.HC", "cs.CV")
    assert paper.primary_category == "cs.HC"
    assert paper.featured is None


def test_kaggle_record_orders_versions_and_builds_names_from_parsed_authors() -> None:
    paper = parse(KAGGLE, "kaggle")
    assert paper.version == 2
    assert [v.version for v in paper.versions] == [1, 2]
    assert paper.published_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert paper.updated_at == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    assert paper.authors == ("C. Balázs", "E. L. Berger")
    assert paper.categories == ("hep-ph", "math.CO")
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert paper.abstract == "A fully differential calculation."


def test_kaggle_withdrawal_comment_marks_the_latest_version_withdrawn() -> None:
    record = {**KAGGLE, "comments": "This paper has been withdrawn by the author"}
    paper = parse(record, "kaggle")
    assert paper.versions[-1].withdrawn
    assert not paper.versions[0].withdrawn


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arxiv_id": None}, "missing arXiv id"),
        ({"arxiv_id": "not-an-id"}, "not an arXiv identifier"),
        ({"title": "   "}, "missing title"),
        ({"daily_date": "2024-02-30"}, "impossible date"),
        ({"published": "1850-01-01"}, "impossible date"),
        ({"abstract": "x" * 20_000}, "too large"),
        ({"upvotes": -3}, "non-negative integer"),
        ({"authors": 5}, "not a list"),
    ],
)
def test_bad_records_are_refused_with_the_reason(change: dict[str, object], message: str) -> None:
    with pytest.raises(RecordError, match=message):
        parse({**HF, **change})


def test_a_record_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RecordError, match="not a JSON object"):
        parse([1, 2, 3])


def test_control_characters_and_html_are_kept_as_inert_text() -> None:
    paper = parse({**HF, "title": "<script>alert(1)</script>\x00 title\x07"})
    assert paper.title == "<script>alert(1)</script> title"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2406.12345", ("2406.12345", None)),
        ("2406.12345v3", ("2406.12345", 3)),
        ("https://arxiv.org/abs/2406.12345v2", ("2406.12345", 2)),
        ("arXiv:0704.0001", ("0704.0001", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.CO/0409123v1", ("math.CO/0409123", 1)),
        ("https://arxiv.org/pdf/2406.12345.pdf", ("2406.12345", None)),
    ],
)
def test_arxiv_ids_are_split_into_id_and_version(
    raw: str, expected: tuple[str, int | None]
) -> None:
    assert split_arxiv_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "2406.123", "abc", "../../etc/passwd", "2406.12345v"])
def test_malformed_arxiv_ids_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not an arXiv identifier"):
        split_arxiv_id(raw)


def test_author_key_ignores_case_accents_and_spacing() -> None:
    assert author_key("Balázs  Csaba") == author_key("balazs csaba")
    assert author_key("ZOË Müller") == "zoe muller"
