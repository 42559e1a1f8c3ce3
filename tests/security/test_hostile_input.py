"""Hostile input never gets a 500, and never costs the person what they typed.

Every URL in the URLconf (the Django admin's too) is POSTed to, as every role, with
hostile values for the fields its view reads and for made-up ones: digits that
``str.isdigit`` accepts but ``int`` refuses or misreads ('²', '١٢٣'), numbers past a
bigint and past Python's 4,300-digit integer-string limit, NUL, unpaired surrogates,
100,000-character strings, repeated fields, JSON bodies, files where text is expected and
text where a file is expected, and file names of 5,000 characters, with NUL, or climbing
out of the folder. Views that refuse POST with 405 are fine; a 500 never is.

Bodies are encoded here, not by the test client: its encoder cannot send an unpaired
surrogate (it is not UTF-8) and shortens file names to 255 characters, so it would never
send what a hostile client does. Each request runs in a savepoint that is rolled back,
so every example sees the same world and a database error cannot poison the next one.

The number of requests and of 500s is written to var/hostile-input.json and printed at
the end of the run.
"""

import copy
import io
import json
import re
import traceback
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.db import transaction
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from coaching import forms as coaching_forms
from coaching import services as coaching
from coaching.models import AccountCover, Notification, Publication, PublishingStop
from sandbox import forms as sandbox_forms
from sandbox import scenario_scripts
from sandbox import services as sandbox_services
from sandbox.http import ShortFileNames, id_from
from sandbox.models import Cohort, Membership, PostImage, TimelineItem
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "trainee", "other_trainee", "coach", "outside_coach", "admin"]

# Values that have broken views: each one is a way a number or a text can be wrong.
HOSTILE_TEXT = [
    "²",  # str.isdigit() says yes; int() says no
    "١٢٣",  # Arabic-Indic digits: int() reads them as 123
    "1²",
    "9" * 5000,  # past Python's integer-string limit (4,300 digits)
    "9" * 19,  # past a PostgreSQL bigint
    str(2**63),
    "-1",
    " 7 ",
    "1_0",
    "0x1f",
    "0",
    "\x00",
    "a note\x00with a NUL",
    "\ud800",
    "broken \udfff pair",
    "A" * 100_000,
    "",
    " ",
    "[1, 2]",
    '{"id": 1}',
    "null",
    "../../etc/passwd",
    "\u202eevil",
    "\r\n\r\n--boundary\r\n",
    "%00",
]
HOSTILE_FILE_NAMES = [
    "a" * 5000 + ".png",
    "x." + "a" * 5000,
    "../../etc/passwd",
    "photo\x00.png",
    "\ud800.png",
    "",
    '"quoted"; name="text".png',
    "ok.png",
]
# <int:...> URL arguments: the converter takes ASCII digits only, but any number of them.
HOSTILE_PKS = ["0", str(2**31), str(2**63 - 1), str(2**63), "9" * 30, "9" * 5000]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "teal").save(buffer, "PNG")
    return buffer.getvalue()


FILE_CONTENTS = [_png(), b"", b"not an image at all", b"%PDF-1.7\n", b"\x00" * 64]


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    content_type: str = "image/png"


# Encoding bodies by hand ------------------------------------------------------------------

BOUNDARY = "HostileBoundary7MA4YWxkTrZu0gW"


def _bytes(value: str) -> bytes:
    # surrogatepass: an unpaired surrogate goes on the wire as the bytes a broken client
    # would send (ED A0 80), which is what Django then has to decode.
    return value.encode("utf-8", "surrogatepass")


def urlencoded(pairs: list[tuple[str, Any]]) -> bytes:
    """A file here is sent as its name: text where a file is expected."""
    return "&".join(
        urllib.parse.quote_plus(name, errors="surrogatepass")
        + "="
        + urllib.parse.quote_plus(
            value.name if isinstance(value, Upload) else value, errors="surrogatepass"
        )
        for name, value in pairs
    ).encode("ascii")


def multipart(pairs: list[tuple[str, Any]]) -> bytes:
    """File names go out whole (the test client would cut them to 255 characters)."""
    out = io.BytesIO()
    for name, value in pairs:
        out.write(f"--{BOUNDARY}\r\n".encode())
        disposition = b'Content-Disposition: form-data; name="' + _bytes(name) + b'"'
        if isinstance(value, Upload):
            disposition += b'; filename="' + _bytes(value.name) + b'"'
            out.write(disposition + b"\r\n")
            out.write(f"Content-Type: {value.content_type}\r\n\r\n".encode())
            out.write(value.content)
        else:
            out.write(disposition + b"\r\n\r\n" + _bytes(value))
        out.write(b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


ENCODINGS = {
    "urlencoded": ("application/x-www-form-urlencoded", urlencoded),
    "multipart": (f"multipart/form-data; boundary={BOUNDARY}", multipart),
    "json": ("application/json", lambda pairs: _bytes(json.dumps(pairs, default=repr))),
}


# The world: one of everything a URL can name ----------------------------------------------


@dataclass
class World:
    clients: dict[str, Client]
    draft: Any  # submitted, waiting for review
    editable: Any  # a draft the trainee is still writing
    reviewed: Any  # sent back with a suggested rewrite
    review: Any
    publication: Publication
    stop: PublishingStop
    scenario: Any
    run: Any
    cohort: Cohort
    item: TimelineItem
    image: Any
    membership: Membership
    notification: Notification
    people: dict[str, Any] = field(default_factory=dict)
    inbox_item: Any = None  # a post by the public to the account, given to the trainee
    cover: Any = None  # the other trainee covering the account today

    def real_pks(self, route: "Route", kwarg: str) -> list[str]:
        """Real objects for a URL's <int:...> argument, by what the URL is about."""
        name = route.name
        if kwarg == "user_id":
            pks = [self.people["trainee"].pk, self.people["coach"].pk]
        elif kwarg == "review_pk":
            pks = [self.review.pk]
        elif kwarg == "cover_pk":
            pks = [self.cover.pk]
        elif name.startswith("inbox"):
            pks = [self.inbox_item.pk]
        elif name.startswith(("account_cover", "account_owner")):
            pks = [self.draft.account_id]
        elif name.startswith(("review", "check_override", "spot_check", "replay")):
            pks = [self.draft.pk, self.reviewed.pk]
        elif name.startswith("draft") or name == "suggestion_accept":
            pks = [self.editable.pk, self.draft.pk, self.reviewed.pk]
        elif name.startswith("publication"):
            pks = [self.publication.pk]
        elif name == "publishing_resume":
            pks = [self.stop.pk]
        elif name.startswith("scenario"):
            pks = [self.run.pk] if name == "scenario_debrief" else [self.scenario.pk]
        elif name == "trainee_assign":
            pks = [self.membership.pk]
        elif name.startswith("notification"):
            pks = [self.notification.pk]
        elif name == "timeline_item":
            pks = [self.item.pk]
        elif name.startswith("answer_"):
            pks = [self.inbox_item.pk]
        elif name == "post_image":
            pks = [self.image.pk]
        else:  # the admin's object ids, and anything new: a bit of everything
            pks = [self.draft.pk, self.people["trainee"].pk, self.membership.pk]
        return [str(pk) for pk in pks]

    def plausible(self, name: str) -> list[Any]:
        """Believable values for a field, so hostile ones are also tried next to valid ones."""
        people, image = self.people, self.image.pk
        ids = {
            "account": [self.draft.account_id],
            "organisation": [self.cohort.organisation_id],
            "revision": [self.draft.current_revision_id],
            "trainee": [people["trainee"].pk],
            "coach": [people["coach"].pk],
            "cover_coach": [people["coach"].pk],
            "cohort": [self.cohort.pk],
            "image-0": [image],
            "remove_image": [f"0-{image}"],
            "remove_post": [1],
            "to": ["me", "", people["trainee"].pk],
            "person": [people["coach"].pk],
            "owner": [people["coach"].pk],
        }
        words = {
            "decision": ["approve", "request_changes", "reject"],
            "safe": ["3"],
            "person_centred": ["4"],
            "effective": ["2"],
            "tags": ["tone", "accuracy"],
            "kind": ["reply", "quote"],
            "field": ["text", "thread-1", "thread-9"],
            "publish_at": ["2031-01-01T09:30"],
            "away_from": ["2031-01-01"],
            "starts_on": ["2031-01-01"],
            "ends_on": ["2031-01-02"],
            "state": ["done", "any"],
            "assigned": ["me", "unassigned"],
            "script": ["2 | dave-hollins | Hello there"],
        }
        if name in ids:
            return [str(value) for value in ids[name]]
        return words.get(name, ["Clinic open 9 to 5 today"])


# What each view reads (the rest of the body is made-up names) -------------------------------

COMPOSER = [
    "text",
    "thread-1",
    "thread-2",
    "image-0",
    "alt-0-{image}",
    "upload-0",
    "upload-alt-0",
    "upload-1",
    "add_post",
    "remove_post",
    "remove_image",
    "attach",
    "preview",
    "submit",
]
FIELDS: dict[str, list[str]] = {
    "timeline": [*COMPOSER, "account", "practise"],
    "draft_edit": COMPOSER,
    "draft_check": ["field", "text", "thread-1", "account", "image-0", "alt-0-{image}"],
    "timeline_item": ["text", "kind", "submit", "save"],
    "answer_reply": ["text", "submit", "save"],
    "answer_quote": ["text", "submit", "save"],
    "review_decide": [
        "decision",
        "note",
        "override_reason",
        "revision",
        "safe",
        "person_centred",
        "effective",
        "tags",
        "publish_at",
        "anchor-0-body",
        "anchor-0-quote",
        "anchor-0-post",
        "anchor-0-start",
        "anchor-0-end",
        "anchor-1-body",
        "add_anchor",
        "suggestion-0",
        "suggestion-1",
    ],
    "check_override": ["reason"],
    "review_mode_full": ["organisation", "reason"],
    "publishing_stop": ["reason", "organisation", "account"],
    "publication_retract": ["reason"],
    "scenarios": ["title", "description", "script"],
    "scenario_start": ["trainee"],
    "scenario_assign_cohort": ["cohort"],
    "availability": ["organisation", "away_from", "away_until", "cover_coach", "back"],
    "trainee_assign": ["coach", "cohort"],
    "account_connect_x": ["organisation"],
    "account_connect_other": [
        "organisation",
        "server",
        "secret",
        "handle",
        "client_id",
        "client_secret",
    ],
    "account_lockdown": ["reason", "confirm"],
    "drills": ["account", "cohort", "incident"],
    "inbox": ["account", "state", "assigned", "kind", "page"],
    "inbox_assign": ["to", "back"],
    "inbox_item_state": ["back"],
    "account_owner": ["owner", "back"],
    "account_cover_add": ["person", "starts_on", "ends_on", "handover_note"],
    "account_cover_handback": ["note"],
    "notification_preferences": [
        "email_reviews",
        "email_submissions",
        "email_past_target",
        "daily_digest",
    ],
    "account_login": ["login", "password", "next"],
    "account_logout": ["next"],
}
# Buttons that make a form show itself again with a change, judging and saving nothing.
BUTTONS = {"add_post", "remove_post", "remove_image", "attach", "preview", "add_anchor", "back"}
EVERY_FIELD = sorted({name for names in FIELDS.values() for name in names})
# Texts typed into the composer and the review form, which must come back when refused.
TYPED_TEXT_FIELDS = {
    "timeline": ["text", "thread-1", "thread-2", "upload-alt-0"],
    "draft_edit": ["text", "thread-1", "thread-2", "upload-alt-0"],
    "review_decide": ["note", "anchor-0-body", "anchor-0-quote", "suggestion-0"],
}


# Every URL, from the URLconf ------------------------------------------------------------------

# Values for URL arguments that are not <int:...>.
OTHER_ARGUMENTS = {
    "kind": ["csv", "pdf", "xls"],
    "slug": [scenario_scripts.SCENARIOS[0].slug, "no-such-example"],
    "platform": ["mastodon", "bluesky"],
    "step": ["password", "no-such-step"],
    "action": ["done", "no-reply", "reopen", "no-such-action"],
    "app_label": ["sandbox", "coaching", "auth"],
    "object_id": [],  # from the world, plus hostile ones
    "content_type_id": ["1", "²"],
    "url": ["x"],
}


@dataclass(frozen=True)
class Route:
    name: str  # as reverse() takes it ("admin:..." for the admin)
    arguments: tuple[str, ...]
    integers: frozenset[str]  # the <int:...> ones

    def __str__(self) -> str:
        return self.name


def _routes(
    resolver: URLResolver,
    namespace: str = "",
    outer: tuple[str, ...] = (),
    outer_integers: frozenset[str] = frozenset(),
) -> Iterator[Route]:
    """Every named URL, with the arguments of the include() prefixes it sits under (allauth's
    passkeys are under keys/<int:pk>/)."""
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        arguments = outer + tuple(re.compile(pattern.regex.pattern).groupindex)
        converters = getattr(pattern, "converters", {})
        integers = outer_integers | frozenset(
            name for name, c in converters.items() if type(c).__name__ == "IntConverter"
        )
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry, inner, arguments, integers)
        elif isinstance(entry, URLPattern) and entry.name:
            yield Route(f"{namespace}{entry.name}", arguments, integers)


def all_routes() -> list[Route]:
    found = {route.name: route for route in _routes(get_resolver())}
    return sorted(found.values(), key=lambda route: route.name)


ROUTES = all_routes()
APP_ROUTES = [route for route in ROUTES if not route.name.startswith("admin:")]


def url_for(route: Route, values: dict[str, str]) -> str | None:
    """The URL with these argument values, or None if the URLconf cannot make it. A
    5,000-digit number cannot pass through reverse() (Python refuses to print it as an
    int), so it goes in by text."""
    long_ones = {name: value for name, value in values.items() if len(value) > 4000}
    stand_in = {name: ("424242" if name in long_ones else value) for name, value in values.items()}
    try:
        url = reverse(route.name, kwargs=stand_in or None)
    except Exception:  # NoReverseMatch, or a value the pattern does not allow
        return None
    for value in long_ones.values():
        url = url.replace("424242", value, 1)
    return url


# Counting ------------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # one line per 500
    bare_400s: list[str] = field(default_factory=list)  # Django's own "Bad Request (400)"
    by_status: dict[int, int] = field(default_factory=dict)


def _where(exc: BaseException) -> str:
    """The innermost line of Sandpit's own code the exception passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/.venv/" not in f.filename and "/tests/" not in f.filename]
    last = ours[-1] if ours else frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    counts = Tally()
    yield counts
    summary = {
        "requests": counts.requests,
        "server_errors": len(counts.errors),
        "bare_400s": len(counts.bare_400s),
        "by_status": dict(sorted(counts.by_status.items())),
        "first_errors": counts.errors[:20],
        "first_bare_400s": counts.bare_400s[:20],
    }
    out = Path(django_settings.BASE_DIR) / "var" / "hostile-input.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nhostile input: {counts.requests} requests, {len(counts.errors)} answered "
                f"500, {len(counts.bare_400s)} a bare 400 "
                f"(details in {out.relative_to(django_settings.BASE_DIR)})"
            )


def send(
    world: World,
    tally: Tally,
    role: str,
    url: str,
    pairs: list[tuple[str, Any]],
    encoding: str = "multipart",
    method: str = "POST",
) -> Any:
    """POST, counting; a 500 (an exception in the view) is recorded, not raised, so the
    test can say which request it was. Rolled back, whatever happened."""
    content_type, encode = ENCODINGS[encoding]
    client = world.clients[role]
    tally.requests += 1
    response = None
    # The session goes back too: POSTing to logout (or login) must not sign the client
    # out for every request after it.
    cookies = copy.deepcopy(client.cookies)
    try:
        with transaction.atomic():
            if method == "GET":
                response = client.get(url + "?" + urlencoded(pairs).decode())
            else:
                response = client.generic("POST", url, encode(pairs), content_type=content_type)
            transaction.set_rollback(True)
    except Exception as exc:  # the client re-raises what the view raised
        what = ", ".join(f"{n[:20]}={str(v)[:20]!r}" for n, v in pairs[:5])
        tally.errors.append(
            f"{_where(exc)} {exc!r:.120} <- {role} {method} {url[:60]} [{encoding}: {what}]"
        )
        return None
    finally:
        client.cookies = cookies
    status = response.status_code
    tally.by_status[status] = tally.by_status.get(status, 0) + 1
    if status >= 500:
        tally.errors.append(f"status {status} <- {role} {method} {url[:60]}")
    if status == 400 and b"<h1>Bad Request (400)</h1>" in response.content:
        tally.bare_400s.append(f"{role} {method} {url[:60]} [{encoding}]")
    return response


# The world, built once per test ---------------------------------------------------------------


@pytest.fixture
def world(
    request, organisation, account, trainee, other_trainee, coach, outside_coach, admin,
    x_double, private_media,
):  # fmt: skip
    draft = sandbox_services.draft_create(author=trainee, account=account, text="Clinic open")
    draft = coaching.draft_submit(draft=draft, by=trainee)
    editable = sandbox_services.draft_create(author=trainee, account=account, text="Still writing")
    image = factories.make_post_image(editable)
    reviewed = sandbox_services.draft_create(author=trainee, account=account, text="Come along")
    coaching.draft_submit(draft=reviewed, by=trainee)
    review = coaching.review_request_changes(
        draft=reviewed,
        by=coach,
        note="Say when.",
        scores=factories.SCORES,
        suggestion=["Come along on Friday"],
    )
    approved = sandbox_services.draft_create(author=trainee, account=account, text="Flu jabs")
    coaching.draft_submit(draft=approved, by=trainee)
    coaching.review_approve(draft=approved, by=coach, scores=factories.SCORES)
    publication = Publication.objects.get(draft=approved)
    stop = coaching.publishing_stop(
        by=coach, organisation_id=organisation.pk, account=account, reason="Testing"
    )
    example = scenario_scripts.SCENARIOS[0]
    import dataclasses

    scenario = sandbox_services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title=example.title,
        description=example.description,
        items=[dataclasses.asdict(item) for item in example.items],
    )
    run = sandbox_services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    item = sandbox_services.practice_post(author=trainee, account=account, text="Practice")
    cohort = Cohort.objects.create(organisation=organisation, name="Winter intake")
    people = {
        "trainee": trainee,
        "other_trainee": other_trainee,
        "coach": coach,
        "outside_coach": outside_coach,
        "admin": admin,
    }
    clients = {"anonymous": Client(raise_request_exception=True)}
    for role, person in people.items():
        clients[role] = factories.signed_in(Client(raise_request_exception=True), person)
    return World(
        clients=clients,
        draft=draft,
        editable=editable,
        reviewed=reviewed,
        review=review,
        publication=publication,
        stop=stop,
        scenario=scenario,
        run=run,
        cohort=cohort,
        item=item,
        image=image,
        membership=Membership.objects.get(user=trainee),
        notification=Notification.objects.filter(user=coach).first()
        or Notification.objects.first(),
        people=people,
        inbox_item=factories.InboxItemFactory(account=account, assigned_to=trainee),
        cover=AccountCover.objects.create(
            account=account,
            person=other_trainee,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate(),
        ),
    )


# Strategies ---------------------------------------------------------------------------------

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    # Anything at all, surrogates and control characters included.
    st.text(st.characters(exclude_categories=()), max_size=40),
)
uploads = st.builds(Upload, st.sampled_from(HOSTILE_FILE_NAMES), st.sampled_from(FILE_CONTENTS))


def value_for(world: World, name: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        hostile_text,
        st.sampled_from(world.plausible(name)),
        uploads,  # a file where text is expected (or where a file is expected)
    )


@st.composite
def payloads(draw: st.DrawFn, world: World, route: Route) -> list[tuple[str, Any]]:
    """Some of the view's fields (each maybe repeated), and some names it never reads."""
    own = [name.format(image=world.image.pk) for name in FIELDS.get(route.name.split(":")[-1], [])]
    names = draw(st.lists(st.sampled_from(own), unique=True)) if own else []
    names += draw(st.lists(st.sampled_from(EVERY_FIELD), max_size=2))
    names += draw(st.lists(st.text(st.characters(exclude_categories=()), max_size=12), max_size=2))
    pairs = []
    for name in names:
        for _ in range(draw(st.integers(1, 3))):  # repeated fields
            pairs.append((name, draw(value_for(world, name))))
    return pairs


@st.composite
def urls(draw: st.DrawFn, world: World, route: Route) -> str | None:
    values = {}
    for argument in route.arguments:
        if argument in route.integers or argument == "object_id":
            choices = world.real_pks(route, argument) + HOSTILE_PKS
            if argument == "object_id":  # <path:...>: any text at all
                choices += ["²", "%00", "../../etc/passwd"]
        else:
            choices = OTHER_ARGUMENTS.get(argument, ["x"])
        values[argument] = draw(st.sampled_from(choices))
    return url_for(route, values)


# The tests ----------------------------------------------------------------------------------


def _assert_no_server_errors(tally: Tally, since: tuple[int, int]) -> None:
    errors, bare = tally.errors[since[0] :], tally.bare_400s[since[1] :]
    assert not errors, f"{len(errors)} request(s) answered 500:\n" + "\n".join(errors[:15])
    assert not bare, f"{len(bare)} request(s) got a bare 400:\n" + "\n".join(bare[:15])


def _mark(tally: Tally) -> tuple[int, int]:
    return len(tally.errors), len(tally.bare_400s)


def _turned_away(response: Any) -> bool:
    """Stopped at the door (signed out, not allowed, no such thing for them, or a view
    that does not take POST), whatever the body says."""
    if response.status_code == 302:
        return response["Location"].startswith(reverse("account_login"))
    return response.status_code in (403, 404, 405)


def test_every_post_view_as_every_role_with_each_kind_of_hostile_value(world, tally):
    """A sweep that cannot miss a view or a role. First believable values, to see whether
    the role gets past the door; a role that does then gets every field the view reads,
    and three it does not, set to hostile values in turn (rotated, so between them the
    fields meet every value), alternately as multipart and urlencoded, with one field
    repeated. A role turned away gets two hostile bodies, which must not break the door.
    Every role also sends a JSON body, which no view reads."""
    since = _mark(tally)
    values: list[Any] = [*HOSTILE_TEXT, *(Upload(n, _png()) for n in HOSTILE_FILE_NAMES)]
    for route in APP_ROUTES:
        url = url_for(
            route,
            {
                argument: world.real_pks(route, argument)[0]
                if argument in route.integers
                else OTHER_ARGUMENTS.get(argument, ["x"])[0]
                for argument in route.arguments
            },
        )
        assert url is not None, route
        names = [n.format(image=world.image.pk) for n in FIELDS.get(route.name, [])]
        # Three names at least, so that with the rotation's step of 3 the fields between
        # them meet every value.
        names += ["made-up", "made-up-2", "made-up-3"]
        for role in ROLES:
            believable = [(name, world.plausible(name)[0]) for name in names]
            probe = send(world, tally, role, url, believable)
            if probe is None:
                continue  # a 500, already counted
            turns = range(2) if _turned_away(probe) else range(0, len(values), 3)
            for n, turn in enumerate(turns):
                pairs = [(name, values[(i + turn) % len(values)]) for i, name in enumerate(names)]
                pairs.append((names[0], values[(turn + 1) % len(values)]))
                if n // 2 % 2 == 0:
                    # Half the time no buttons that only change the form (add a post, a
                    # note box...), so the view judges the values and tries to save them.
                    pairs = [(name, value) for name, value in pairs if name not in BUTTONS]
                send(world, tally, role, url, pairs, "multipart" if n % 2 == 0 else "urlencoded")
            send(world, tally, role, url, [("made-up", "1")], "json")
    _assert_no_server_errors(tally, since)


# What the pages read from the query string (filters, pages, the OAuth callback's answer).
QUERY_FIELDS = [
    "organisation", "page", "minutes", "decision", "scope", "trainee", "cohort", "account",
    "age", "date_from", "date_to", "action", "actor", "draft", "state", "code", "error",
]  # fmt: skip


def test_every_page_as_every_role_with_a_hostile_query_string(world, tally):
    """The same for GET: every query-string field any page reads, hostile, rotated. Not
    the health check, which waits for a Celery worker this test does not run."""
    since = _mark(tally)
    values = [v for v in HOSTILE_TEXT if len(v) < 10_000]  # a URL, not a body
    for route in APP_ROUTES:
        if route.name == "health":
            continue
        url = url_for(
            route,
            {
                argument: world.real_pks(route, argument)[0]
                if argument in route.integers
                else OTHER_ARGUMENTS.get(argument, ["x"])[0]
                for argument in route.arguments
            },
        )
        assert url is not None, route
        for role in ROLES:
            for turn in range(0, len(values), 8):
                pairs = [
                    (name, values[(i + turn) % len(values)]) for i, name in enumerate(QUERY_FIELDS)
                ]
                send(world, tally, role, url, pairs, method="GET")
    _assert_no_server_errors(tally, since)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_hostile_post_to_any_url_never_gets_a_500(world, tally, data):
    """Random URLs (the admin's too), roles, URL arguments (real and hostile), fields
    (the view's own, repeated, and made-up ones), values and encodings."""
    since = _mark(tally)
    route = data.draw(st.sampled_from(ROUTES), label="route")
    url = data.draw(urls(world, route), label="url")
    if url is None:
        return
    role = data.draw(st.sampled_from(ROLES), label="role")
    pairs = data.draw(payloads(world, route), label="body")
    encoding = data.draw(st.sampled_from(sorted(ENCODINGS)), label="encoding")
    send(world, tally, role, url, pairs, encoding)
    _assert_no_server_errors(tally, since)


# Refused input keeps what was typed -------------------------------------------------------------

MARKER = "Typed by hand, keep me"


def _typed_back(response: Any, typed: str) -> bool:
    """The typed text as the page shows it in its box: HTML-escaped, and decoded as
    Django decodes a body (broken UTF-8 becomes U+FFFD)."""
    decoded = _bytes(typed).decode("utf-8", "replace")
    return escape(decoded) in response.content.decode()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    view=st.sampled_from(sorted(TYPED_TEXT_FIELDS)),
    hostile=st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "9" * 5000, "²"]),
    file_name=st.sampled_from(HOSTILE_FILE_NAMES),
)
def test_refused_composer_and_review_forms_keep_what_was_typed(
    world, tally, data, view, hostile, file_name
):
    """One box gets a hostile value (and the composer a hostile file name); every other
    box the person typed in comes back in the page, with a message, not a 400 or 500."""
    since = _mark(tally)
    boxes = TYPED_TEXT_FIELDS[view]
    spoiled = data.draw(st.sampled_from(boxes), label="spoiled box")
    typed = {box: f"{MARKER} in {box}" for box in boxes}
    typed[spoiled] = f"{MARKER} {hostile}"
    if view == "review_decide":
        url, role = reverse(view, args=[world.draft.pk]), "coach"
        extra = [
            ("decision", "request_changes"),
            ("revision", str(world.draft.current_revision_id)),
            *factories.SCORES.items(),
        ]
    else:
        role = "trainee"
        url = reverse(view, args=[world.editable.pk]) if view == "draft_edit" else reverse(view)
        extra = [("account", str(world.draft.account_id)), ("upload-0", Upload(file_name, _png()))]
    response = send(world, tally, role, url, [*typed.items(), *extra], "multipart")
    _assert_no_server_errors(tally, since)
    assert response is not None
    if response.status_code in (301, 302, 303):
        return  # saved: nothing was refused, so nothing had to come back
    assert response.status_code in (200, 422), response.status_code
    for box, text in typed.items():
        assert _typed_back(response, text), f"{box!r} did not come back in the page"
    if "\x00" in hostile:
        assert response.status_code == 422
        assert escape("contains a character that can't be saved") in response.content.decode()


# Upload file names ------------------------------------------------------------------------------


def test_a_5000_character_file_name_keeps_the_post_and_attaches_the_image(world):
    """Through the CSRF check, as a browser comes: the check reads the body before the
    view, and that is where Django's parser used to refuse it with a bare 400."""
    client = Client(enforce_csrf_checks=True)
    factories.signed_in(client, world.people["trainee"])
    page = client.get(reverse("timeline")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "the timeline's composer carries a CSRF token"
    body = multipart(
        [
            ("csrfmiddlewaretoken", token.group(1)),
            ("text", MARKER),
            ("account", str(world.draft.account_id)),
            ("upload-0", Upload("a" * 5000 + ".png", _png())),
            ("upload-alt-0", "A teal square"),
            ("attach", ""),
        ]
    )
    response = client.generic(
        "POST", reverse("timeline"), body, content_type=ENCODINGS["multipart"][0]
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert MARKER in page
    image = PostImage.objects.filter(uploaded_by=world.people["trainee"], draft=None).get()
    assert f'name="alt-0-{image.pk}"' in page
    assert "A teal square" in page
    assert "a" * 100 not in image.file.name  # stored under a random name, as always


class Trickle(io.BytesIO):
    """A body that arrives a few bytes at a time, as a slow network hands it over."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self.step if size is None or size < 0 else min(size, self.step))


def parse(body: bytes, *, step: int, ours: bool) -> tuple[list[Any], dict[str, Any]]:
    """POST and FILES, by Django's own parser alone, or with ShortFileNames first."""
    request = SimpleNamespace(upload_handlers=[])
    handlers = [MemoryFileUploadHandler(request), TemporaryFileUploadHandler(request)]
    if ours:
        handlers.insert(0, ShortFileNames(request))
    request.upload_handlers = handlers
    meta = {"CONTENT_TYPE": ENCODINGS["multipart"][0], "CONTENT_LENGTH": str(len(body))}
    post, files = MultiPartParser(meta, Trickle(body, step), handlers, "utf-8").parse()
    return sorted(post.lists()), {
        name: [(f.name, f.read()) for f in uploaded] for name, uploaded in files.lists()
    }


field_names = st.text(st.sampled_from("abcdefghij-_0123456789"), min_size=1, max_size=12)
parts = st.lists(
    st.one_of(
        st.tuples(field_names, st.text(max_size=300)),
        st.tuples(
            field_names,
            st.builds(
                Upload,
                st.text(st.sampled_from("abc.xyz-_ 12"), min_size=1, max_size=40),
                st.binary(max_size=3000),
            ),
        ),
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(pairs=parts, step=st.integers(1, 700))
def test_the_parser_reads_ordinary_bodies_exactly_as_django_does(pairs, step):
    """However the body arrives, in pieces cut anywhere (through a boundary too)."""
    body = multipart(pairs)
    assert parse(body, step=step, ours=True) == parse(body, step=len(body) + 1, ours=False)


@settings(max_examples=60, deadline=None)
@given(
    pairs=parts,
    name=st.sampled_from([*HOSTILE_FILE_NAMES[:4], "é" * 3000 + ".jpg", "\\x" * 900]),
    step=st.integers(1, 700),
)
def test_the_parser_shortens_a_long_file_name_and_keeps_everything_else(pairs, name, step):
    """Django alone refuses these bodies outright; with ShortFileNames every field and
    every file arrives as sent, only the long file name is cut to a short hint."""
    after = [("text", MARKER)]
    post, files = parse(
        multipart([*pairs, ("upload-0", Upload(name, _png())), *after]), step=step, ours=True
    )
    expected_post, expected_files = parse(
        multipart([*pairs, ("upload-0", Upload("stand-in.png", _png())), *after]),
        step=10**6,
        ours=False,
    )
    assert post == expected_post
    (kept_name, content) = files.pop("upload-0")[-1]
    assert (expected_files.pop("upload-0")[-1][1]) == content == _png()
    assert files == expected_files
    assert len(kept_name) <= 255
    if len(name) > 1000:
        assert len(kept_name) <= 60
        assert kept_name.endswith(name[-4:] if name[-4] == "." else "")


# The two rules, on their own -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("42", 42),
        ("007", 7),
        ("9" * 18, 10**18 - 1),
        ("9" * 19, None),  # could be past a bigint
        ("9" * 5000, None),  # past Python's limit for reading an int
        ("²", None),
        ("١٢٣", None),
        ("1²", None),
        ("-1", None),
        (" 7 ", None),
        ("1_0", None),
        ("", None),
        (None, None),
        (["1"], None),
    ],
)
def test_id_from_takes_ascii_digits_only_and_never_too_many(sent, read):
    assert id_from(sent) == read


def _form_classes() -> list[type[forms.BaseForm]]:
    return [
        value
        for module in (sandbox_forms, coaching_forms)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, forms.BaseForm)
        and value.__module__ == module.__name__
    ]


def test_every_free_text_field_in_sandpit_forms_refuses_unsaveable_text():
    """Each CharField of every form of ours is a TextField, including those a form adds
    as it is made (the Bluesky handle)."""
    fields = [
        (f"{form.__name__}.{name}", form_field)
        for form in _form_classes()
        for name, form_field in form.base_fields.items()
    ]
    fields += [
        (f"ConnectForm.{n}", f) for n, f in coaching_forms.ConnectForm("bluesky").fields.items()
    ]
    assert len(fields) > 20
    for name, form_field in fields:
        if isinstance(form_field, forms.CharField):
            assert isinstance(form_field, sandbox_forms.TextField), name
            for text in ("a\x00b", "x\ud800y"):
                with pytest.raises(ValidationError) as refused:
                    form_field.run_validators(text)
                assert refused.value.messages == [sandbox_forms.unsaveable_message()], name
