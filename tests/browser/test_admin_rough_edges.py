"""What confused a new admin (issue 14, item 3), each fix seen in the browser: turning SSO on
before a Test sign-in passed asks on a page of its own; the Test sign-in says when it cannot work
over plain http; the Secret Key is shown once and a reload shows neither it nor "Generate a new
Secret Key?"; the overview shows SCIM once, with the client that used it last; every Activity row
is a sentence, searchable, downloadable as CSV; a refused metadata file is explained in plain
words. The live server is plain http, as `make run` is."""

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from accounts import services
from scim import keys
from scim.tenant import tenant_url
from sso.models import SamlConnection
from tests import factories
from tests.browser import journey
from tests.browser.journey import Person, ScimHttpClient, members, okta_user, patch, where
from tests.scim.conftest import ENTRA_AGENT, OKTA_AGENT
from tests.sso.idp import okta_idp

pytestmark = pytest.mark.django_db(transaction=True)

DANA = Person("Dana", "Smith", "dana@initech.example", external_id="00u1dana0SMITH")
QUINN = Person("Quinn", "Lee", "quinn@initech.example", external_id="00u2quinn0LEE")
CASEY = Person("Casey", "Day", "casey@initech.example", external_id="00u3casey0DAY")


def test_turning_sso_on_untested_asks_and_test_sign_in_says_it_cannot_work_over_http(
    page: Page, shot: Any, live_server: Any
) -> None:
    base = live_server.url
    initech, admin = journey.organisation_with_admin("initech", "Initech")
    journey.sign_in_as_admin(page, base, initech, admin)
    journey.open_single_sign_on(page)
    journey.open_provider(page, "Okta")
    okta = okta_idp()  # https://…okta.com: another site than this http one
    journey.upload_metadata_file(page, okta.metadata_xml(), "metadata.xml")

    # The Test sign-in says plainly that it cannot come back here, before the IdP.
    warning = page.locator("#test-blocked")
    expect(warning).to_contain_text("A Test sign-in cannot work here: this site runs on plain http")
    expect(warning).to_contain_text("Serve auzlearn over https and set PUBLIC_BASE_URL")
    shot("test-sign-in-warning")
    page.get_by_role("button", name="Test sign-in").click()
    journey.expect_message(page, "A Test sign-in cannot work here")
    assert page.url.startswith(base), "the browser never went to the IdP"

    # Turning SSO on before any test passed asks on a page of its own (no script dialog).
    journey.set_switches(page, confirm_untested=False, **{"Sign in with Okta": True})
    question = page.get_by_role("heading", name=journey.UNTESTED_TITLE)
    expect(question).to_have_text("Turn on sign-in with Okta without a passed Test sign-in?")
    expect(page.get_by_text("No Test sign-in with Okta has passed yet.")).to_be_visible()
    shot("turn-on-untested-confirmation")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("switch", name="Sign in with Okta")).not_to_be_checked()
    connection = SamlConnection.objects.get(organisation=initech, provider="okta")
    assert not connection.enabled

    journey.set_switches(page, confirm_untested=False, **{"Sign in with Okta": True})
    page.get_by_role("button", name="Yes, turn it on without a test").click()
    journey.expect_message(page, "Saved.")
    expect(page.get_by_role("switch", name="Sign in with Okta")).to_be_checked()
    connection.refresh_from_db()
    assert connection.enabled


def test_the_new_key_is_shown_once_and_a_reload_shows_neither_it_nor_the_replace_prompt(
    page: Page, shot: Any, live_server: Any
) -> None:
    base = live_server.url
    initech, admin = journey.organisation_with_admin("initech", "Initech")
    journey.sign_in_as_admin(page, base, initech, admin)
    journey.open_single_sign_on(page)
    journey.open_provider(page, "Okta")
    journey.open_tab(page, "Okta", "SCIM")
    journey.enable_scim(page)

    key = journey.generate_key(page)
    assert "#new-key" in page.url and key not in page.url
    # One box holds the key; nothing else on the tab reads like a key.
    expect(page.locator("input.copy-value")).to_have_count(2)  # the Tenant URL and the key
    expect(page.get_by_text("Current key")).to_have_count(0)
    assert journey.copy(page, "Secret Key") == key
    shot("new-key-shown-once")

    page.reload()
    expect(page.get_by_role("heading", name="Generate a new Secret Key?")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Secret Key")).to_have_count(0)
    expect(page.get_by_role("heading", name="Current key")).to_be_visible()
    expect(page.locator("#current-key")).to_contain_text(f"{key[:8]}…")
    assert key not in page.content()
    shot("after-reload")

    # Rotation as the README describes: asked first, both keys, the old one stopped on demand.
    page.get_by_role("button", name="Generate Key").click()
    expect(page.get_by_role("heading", name="Generate a new Secret Key?")).to_be_visible()
    page.get_by_role("button", name="Generate a new key").click()
    second = page.get_by_role("textbox", name="Secret Key").input_value()
    assert second != key
    expect(page.get_by_role("heading", name="Old key, still working")).to_be_visible()
    page.get_by_role("button", name="Stop the old key now").click()
    page.get_by_role("button", name="Stop the old key now").click()
    journey.expect_message(page, f"The old key {key[:8]}… is stopped")


def test_overview_shows_scim_once_with_the_client_that_used_it_last(
    page: Page, shot: Any, live_server: Any
) -> None:
    base = live_server.url
    initech, admin = journey.organisation_with_admin("initech", "Initech")
    okta_scim = provisioning_client(initech, OKTA_AGENT)
    assert okta_scim.get("Users?startIndex=1&count=2").status == 200

    journey.sign_in_as_admin(page, base, initech, admin)
    journey.open_single_sign_on(page)
    summary = page.get_by_role("region", name="Provisioning (SCIM)")
    expect(summary).to_contain_text("SCIM on")
    expect(summary).to_contain_text("from Okta")
    expect(page.get_by_text("SCIM on")).to_have_count(1)
    entra_card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Microsoft Entra ID")
    )
    expect(entra_card).not_to_contain_text(re.compile("SCIM (on|off)|SCIM request"))
    expect(entra_card.get_by_role("link")).to_have_text("Set up Microsoft Entra ID")
    okta_card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Okta"))
    expect(okta_card).to_contain_text("Sent the last SCIM request")
    shot("overview-scim-once")

    summary.get_by_role("link", name="SCIM settings on Okta").click()
    expect(journey.current_tab(page, "Okta")).to_have_text("SCIM")


def test_activity_rows_are_sentences_searchable_and_downloadable(
    page: Page, shot: Any, live_server: Any
) -> None:
    base = live_server.url
    initech, admin = journey.organisation_with_admin("initech", "Initech")
    okta = provisioning_client(initech, OKTA_AGENT)
    assert (
        okta.get("Users?" + where(f'userName eq "{DANA.username}"')).document["totalResults"] == 0
    )
    ids = {}
    for person in (DANA, QUINN, CASEY):
        ids[person.username] = okta.post("Users", okta_user(person)).document["id"]
    sales = okta.post("Groups", {"displayName": "=Sales", "members": []}).document["id"]
    okta.patch(
        f"Groups/{sales}",
        patch({"op": "add", "path": "members", "value": members(*ids.values())}),
    )
    okta.patch(f"Users/{ids[DANA.username]}", patch({"op": "replace", "value": {"active": False}}))
    entra = provisioning_client(initech, ENTRA_AGENT, key=okta.key)
    assert entra.delete(f"Users/{ids[CASEY.username]}").status == 204

    journey.sign_in_as_admin(page, base, initech, admin)
    page.goto(f"{base}/settings/sso/okta/activity/")
    page.get_by_role("link", name="SCIM requests").click()
    rows = journey.scim_log_rows(page)
    expect(rows.first).to_contain_text("Entra deleted Casey Day.")
    expect(rows.nth(1)).to_contain_text("Okta deactivated Dana Smith.")
    expect(rows.nth(2)).to_contain_text("Okta added 3 people to =Sales.")
    expect(rows.last).to_contain_text(f"Okta looked up {DANA.username}: not found.")
    rows.nth(1).get_by_text("The request").click()
    expect(rows.nth(1).locator("details code")).to_have_text(f"PATCH /Users/{ids[DANA.username]}")
    shot("activity-sentences")

    page.get_by_label("Person or team").fill("Dana Smith")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Okta deactivated Dana Smith.")
    expect(page.get_by_text("3 requests about “Dana Smith”")).to_be_visible()
    shot("activity-search")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these as CSV").click()
    download = download_info.value
    assert re.fullmatch(
        r"scim-requests-initech-\d{4}-\d\d-\d\d-\d{4}\.csv", download.suggested_filename
    )
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [row[1] for row in table[1:]] == [
        "Okta deactivated Dana Smith.",
        "Okta added Dana Smith.",
        f"Okta looked up {DANA.username}: not found.",
    ]

    page.get_by_label("Person or team").fill("=Sales")
    page.get_by_role("button", name="Search").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these as CSV").click()
    cells = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "'=Sales" in cells and ",=Sales" not in cells


def test_a_refused_metadata_file_is_explained_in_plain_words_first(
    page: Page, shot: Any, live_server: Any
) -> None:
    base = live_server.url
    initech, admin = journey.organisation_with_admin("initech", "Initech")
    journey.sign_in_as_admin(page, base, initech, admin)
    journey.open_single_sign_on(page)
    journey.open_provider(page, "Okta")

    not_xml = FilePayload(
        name="metadata.xml", mimeType="application/xml", buffer=b"Sign in to Okta"
    )
    page.get_by_label("Metadata XML file").set_input_files(files=[not_xml])
    page.get_by_role("button", name="Upload metadata").click()

    error = page.locator(".field-error")
    expect(error).to_have_count(1)
    expect(error).to_contain_text(
        re.compile(
            r"^This file is not XML\. In Okta, open the app's Sign On tab and download the "
            r"metadata.*Details: The metadata is not valid XML"
        )
    )
    shot("metadata-not-xml")
    assert not SamlConnection.objects.get(organisation=initech, provider="okta").is_configured


def provisioning_client(organisation: Any, agent: str, key: str = "") -> ScimHttpClient:
    """Okta or Entra with the organisation's Tenant URL and a key, as the admin gave them."""
    if not key:
        services.organisation_update(
            organisation=organisation, actor=factories.SYSTEM, scim_enabled=True
        )
        key = keys.issue(organisation=organisation, actor=factories.SYSTEM, created_by=None).secret
    return ScimHttpClient(tenant_url(organisation), key, agent)
