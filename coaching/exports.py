"""Files people take away: the trainee's record as CSV or PDF (for appraisal or CPD), and
the audit log as CSV. Rendering only; what goes in comes from the selectors."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from fpdf import FPDF

from coaching.models import RUBRIC, AuditEvent, Review
from coaching.portfolio import Portfolio, tag_labels
from coaching.selectors import actor_name, reviewer_name
from sandbox.selectors import display_name

FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-2.37.ttf"
# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection,
# OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Cells that start like a formula but cannot do anything as one, kept as they are so they
# stay readable: a signed number ("-3", "+44"), which a spreadsheet reads as that number,
# and an account handle ("@NHSDemoBoard", "@board@nhs.social", "@board.bsky.social"),
# which as a formula is at most a name, with no function call (that needs "("), no other
# program (DDE needs "|" and "!") and no arithmetic. Anything else starting with + - or @,
# and everything starting with =, a tab or a carriage return, is defused.
_HARMLESS = re.compile(r"[+-][0-9]+(?:[.,][0-9]+)?|@[A-Za-z0-9_.]+(?:@[A-Za-z0-9.-]+)?")


def csv_cell(value: object) -> str:
    """The text of one cell, defused: a cell a spreadsheet would run as a formula gets a
    quote before it, so "=HYPERLINK(...)" typed in a note reads as text in Excel or
    Sheets; a handle or a signed number, which could not, stays as it is."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _HARMLESS.fullmatch(text):
        return "'" + text
    return text


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte-order mark, so Excel reads the file as UTF-8 (names, emoji).
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response


def _stamp(when: object) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]


def _notes(review: Review) -> str:
    return "\n\n".join(note.body for note in review.notes.all())


def record_filename(record: Portfolio, extension: str) -> str:
    who = slugify(record.trainee.username) or "trainee"
    return f"sandpit-record-{who}-{timezone.localdate():%Y-%m-%d}.{extension}"


REVIEW_COLUMNS = [
    "Date",
    "Draft",
    "Revision",
    "Decision",
    "Reviewer",
    *(title for title, _levels in RUBRIC.values()),
    "Tags",
    "Notes",
    "Text reviewed",
]


def review_row(review: Review) -> list[object]:
    return [
        _stamp(review.created_at),
        review.draft_id,
        review.revision.number,
        review.get_decision_display(),
        reviewer_name(review),
        *(review.scores[name] for name in RUBRIC),
        ", ".join(tag_labels(review.tags)),
        _notes(review),
        "\n\n".join(review.revision.posts),
    ]


def record_csv(record: Portfolio, reviews: Iterable[Review]) -> HttpResponse:
    return csv_response(
        record_filename(record, "csv"), REVIEW_COLUMNS, (review_row(r) for r in reviews)
    )


class _RecordPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", size=8)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def record_pdf(record: Portfolio, reviews: Iterable[Review]) -> bytes:
    """An appraisal-ready summary and every review, in a font that covers most scripts
    (a character it lacks is left out, never an error)."""
    pdf = _RecordPDF(format="A4")
    pdf.set_title(f"Sandpit learning record: {display_name(record.trainee)}")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def para(text: str, size: float = 10, gap: float = 1.5) -> None:
        pdf.set_font("DejaVu", size=size)
        pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    membership = record.membership
    figures = record.figures
    para("Sandpit learning record", size=18, gap=1)
    para(display_name(record.trainee), size=14, gap=0.5)
    para(
        f"{membership.organisation.name}"
        + (f" · {membership.cohort.name}" if membership.cohort else "")
        + f" · produced {timezone.localdate():%d %B %Y}",
        size=10,
        gap=4,
    )
    para("Summary", size=13)
    para(f"Review mode: {membership.get_review_mode_display()}")
    para(f"Drafts reviewed by a coach: {figures.drafts_reviewed}")
    para(f"Approved first time: {figures.first_pass_words}")
    para(f"Median time from first submission to approval: {figures.median_words}")
    for title, mean in figures.mean_score_list:
        para(f"Mean {title.lower()} score: {'—' if mean is None else f'{mean:.1f} of 4'}")
    if record.tags:
        para("Recurring tags: " + ", ".join(f"{label} ({n})" for label, n in record.tags))
    pdf.ln(3)
    para("Reviews, newest first", size=13)
    for review in reviews:
        row = dict(zip(REVIEW_COLUMNS, review_row(review), strict=True))
        para(
            f"{row['Date']} · draft {row['Draft']}, revision {row['Revision']} · "
            f"{row['Decision']} · {row['Reviewer']}",
            size=10,
            gap=0.5,
        )
        scores = ", ".join(
            f"{title} {review.scores[name]}"
            for name, (title, _levels) in RUBRIC.items()
            if review.scores[name] is not None
        )
        details = [
            f"Scores: {scores}" if scores else "",
            f"Tags: {row['Tags']}" if row["Tags"] else "",
            f"Text reviewed: {row['Text reviewed']}",
            f"Notes: {row['Notes']}" if row["Notes"] else "",
        ]
        para("\n".join(d for d in details if d), size=9, gap=3)
    return bytes(pdf.output())


def record_pdf_response(record: Portfolio, reviews: Iterable[Review]) -> HttpResponse:
    response = HttpResponse(record_pdf(record, reviews), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{record_filename(record, "pdf")}"'
    return response


AUDIT_COLUMNS = [
    "When",
    "Who",
    "What",
    "Trainee",
    "Draft",
    "Revision",
    "Account",
    "Publication",
    "Detail",
]


def audit_row(event: AuditEvent) -> list[object]:
    draft = event.draft
    return [
        _stamp(event.created_at),
        actor_name(event),
        event.get_action_display(),
        display_name(draft.author) if draft else "",
        event.draft_id or "",
        event.revision.number if event.revision else "",
        f"@{event.account.handle}" if event.account else "",
        event.publication_id or "",
        event.detail,
    ]


def audit_csv(events: Iterable[AuditEvent]) -> HttpResponse:
    filename = f"sandpit-audit-log-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(filename, AUDIT_COLUMNS, (audit_row(e) for e in events))
