"""The report page in a real headless browser (Debian's chromium + chromedriver, driven by selenium):
no console error, the filter and the verdict select work, a hostile group name is text, sorting
works; a screenshot is kept as a test artifact (build/test-artifacts/report.png).

``make test`` installs chromium and chromedriver first where it can (the Makefile's ``browser``
target); the test is skipped, saying why, only when no browser can be had.
(The README's picture is the demo's estate instead: scripts/report_screenshot.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.report import XSS_NAME, make_estate, run_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts"


def _visible_servers(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        b.get_attribute("data-name") for b in browser.find_elements(By.CSS_SELECTOR, "tbody.server") if b.is_displayed()
    ]


def test_the_report_page_in_headless_chromium(cloud, vpc_v3, tmp_path, browser):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    make_estate(cloud, vpc_v3)
    code, _, err = run_report(cloud, tmp_path)
    assert code == 0, err
    page = tmp_path / "report.html"
    browser.get(page.as_uri())
    with pytest.raises(NoAlertPresentException):  # an injected onerror would have fired on load
        browser.switch_to.alert.text  # noqa: B018
    browser.execute_script("window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };")

    assert sorted(_visible_servers(browser)) == ["db-01", "legacy-app-01"]
    assert browser.find_element(By.ID, "summary").text.count("%") == 1

    # the text filter: typing one server's name hides the other
    box = browser.find_element(By.ID, "filter")
    box.send_keys("legacy")
    assert _visible_servers(browser) == ["legacy-app-01"]
    assert browser.find_element(By.ID, "shown").text == "1"
    box.clear()
    box.send_keys(" ")  # an input event; blank matches every server
    assert sorted(_visible_servers(browser)) == ["db-01", "legacy-app-01"]

    # the verdict select: drift_detected only
    Select(browser.find_element(By.ID, "verdict")).select_by_value("drift_detected")
    assert _visible_servers(browser) == ["db-01"]
    Select(browser.find_element(By.ID, "verdict")).select_by_value("")

    # sortable columns: by name, ascending then descending
    header = browser.find_element(By.CSS_SELECTOR, 'th[data-sort="name"]')
    header.click()
    assert _visible_servers(browser) == ["db-01", "legacy-app-01"]
    header.click()
    assert _visible_servers(browser) == ["legacy-app-01", "db-01"]

    # the drifted server's detail: the hostile name is text, its group highlighted as an exposure
    browser.find_element(By.CSS_SELECTOR, 'tbody.server[data-name="db-01"] tr.row').click()
    exposing = browser.find_elements(By.CSS_SELECTOR, 'tbody.server[data-name="db-01"] .group.exposes h4')
    assert exposing and XSS_NAME in exposing[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []  # no element was injected
    assert browser.execute_script("return window.__alerts") == []
    assert "Inbound" in browser.find_element(By.CSS_SELECTOR, 'tbody.server[data-name="db-01"] tr.detail').text

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe

    header.click()  # db-01 (drifted, expanded) first: the picture the README shows
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_printed_the_report_shows_every_detail(cloud, vpc_v3, tmp_path, browser):
    from selenium.webdriver.common.by import By

    make_estate(cloud, vpc_v3)
    code, _, err = run_report(cloud, tmp_path)
    assert code == 0, err
    browser.get((tmp_path / "report.html").as_uri())
    details = browser.find_elements(By.CSS_SELECTOR, "tr.detail")
    assert details and not any(d.is_displayed() for d in details)  # on screen: collapsed until clicked
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert all(d.is_displayed() for d in details)
    assert not browser.find_element(By.CSS_SELECTOR, ".controls").is_displayed()
    text = browser.find_element(By.CSS_SELECTOR, 'tbody.server[data-name="db-01"] tr.detail').text
    assert "Inbound" in text and "fix:" in text and XSS_NAME in text  # groups, rules and fixes on paper
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
    assert len(pdf["data"]) > 10_000
