"""Bulk import on both backends: idempotency, version updates, rejects, counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from sqlalchemy import func, select

from dailypapers.ingest.importer import import_file
from dailypapers.store import Database
from dailypapers.store.listings import get_paper, latest_featured_day, list_featured_day
from dailypapers.store.schema import authors, featured, paper_authors, paper_versions, papers
from dailypapers.store.stats import compute_stats
from tests.conftest import REPO

SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
SAMPLE_ARXIV = REPO / "sample" / "arxiv.sample.jsonl.gz"


def write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def kaggle(arxiv_id: str, versions: int, title: str, **extra: object) -> dict[str, object]:
    created = ["Mon, 2 Apr 2007 19:18:42 GMT", "Tue, 24 Jul 2007 20:10:27 GMT", "Fri, 1 Feb 2008"]
    return {
        "id": arxiv_id,
        "title": title,
        "abstract": f"Abstract of {title}.",
        "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""]],
        "categories": "hep-ph",
        "versions": [{"version": f"v{n + 1}", "created": created[n]} for n in range(versions)],
        "update_date": "2008-11-13",
        **extra,
    }


def change_seqs(db: Database) -> dict[str, int]:
    with db.read() as conn:
        rows = conn.execute(select(papers.c.arxiv_id, papers.c.change_seq)).all()
        return dict(rows)


def test_sample_import_counts_papers_featured_days_and_no_rejects(
    db: Database, tmp_path: Path
) -> None:
    report = import_file(db, SAMPLE_HF, parse_in_subprocess=False, reject_path=tmp_path / "r")
    with gzip.open(SAMPLE_HF, "rt") as handle:
        records = [json.loads(line) for line in handle]
    assert report.format == "hf"
    assert report.counts.papers_seen == len(records) == report.counts.papers_changed
    assert report.counts.featured_changed == len(records)
    assert report.featured_days == len({r["daily_date"] for r in records})
    assert report.counts.rejects == 0 and report.reject_path is None
    stats = compute_stats(db)
    assert stats.papers == len(records)
    assert stats.featured_days == report.featured_days
    assert str(stats.last_featured) == max(r["daily_date"] for r in records)


def test_reimporting_the_same_file_changes_nothing(db: Database) -> None:
    import_file(db, SAMPLE_HF, parse_in_subprocess=False)
    import_file(db, SAMPLE_ARXIV, parse_in_subprocess=False)
    before = change_seqs(db)
    again = import_file(db, SAMPLE_ARXIV, parse_in_subprocess=False)
    again_hf = import_file(db, SAMPLE_HF, parse_in_subprocess=False)
    assert again.counts.papers_changed == 0
    assert again_hf.counts.papers_changed == 0 and again_hf.counts.featured_changed == 0
    assert change_seqs(db) == before


def test_a_featured_day_lists_real_papers_by_upvotes_with_their_authors(db: Database) -> None:
    import_file(db, SAMPLE_HF, parse_in_subprocess=False)
    with db.read() as conn:
        day = latest_featured_day(conn)
        listed = list_featured_day(conn, day) if day else []
        first = get_paper(conn, listed[0].arxiv_id)
        linked = conn.execute(
            select(authors.c.name)
            .join(paper_authors, paper_authors.c.author_id == authors.c.id)
            .where(paper_authors.c.arxiv_id == first.arxiv_id)
            .order_by(paper_authors.c.position)
        ).scalars()
        linked_names = tuple(linked)
    assert day is not None and listed
    assert [p.upvotes for p in listed] == sorted((p.upvotes for p in listed), reverse=True)
    assert first.featured is not None and first.featured.featured_on == day
    assert linked_names == first.authors


def test_a_newer_version_updates_the_paper_and_an_older_one_does_not(
    db: Database, tmp_path: Path
) -> None:
    v1 = write_jsonl(tmp_path / "v1.jsonl", [kaggle("0704.0001", 1, "First title")])
    v2 = write_jsonl(tmp_path / "v2.jsonl", [kaggle("0704.0001", 2, "Second title", doi="10.1/x")])
    import_file(db, v1, parse_in_subprocess=False)
    assert import_file(db, v2, parse_in_subprocess=False).counts.papers_changed == 1
    assert import_file(db, v1, parse_in_subprocess=False).counts.papers_changed == 0
    with db.read() as conn:
        paper = get_paper(conn, "0704.0001")
        version_rows = conn.execute(select(func.count()).select_from(paper_versions)).scalar_one()
    assert paper.title == "Second title"
    assert paper.latest_version == 2
    assert paper.doi == "10.1/x"
    assert [v.version for v in paper.versions] == [1, 2]
    assert version_rows == 2


def test_sources_fill_each_others_gaps_without_erasing_fields(db: Database, tmp_path: Path) -> None:
    arxiv = {
        "arxiv_id": "2501.00001",
        "title": "A title",
        "abstract": "An abstract.",
        "authors": ["Ada Lovelace"],
        "categories": ["cs.LG", "stat.ML"],
        "published": "2025-01-02",
    }
    hf = {**arxiv, "daily_date": "2025-01-03", "upvotes": 7, "github": "https://github.com/a/b"}
    del hf["categories"]
    import_file(db, write_jsonl(tmp_path / "a.jsonl", [arxiv]), parse_in_subprocess=False)
    import_file(db, write_jsonl(tmp_path / "h.jsonl", [hf]), parse_in_subprocess=False)
    with db.read() as conn:
        paper = get_paper(conn, "2501.00001")
    assert paper.categories == ("cs.LG", "stat.ML")
    assert paper.code_url == "https://github.com/a/b"
    assert paper.upvotes == 7


def test_bad_records_go_to_the_reject_file_with_line_numbers_and_the_rest_goes_in(
    db: Database, tmp_path: Path
) -> None:
    good = {
        "arxiv_id": "2501.00002",
        "title": "Good",
        "abstract": "x",
        "authors": ["A"],
        "categories": ["cs.AI"],
        "published": "2025-01-02",
    }
    lines: list[object] = [
        good,
        '{"arxiv_id": "2501.00003", "title": ',
        {**good, "arxiv_id": None},
        {**good, "arxiv_id": "2501.00004", "title": ""},
        {**good, "arxiv_id": "2501.00005", "published": "2025-13-45"},
        {**good, "arxiv_id": "2501.00006", "abstract": "y" * 200_000},
        "",
        {**good, "arxiv_id": "2501.00007", "title": "Also good"},
    ]
    source = write_jsonl(tmp_path / "mixed.jsonl", lines)
    with source.open("ab") as handle:
        handle.write(b'{"arxiv_id": "2501.00008", "title": "\xff\xfe"}\n')
    rejects_path = tmp_path / "rejects.jsonl"
    report = import_file(db, source, reject_path=rejects_path, parse_in_subprocess=False)
    rejects = [json.loads(line) for line in rejects_path.read_text().splitlines()]
    assert report.counts.papers_seen == 2
    assert report.counts.rejects == 6
    assert [(r["line"], r["error"].split(":")[0]) for r in rejects] == [
        (2, "broken JSON"),
        (3, "missing arXiv id"),
        (4, "missing title"),
        (5, "field 'published' has an impossible date"),
        (6, "field 'abstract' is too large (200,000 > 100,000)"),
        (9, "line is not valid UTF-8"),
    ]
    assert rejects[3]["arxiv_id"] == "2501.00005"
    assert set(change_seqs(db)) == {"2501.00002", "2501.00007"}


def test_a_clean_rerun_removes_a_stale_reject_file(db: Database, tmp_path: Path) -> None:
    rejects_path = tmp_path / "rejects.jsonl"
    rejects_path.write_text("old\n")
    report = import_file(db, SAMPLE_HF, reject_path=rejects_path, parse_in_subprocess=False)
    assert report.reject_path is None
    assert not rejects_path.exists()


def test_the_parser_subprocess_gives_the_same_result_as_in_process(
    db: Database, tmp_path: Path
) -> None:
    report = import_file(db, SAMPLE_ARXIV, batch_size=300, parse_in_subprocess=True)
    assert report.counts.papers_changed == report.counts.papers_seen == 2_000
    with db.read() as conn:
        links = conn.execute(select(func.count()).select_from(paper_authors)).scalar_one()
        listed = conn.execute(select(func.count()).select_from(featured)).scalar_one()
    with gzip.open(SAMPLE_ARXIV, "rt") as handle:
        expected_links = sum(len(set(json.loads(line)["authors"])) for line in handle)
    assert links == expected_links
    assert listed == 0


def test_an_unversioned_record_with_a_later_update_replaces_versioned_text(
    db: Database, tmp_path: Path
) -> None:
    versioned = kaggle("0704.0002", 2, "Old title")
    later = {
        "arxiv_id": "0704.0002",
        "title": "Corrected title",
        "abstract": "Corrected.",
        "authors": ["C. Balázs"],
        "updated": "2020-01-01T00:00:00Z",
    }
    earlier = {**later, "title": "Stale title", "updated": "2007-01-01T00:00:00Z"}
    import_file(db, write_jsonl(tmp_path / "k.jsonl", [versioned]), parse_in_subprocess=False)
    stale = import_file(db, write_jsonl(tmp_path / "e.jsonl", [earlier]), parse_in_subprocess=False)
    fresh = import_file(db, write_jsonl(tmp_path / "l.jsonl", [later]), parse_in_subprocess=False)
    with db.read() as conn:
        paper = get_paper(conn, "0704.0002")
    assert stale.counts.papers_changed == 0
    assert fresh.counts.papers_changed == 1
    assert paper.title == "Corrected title"
    assert paper.latest_version == 2
