"""The dashboard in a real browser (Debian's headless Chromium driven by Selenium through Debian's
chromedriver): log in with the admin key, create a key, see its call appear in the chart and the
recent requests."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        # not a CI service like PostgreSQL and Redis: `make test` installs it with apt where it can
        pytest.skip(f"Debian's chromium and chromium-driver are not installed ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium chromium-driver")
    os.environ["SE_OFFLINE"] = "true"  # Selenium must not try to download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def dashboard_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("dashboard")
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "admin_key": ADMIN_KEY,
        "providers": {"mock": {"type": "mock"}},
        "models": {"mock-fast": [{"provider": "mock", "model": "mock-fast", "input_price": 0.5, "output_price": 1.0}]},
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


def _wait(condition: Any, seconds: float = 15) -> Any:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise AssertionError("the page did not get there in time")


def test_log_in_create_a_key_and_see_its_call(browser: Any, dashboard_gateway: GatewayProcess) -> None:
    from selenium.webdriver.common.by import By

    def find(css: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, css)

    browser.get(dashboard_gateway.url + "/dashboard")
    find("#admin-key").send_keys("not-the-admin-key")
    find("#login-button").click()
    _wait(lambda: find("#login-error").is_displayed())
    assert "refused" in find("#login-error").text and not find("#app").is_displayed()

    find("#admin-key").clear()
    find("#admin-key").send_keys(ADMIN_KEY)
    find("#login-button").click()
    _wait(lambda: find("#app").is_displayed())

    find("#new-key-name").send_keys("browser-team")
    find("#new-key-rpm").send_keys("100")
    find("#new-key-rpd").send_keys("5000")
    find("#create-key").click()
    key = _wait(lambda: find("#new-key-value").text.startswith("ag-") and find("#new-key-value").text)
    assert find("#new-key-secret").text.startswith("whsec_")
    _wait(lambda: "browser-team" in find("#keys tbody").text)
    assert "5000 req / - tok" in find("#keys tbody").text

    body = {"model": "mock-fast", "messages": [{"role": "user", "content": "hello from the browser test"}]}
    call = requests.post(dashboard_gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert call.status_code == 200
    request_id = call.headers["x-request-id"]

    # the page redraws its tables and charts on every refresh (and every 5 s): read them in one
    # script, which runs between redraws, so no element goes stale while it is read
    read_page = """
        const row = document.querySelector(`#requests tbody tr[data-request-id="${arguments[0]}"]`);
        const value = (css) => [...document.querySelectorAll(css)].reduce((sum, bar) => sum + Number(bar.dataset.value), 0);
        return {row: row ? row.innerText : "", models: value('#chart-models rect[data-series="mock-fast"]'),
                keys: value('#chart-keys rect[data-series="browser-team"]')};
    """

    def call_is_shown() -> dict[str, Any] | None:
        find("#refresh").click()
        page: dict[str, Any] = browser.execute_script(read_page, request_id)
        return page if page["row"] and page["models"] >= 1 else None

    page = _wait(call_is_shown)
    assert "browser-team" in page["row"] and "mock-fast" in page["row"] and "200" in page["row"]
    assert page["keys"] > 0  # its spend
