"""Fixtures of the CLI tests: a real headless browser for the report's page."""

from __future__ import annotations

import shutil

import pytest


def _browser_binaries() -> tuple[str | None, str | None]:
    browser = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    return browser, shutil.which("chromedriver")


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    binary, driver = _browser_binaries()
    if not binary or not driver:
        pytest.skip(
            "no chromium/chromedriver on PATH: `make browser` installs them (apt-get install chromium "
            "chromium-driver, as root)"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,1100")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    yield session
    session.quit()
