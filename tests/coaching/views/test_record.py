"""The record pages (coaching/views/record.py): the portfolio, its exports, the cohort
overview and the audit log, with who may open what, what the files contain, and query
counts that stay flat."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from coaching import services as coaching
from coaching.models import AuditEvent, Review
from sandbox import services
from sandbox.models import Cohort, Membership
from tests.builders import reviewed
from tests.factories import PASSWORD, client_for, member

pytestmark = pytest.mark.django_db

PEOPLE = ["anonymous", "trainee", "other_trainee", "coach", "outside_coach", "admin"]


@pytest.fixture
def record(trainee, account, coach):
    """Tara's record: one approval first time, one after changes, with scores and tags."""
    A, C = Review.Decision.APPROVE, Review.Decision.REQUEST_CHANGES
    reviewed(trainee, account, coach, [A], scores={"safe": 3, "effective": 4}, tags=["tone"])
    reviewed(trainee, account, coach, [C, A], scores={"safe": 2}, tags=["tone", "timing"])
    return trainee


# Who may open what ----------------------------------------------------------------------------

# 302 = sent to sign in; 404 = not theirs to know about; 403 = the wrong role.
PAGES = {
    "portfolio": dict(zip(PEOPLE, [302, 200, 200, 200, 200, 200], strict=True)),
    "trainee_portfolio": dict(zip(PEOPLE, [302, 302, 404, 200, 404, 200], strict=True)),
    "cohorts": dict(zip(PEOPLE, [302, 403, 403, 200, 200, 200], strict=True)),
    "audit_log": dict(zip(PEOPLE, [302, 403, 403, 403, 403, 200], strict=True)),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", PAGES)
def test_who_can_open_each_page(request, client, record, who, page):
    args = [record.pk] if page == "trainee_portfolio" else []
    response = client_for(request, client, who).get(reverse(page, args=args))
    assert response.status_code == PAGES[page][who]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    if page == "trainee_portfolio" and who == "trainee":
        assert response["Location"] == reverse("portfolio")  # their own: the own page


EXPORTS = {
    "portfolio_export": dict(zip(PEOPLE, [302, 200, 200, 200, 200, 200], strict=True)),
    "trainee_portfolio_export": dict(zip(PEOPLE, [302, 404, 404, 200, 404, 200], strict=True)),
    "audit_log_export": dict(zip(PEOPLE, [302, 403, 403, 403, 403, 200], strict=True)),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("export", EXPORTS)
def test_who_can_download_each_export(request, client, record, who, export):
    args = {"portfolio_export": ["csv"], "trainee_portfolio_export": [record.pk, "pdf"]}
    response = client_for(request, client, who).get(reverse(export, args=args.get(export, [])))
    assert response.status_code == EXPORTS[export][who]


@pytest.mark.parametrize(
    "url_name", ["portfolio", "trainee_portfolio", "cohorts", "audit_log", "audit_log_export"]
)
def test_the_pages_refuse_post(client, admin, record, url_name):
    client.login(username=admin.username, password=PASSWORD)
    args = [record.pk] if url_name == "trainee_portfolio" else []
    assert client.post(reverse(url_name, args=args)).status_code == 405


def test_a_trainee_never_sees_another_trainees_record(client, record, other_trainee):
    client.login(username=other_trainee.username, password=PASSWORD)
    page = client.get(reverse("portfolio")).content.decode()
    assert "Approved first time" in page and "0 of" not in page and "No reviews yet" in page
    assert client.get(reverse("trainee_portfolio", args=[record.pk])).status_code == 404
    export = reverse("trainee_portfolio_export", args=[record.pk, "csv"])
    assert client.get(export).status_code == 404


def test_a_coach_never_sees_another_organisations_trainee(client, record, outside_coach):
    client.login(username=outside_coach.username, password=PASSWORD)
    assert client.get(reverse("trainee_portfolio", args=[record.pk])).status_code == 404
    # As a word: random tokens in the page (CSRF, autosave) may contain the letters.
    page = client.get(reverse("cohorts")).content.decode()
    assert not re.search(r"\btara\b", page, re.IGNORECASE)


def test_a_coach_cannot_open_a_coachs_record_as_a_trainees(client, coach, second_coach):
    client.login(username=coach.username, password=PASSWORD)
    assert client.get(reverse("trainee_portfolio", args=[second_coach.pk])).status_code == 404


def test_a_trainee_in_two_organisations_has_a_record_in_each(client, record, other_account):
    Membership.objects.create(user=record, organisation=other_account.organisation)
    client.login(username=record.username, password=PASSWORD)
    first = client.get(reverse("portfolio")).content.decode()
    assert "50% (1 of 2)" in first
    link = f"?organisation={other_account.organisation_id}"
    assert link in first and "Elsewhere Council" in first
    second = client.get(reverse("portfolio") + link).content.decode()
    assert "No reviews yet" in second and "Test Health Board</a>" in second


def test_an_organisation_the_trainee_is_not_in_is_not_found(client, record, other_organisation):
    client.login(username=record.username, password=PASSWORD)
    url = reverse("portfolio")
    assert client.get(url, {"organisation": other_organisation.pk}).status_code == 404
    assert client.get(url, {"organisation": "nonsense"}).status_code == 404
    assert client.get(reverse("portfolio_export", args=["xls"])).status_code == 404


# The portfolio page ---------------------------------------------------------------------------


def test_the_portfolio_shows_the_figures_chart_table_tags_and_reviews(client, record, coach):
    client.login(username=coach.username, password=PASSWORD)
    response = client.get(reverse("trainee_portfolio", args=[record.pk]))
    body = response.content.decode()
    assert "Learning record of Tara" in body
    assert "50% (1 of 2)" in body
    assert "Full review" in body
    # The chart: inline SVG with a title and a description, and the same data as a table.
    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert "<title" in svg and "<desc" in svg and 'role="img"' in svg
    # Safe (circles) in all three coach reviews, effective (triangles) in one, no
    # person-centred (squares).
    assert svg.count("<circle") == 3 and svg.count("<polygon") == 1 and "<rect" not in svg
    assert "The scores in the chart" in body
    # Tags, most often first, and every review with its decision and reviewer.
    assert body.index("Tone</strong> 3 reviews") < body.index("Timing</strong> 2 reviews")
    assert body.count("Changes requested") == 1 and "by Cora" in body
    # Links go to the coach's review page, not the trainee's draft page.
    assert reverse("review", args=[Review.objects.first().draft_id]) in body
    assert " style=" not in body and "<style" not in body


def test_with_one_review_each_series_has_its_own_marker_shape(client, trainee, account, coach):
    """One review draws each series as a single marker: they differ in shape, not only in
    colour, and the legend shows the same shapes."""
    scores = {"safe": 2, "person_centred": 3, "effective": 4}
    reviewed(trainee, account, coach, [Review.Decision.APPROVE], scores=scores)
    client.login(username=trainee.username, password=PASSWORD)
    body = client.get(reverse("portfolio")).content.decode()
    chart = re.search(r'<svg class="sp-chart__svg".*?</svg>', body, re.S).group(0)
    legend = re.search(r'<ul class="sp-chart__legend">.*?</ul>', body, re.S).group(0)
    series = re.compile(r'<g class="sp-chart__series sp-chart__series--(\w+)">(.*?)</g>', re.S)
    marker = re.compile(r'<(circle|rect|polygon) class="sp-chart__dot"')
    for part in (chart, legend):
        shapes = [(name, marker.findall(inner)) for name, inner in series.findall(part)]
        assert shapes == [
            ("safe", ["circle"]),
            ("person_centred", ["rect"]),
            ("effective", ["polygon"]),
        ]
    # The legend's pictures are decoration: the words name each series.
    assert legend.count('aria-hidden="true"') == 3 and "Person-centred" in legend
    # The single markers sit over the middle of the chart, at their scores.
    assert '<circle class="sp-chart__dot" cx="336.0" cy="149.3" r="5">' in chart
    assert '<rect class="sp-chart__dot" x="331.5" y="78.2" width="9" height="9">' in chart
    assert '<polygon class="sp-chart__dot" points="336.0,9.0 342.5,20.5 329.5,20.5">' in chart


def test_the_portfolio_shows_the_review_mode(client, record):
    Membership.objects.filter(user=record).update(review_mode=Membership.ReviewMode.SPOT_CHECK)
    client.login(username=record.username, password=PASSWORD)
    assert "Spot-check" in client.get(reverse("portfolio")).content.decode()


def test_an_empty_portfolio_explains_itself(client, trainee):
    client.login(username=trainee.username, password=PASSWORD)
    body = client.get(reverse("portfolio")).content.decode()
    assert "No reviews yet" in body and "No scores yet" in body and "<svg" not in body


def test_the_reviews_list_is_paginated(client, trainee, account, coach, settings):
    for _ in range(3):
        reviewed(trainee, account, coach, [Review.Decision.REQUEST_CHANGES])
    client.login(username=trainee.username, password=PASSWORD)
    from coaching import portfolio

    portfolio.REVIEWS_PER_PAGE, saved = 2, portfolio.REVIEWS_PER_PAGE
    try:
        first = client.get(reverse("portfolio")).content.decode()
        last = client.get(reverse("portfolio"), {"page": "2"}).content.decode()
        beyond = client.get(reverse("portfolio"), {"page": "99"})
    finally:
        portfolio.REVIEWS_PER_PAGE = saved
    assert "Page 1 of 2" in first and "?page=2" in first
    assert "Page 2 of 2" in last
    assert beyond.status_code == 200  # past the end: the last page, not an error


# Exports ----------------------------------------------------------------------------------------


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_has_one_row_per_review(client, record):
    client.login(username=record.username, password=PASSWORD)
    response = client.get(reverse("portfolio_export", args=["csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="sandpit-record-tara-\d{4}-\d\d-\d\d\.csv"',
        response["Content-Disposition"],
    )
    header, *rows = read_csv(response)
    assert header[:5] == ["Date", "Draft", "Revision", "Decision", "Reviewer"]
    assert [row[3] for row in rows] == ["Approved", "Changes requested", "Approved"]
    newest_first = rows[0]
    assert newest_first[2] == "2" and newest_first[4] == "Cora"  # approved revision 2
    assert newest_first[5:8] == ["2", "", ""] and newest_first[8] == "Tone, Timing"
    assert rows[1][9] == "Say when."


def test_a_spot_check_pass_and_a_retired_tag_read_the_same_on_pages_and_in_the_csv(
    client, trainee, account
):
    draft = services.draft_create(author=trainee, account=account, text="Passed, no coach")
    revision = draft.current_revision
    Review.objects.create(
        draft=draft,
        revision=revision,
        reviewer=None,
        decision=Review.Decision.APPROVE,
        content_hash=revision.content_hash,
        tags=["tone", "retired_tag"],
    )
    client.login(username=trainee.username, password=PASSWORD)
    body = client.get(reverse("portfolio")).content.decode()
    assert "Spot-check (no coach)" in body and "Tone, retired_tag" in body
    _header, row = read_csv(client.get(reverse("portfolio_export", args=["csv"])))
    assert row[4] == "Spot-check (no coach)" and row[8] == "Tone, retired_tag"
    # The draft page lists the same tags: one rule for a tag's name.
    draft_page = client.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    assert ">Tone</strong>" in draft_page and ">retired_tag</strong>" in draft_page


def test_the_csv_defuses_spreadsheet_formulas(client, trainee, account, coach):
    draft = services.draft_create(author=trainee, account=account, text="=1+2 is a sum")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_reject(draft=draft, by=coach, note='=HYPERLINK("http://evil.example","x")')
    client.login(username=trainee.username, password=PASSWORD)
    _header, row = read_csv(client.get(reverse("portfolio_export", args=["csv"])))
    assert row[9] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[10] == "'=1+2 is a sum"
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@"))


def test_the_pdf_is_a_pdf_with_the_trainees_name_and_survives_emoji(
    client, trainee, account, coach
):
    trainee.first_name, trainee.last_name = "Tara", "Ní Bhriain"
    trainee.save()
    draft = services.draft_create(author=trainee, account=account, text="Open today 🎉 中文 ok")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_request_changes(draft=draft, by=coach, note="Lovely 👍 but say when ✔")
    client.login(username=coach.username, password=PASSWORD)
    response = client.get(reverse("trainee_portfolio_export", args=[trainee.pk, "pdf"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('.pdf"')
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert text.startswith("Sandpit learning record: Tara Ní Bhriain")
    assert "Tara Ní Bhriain" in text.split("\n", 1)[1]  # on the page, not just the title
    assert "Changes requested" in text and "Lovely" in text and "Ní" in text


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return reader.metadata.title + "\n" + "\n".join(page.extract_text() for page in reader.pages)


# The cohort overview ----------------------------------------------------------------------------


def test_the_cohort_overview_lists_trainees_by_cohort(
    client, organisation, record, other_trainee, coach
):
    ward = Cohort.objects.create(organisation=organisation, name="Ward 7")
    Membership.objects.filter(user=record).update(cohort=ward)
    client.login(username=coach.username, password=PASSWORD)
    body = client.get(reverse("cohorts")).content.decode()
    assert body.index("Ward 7") < body.index("No cohort")
    assert body.index("Tara") < body.index("No cohort") < body.index("Otto")
    assert reverse("trainee_portfolio", args=[record.pk]) in body
    assert "50% (1 of 2)" in body and "No reviews yet" in body


# The audit log ----------------------------------------------------------------------------------


def audit(organisation, action, **fields):
    return AuditEvent.objects.create(organisation=organisation, action=action, **fields)


def test_the_audit_log_shows_only_the_admins_organisations(
    client, organisation, other_organisation, admin, coach
):
    audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, actor=coach, detail="Ours")
    audit(other_organisation, AuditEvent.Action.PUBLISHING_STOPPED, detail="Theirs")
    client.login(username=admin.username, password=PASSWORD)
    body = client.get(reverse("audit_log")).content.decode()
    assert "Ours" in body and "Theirs" not in body and "Cora" in body
    rows = read_csv(client.get(reverse("audit_log_export")))
    assert [row[8] for row in rows[1:]] == ["Ours"]


def test_the_audit_log_filters(client, organisation, admin, coach, trainee, account):
    draft = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    audit(
        organisation,
        AuditEvent.Action.CHECK_OVERRIDDEN,
        actor=coach,
        draft=draft,
        revision=draft.current_revision,
        detail="Overridden",
    )
    audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, actor=admin, detail="Stopped")
    client.login(username=admin.username, password=PASSWORD)

    def details(**filters):
        rows = read_csv(client.get(reverse("audit_log_export"), filters))
        return [row[8] for row in rows[1:]]

    assert details() == ["Stopped", "Overridden"]
    assert details(action="check_overridden") == ["Overridden"]
    assert details(actor=admin.pk) == ["Stopped"]
    assert details(trainee=trainee.pk) == ["Overridden"]
    assert details(draft=draft.pk) == ["Overridden"]
    assert details(account=account.pk) == []
    today = AuditEvent.objects.first().created_at.astimezone().date().isoformat()
    assert details(date_from=today, date_to=today) == ["Stopped", "Overridden"]
    assert details(date_to="2000-01-01") == []
    body = client.get(reverse("audit_log"), {"draft": draft.pk}).content.decode()
    assert "revision 1" in body and "by Tara" in body


def test_bad_filters_get_a_clear_message_and_keep_what_was_typed(client, admin, organisation):
    audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, detail="Stopped")
    client.login(username=admin.username, password=PASSWORD)
    query = {"date_from": "2026-13-45", "date_to": "", "draft": "abc"}
    response = client.get(reverse("audit_log"), query)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a real date, like 2026-12-01." in body
    assert "Enter a draft number, like 42." in body
    assert 'value="2026-13-45"' in body and 'value="abc"' in body
    assert "Stopped" in body  # the bad filters are left out, not fatal
    huge = client.get(reverse("audit_log"), {"draft": "9" * 30})
    assert huge.status_code == 200
    assert "There is no draft with a number that large." in huge.content.decode()
    reversed_dates = {"date_from": "2026-12-02", "date_to": "2026-12-01"}
    body = client.get(reverse("audit_log"), reversed_dates).content.decode()
    assert "The &#x27;to&#x27; date must be the same as or after the &#x27;from&#x27; date." in body
    # The export sends them back to the page to fix the filters, query intact.
    export = client.get(reverse("audit_log_export"), query)
    assert export.status_code == 302 and "date_from=2026-13-45" in export["Location"]


def test_the_audit_csv_defuses_formulas(client, admin, organisation):
    audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, detail="@SUM(1,2)")
    client.login(username=admin.username, password=PASSWORD)
    rows = read_csv(client.get(reverse("audit_log_export")))
    assert rows[1][8] == "'@SUM(1,2)"


def test_the_audit_csv_keeps_a_handle_readable(client, admin, organisation, account):
    account.handle = "NHSDemoBoard"
    account.save()
    audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, account=account)
    client.login(username=admin.username, password=PASSWORD)
    rows = read_csv(client.get(reverse("audit_log_export")))
    assert "@NHSDemoBoard" in rows[1]
    assert "'@NHSDemoBoard" not in rows[1]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        # Readable as they are: they cannot run as formulas.
        ("@NHSDemoBoard", "@NHSDemoBoard"),
        ("@board@nhs.social", "@board@nhs.social"),
        ("@board.bsky.social", "@board.bsky.social"),
        ("-3", "-3"),
        ("+44", "+44"),
        ("-2.5", "-2.5"),
        ("Clinic open 9-5", "Clinic open 9-5"),
        # Defused: each would start a formula that does something.
        ("=1+2", "'=1+2"),
        ("=A1", "'=A1"),
        ("@SUM(1,2)", "'@SUM(1,2)"),
        ('+HYPERLINK("http://x")', '\'+HYPERLINK("http://x")'),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@NHS Demo", "'@NHS Demo"),
        ("-", "'-"),
        ("@", "'@"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
    ],
)
def test_a_cell_is_defused_only_where_it_would_start_a_formula(cell, written):
    from coaching.exports import csv_cell

    assert csv_cell(cell) == written


# Query counts stay flat as the record grows ------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def grow(trainee, account, coach, organisation, n):
    A, C = Review.Decision.APPROVE, Review.Decision.REQUEST_CHANGES
    for i in range(n):
        member(organisation, "trainee")  # the cohort overview grows too
        draft = reviewed(
            trainee,
            account,
            coach,
            [C, A] if i % 2 else [A],
            scores={"safe": 1 + i % 4},
            tags=["tone"],
        )
        audit(organisation, AuditEvent.Action.REVIEW_APPROVED, actor=coach, draft=draft)


@pytest.mark.parametrize("page", ["portfolio", "trainee_portfolio", "cohorts", "audit_log"])
def test_page_queries_do_not_grow_with_the_record(
    client, trainee, coach, admin, account, organisation, page
):
    viewer = {"portfolio": trainee, "trainee_portfolio": coach}.get(page, admin)
    client.login(username=viewer.username, password=PASSWORD)
    url = reverse(page, args=[trainee.pk] if page == "trainee_portfolio" else [])
    grow(trainee, account, coach, organisation, 2)
    few = count_queries(client, url)
    grow(trainee, account, coach, organisation, 30)
    many = count_queries(client, url)
    print(f"{page}: {few} queries with 2 drafts, {many} with 32")
    assert many == few
