"""Sign-in and access in a real browser (Debian's Chromium via Playwright) against the real server on
loopback: a user of group "bau" signs in, sees only the collections of her group, and neither the
collection picker, the sources panel, "Alle Sammlungen" nor the about page shows anything of the
personnel collection. The sign-in page passes axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.test_access import PASSWORDS, SECRET_QUESTION, SECRETS, site  # noqa: F401 (fixture)
from tests.test_ui_browser import assert_accessible, chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with chromium() as context:
        yield context


def sign_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Benutzername").fill(name)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def test_sign_in_page_is_german_accessible_and_refuses_wrong_passwords(browser: BrowserContext, site) -> None:  # noqa: F811
    page = browser.new_page()
    page.goto(site["url"] + "/")
    assert page.url.endswith("/anmelden") and page.evaluate("document.documentElement.lang") == "de"
    assert_accessible(page, "sign-in page")
    sign_in(page, site["url"], "anna", "falsches-passwort")
    assert page.get_by_role("alert").inner_text() == "Benutzername oder Passwort ist falsch."
    assert_accessible(page, "sign-in page with error")
    page.close()


def test_group_member_sees_only_her_collections(browser: BrowserContext, site) -> None:  # noqa: F811
    page = browser.new_page()
    sign_in(page, site["url"], "anna", PASSWORDS["anna"])
    page.locator("#kw-question textarea").wait_for(state="visible", timeout=120_000)
    page.get_by_text("Angemeldet als").wait_for()
    assert "anna" in page.locator("#kw-user").inner_text()

    page.locator("#kw-collection input").click()
    options = [o.split("\n")[-1].strip() for o in page.get_by_role("option").all_inner_texts()]
    assert "Alle Sammlungen" in options and "Bauamt" in options, options
    assert "Personalsachen" not in options, options
    page.get_by_role("option", name="Alle Sammlungen", exact=True).click()

    page.get_by_role("textbox", name="Ihre Frage").fill(SECRET_QUESTION)
    page.get_by_role("button", name="Fragen", exact=True).click()
    page.wait_for_function(
        """() => document.querySelectorAll('#kw-chat [data-testid="bot"]').length >= 1
                 && document.querySelectorAll('#kw-sources article.kw-source').length >= 1
                 && !document.querySelector('#kw-chat .generating')""",
        timeout=120_000,
    )
    titles = page.locator("#kw-sources article h4").all_inner_texts()
    assert titles and all("Bauantrag" in t for t in titles), titles
    page.get_by_role("tab", name="Über dieses System").click()
    page.locator("#kw-about").get_by_role("heading", name="Über dieses System").wait_for()
    about = page.locator("#kw-about").inner_text()
    assert "Bauamt" in about
    body = page.content()
    assert not [s for s in SECRETS if s in body], [s for s in SECRETS if s in body]

    page.get_by_role("link", name="Abmelden").click()
    page.wait_for_url("**/anmelden")
    page.goto(site["url"] + "/")
    assert page.url.endswith("/anmelden")  # the session is gone
    page.close()
