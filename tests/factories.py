import time
from collections.abc import Callable

import factory
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client

from sandbox.models import Membership, Organisation, WorkplaceAccount

X_TOKEN = "test-x-access-token"
# The organisation's accounts on the Mastodon and Bluesky doubles (tests/conftest.py).
# Shaped as the platforms make them: connecting refuses any other shape.
MASTODON_USER, MASTODON_TOKEN = "board", "Zq3v_Nm8rT5yW1xK0pL7bC9dF2gH4jS6aE-uIoYt_Qw"
BLUESKY_HANDLE, BLUESKY_APP_PASSWORD = "board.test", "bd7x-k2mq-9rtp-w4nc"
PASSWORD = "correct horse battery staple"
# A complete rubric, as the review form sends it: every decision there is scored.
SCORES = {"safe": "3", "person_centred": "3", "effective": "3"}
# A post with a patient identifier in it (a test-range NHS number): the checks block it.
NHS_NUMBER_POST = "Great to see Mrs Brown, NHS no 999 200 2972, walking again!"
# A scenario of three posts: the first arrives at once, the second two minutes later.
SCENARIO_SCRIPT = (
    "0 | wake-up-kelderby | The flu clinic on Saturday uses out-of-date vaccines\n"
    "2 | amara-okafor | reply: Is this true?? Mine are booked in\n"
    "30 | kelderby-echo | Parents cancel flu jabs after online rumour"
)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    # Production's default is True (coaches and admins need a second factor); the tests of
    # that rule turn it on (tests/sandbox/test_signin.py), the rest test other things.
    second_factor_required = False


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.django.Password(PASSWORD)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkplaceAccount

    organisation = factory.SubFactory(OrganisationFactory)
    handle = factory.Sequence(lambda n: f"Account{n}")
    display_name = factory.LazyAttribute(lambda a: f"{a.organisation.name}")
    access_token = X_TOKEN


def member(organisation: Organisation, role: str, **user_fields: object):
    user = UserFactory(**user_fields)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def signed_in(client: Client, user: AbstractBaseUser) -> Client:
    """The test client, signed in as the user through the real password check."""
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def client_for(request: pytest.FixtureRequest, client: Client, who: str) -> Client:
    """The client signed in as a named user fixture ("trainee", "outside_coach", ...), or
    left signed out for "anonymous", so permission tables read like sentences."""
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    return client


from sandbox.models import Draft, PostImage  # noqa: E402 - appended with the image factory


def make_post_image(
    draft: Draft, *, colour: str = "teal", size: tuple[int, int] = (64, 48), fmt: str = "PNG"
) -> PostImage:
    """A real image (Pillow) saved through PostImage.file, as an upload would leave it.
    Set MEDIA_ROOT to a temporary directory in the test."""
    import hashlib
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    data = buffer.getvalue()
    extension = "jpg" if fmt == "JPEG" else fmt.lower()
    image = PostImage(
        draft=draft,
        uploaded_by=draft.author,
        content_type=f"image/{'jpeg' if fmt == 'JPEG' else fmt.lower()}",
        width=size[0],
        height=size[1],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    image.file.save(f"{colour}.{extension}", ContentFile(data), save=True)
    return image


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> object:
    """``predicate()``'s first true value, polled until ``timeout`` seconds have passed (for
    what a real worker does in its own thread or process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


from django.utils import timezone  # noqa: E402 - appended with the inbox factory

from coaching.models import InboxItem  # noqa: E402


class InboxItemFactory(factory.django.DjangoModelFactory):
    """A post by the public on the organisation's account, as the inbox fetch stores it.
    ``remote_id`` should name a real post on the platform's double when it is answered."""

    class Meta:
        model = InboxItem

    account = factory.SubFactory(AccountFactory)
    remote_id = factory.Sequence(lambda n: f"17{n:08d}")
    remote_url = factory.LazyAttribute(lambda i: f"https://x.example/status/{i.remote_id}")
    kind = InboxItem.Kind.MENTION
    author_handle = factory.Sequence(lambda n: f"resident{n}")
    author_name = factory.Sequence(lambda n: f"Resident {n}")
    text = factory.Sequence(lambda n: f"@NHSDemoBoard is the walk-in centre open on Sunday? ({n})")
    posted_at = factory.LazyFunction(timezone.now)
    # Fetched as soon as it was posted, unless a test says otherwise.
    fetched_at = factory.LazyAttribute(lambda i: i.posted_at)


def inbox_item(account: WorkplaceAccount, **fields: object) -> InboxItem:
    return InboxItemFactory.create(account=account, **fields)
