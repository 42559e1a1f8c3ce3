"""An admin answers a subject access request and an erasure request from the browser: the
export's progress bar fills as the real worker builds the zip, the zip downloads, and the
erasure confirmation refuses a wrong name before it erases. Each page through axe."""

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from coaching.selectors.erasure import is_erased
from sandbox.models import Membership
from tests import builders
from tests.browser.people import sign_in
from tests.browser.test_accessibility import violations


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_admin_exports_then_erases_a_person_in_the_browser(
    new_page, live_server, celery_worker, admin, trainee, account, organisation, private_media
):
    builders.draft(trainee, account, "A practice post about the car park")
    membership = Membership.objects.get(user=trainee, organisation=organisation)
    page = new_page(bypass_csp=True)
    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}{reverse('person', args=[membership.pk])}")
    page.get_by_role("button", name="Export everything about Tara").click()
    page.get_by_text("Ready: one zip file").wait_for(timeout=60_000)
    assert violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the zip").click()
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        data = json.loads(archive.read("data.json"))
    assert [r["text"] for r in data["revisions"]] == ["A practice post about the car park"]

    page.goto(f"{live_server.url}{reverse('person', args=[membership.pk])}")
    page.get_by_role("link", name="Erase Tara").click()
    assert page.get_by_role("heading", name="Their posts that are live now").is_visible()
    assert violations(page) == []
    page.get_by_label("Type their name to confirm").fill("Tera")
    page.get_by_role("button", name="Erase Tara").click()
    assert page.get_by_text("Type Tara exactly as shown").first.is_visible()
    assert page.get_by_label("Type their name to confirm").input_value() == "Tera"
    assert violations(page) == []
    page.get_by_label("Type their name to confirm").fill("Tara")
    page.get_by_role("button", name="Erase Tara").click()
    page.get_by_text("The audit log now calls them former-member-").wait_for()
    assert is_erased(User.objects.get(pk=trainee.pk))
