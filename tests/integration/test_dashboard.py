"""The dashboard in a real browser (Debian's headless Chromium driven by Selenium through Debian's
chromedriver), as an operator uses it: log in, create and edit keys, see every call — refused ones
too — with filters and each call's detail, the providers' health and breakers, spend against budget,
calls in flight; at desktop and at phone width, with screenshots checked."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.fakes.openai_upstream import UPSTREAM_KEY, FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY
from tests.integration.usage import fresh_minute

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DESKTOP = (1280, 900)
PHONE = (390, 844)
HEADER_INK = (0x1D, 0x23, 0x30)  # the header's background
FIRST_SERIES = (0x3B, 0x5B, 0xDB)  # the first series of each chart


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        # not a CI service like PostgreSQL and Redis: `make test` installs it with apt where it can
        pytest.skip(
            f"Debian's chromium and chromium-driver are not installed ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium chromium-driver"
        )
    os.environ["SE_OFFLINE"] = "true"  # Selenium must not try to download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def dashboard_gateway(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("dashboard")
    fake = {"type": "openai", "base_url": f"{fake_openai.url}/v1", "api_key": UPSTREAM_KEY, "timeout_seconds": 10}  # type: ignore[attr-defined]
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "admin_key": ADMIN_KEY,
        "providers": {"fake": fake, "mock": {"type": "mock"}},
        "models": {
            "mock-fast": [{"provider": "mock", "model": "mock-fast", "input_price": 0.5, "output_price": 1.0}],
            "flaky": [  # its first target fails, the second answers
                {"provider": "fake", "model": "up-500", "priority": 0},
                {"provider": "mock", "model": "mock-fast", "priority": 1, "input_price": 0.5, "output_price": 1.0},
            ],
            "broken": [{"provider": "fake", "model": "up-503"}],
            "slow": [{"provider": "fake", "model": "up-slow"}],  # answers after 3 s
        },
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $ANYGATE_SCREENSHOTS when set (to look at them), else a temporary folder."""
    folder = Path(os.environ.get("ANYGATE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait(condition: Any, seconds: float = 15) -> Any:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise AssertionError("the page did not get there in time")


def _chat(gateway: GatewayProcess, key: str, model: str, raw: bytes | None = None) -> requests.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hello from the dashboard test"}]}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    url = gateway.url + "/openai/v1/chat/completions"
    return (
        requests.post(url, data=raw, headers=headers, timeout=30)
        if raw is not None
        else requests.post(url, json=body, headers=headers, timeout=30)
    )


def _viewport(browser: Any, size: tuple[int, int], mobile: bool) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile}
    )


def _screenshot(browser: Any, folder: Path, name: str, size: tuple[int, int], header: bool = True) -> Image.Image:
    """Save the page as `name`.png and check it: the viewport's size, and the header (when in view,
    not under a dialog's backdrop) across its whole width."""
    png = browser.get_screenshot_as_png()
    (folder / f"{name}.png").write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == size, f"{name}: the screenshot is {image.size}, the viewport {size}"
    header_row = [image.getpixel((x, 4)) for x in range(0, size[0], 10)]
    assert not header or all(pixel == HEADER_INK for pixel in header_row), f"{name}: the header does not span the width"
    return image


# Reads the whole page in one script, which runs between redraws (the page redraws every 5 s), so no
# element goes stale while it is read.
READ_PAGE = """
const rows = (css) => [...document.querySelectorAll(css)];
const text = (el) => el ? el.textContent : "";
const requests = rows("#requests tbody tr[data-request-id]").map((tr) => ({
    id: tr.dataset.requestId, status: Number(tr.dataset.status), key: text(tr.cells[2]), model: text(tr.cells[3]),
    error: text(tr.cells[9])}));
const keys = Object.fromEntries(rows("#keys tbody tr").map((tr) => [text(tr.cells[0]), {
    in_flight: text(tr.querySelector(".in-flight")), budget: text(tr.querySelector(".budget")),
    share: tr.querySelector(".budget").dataset.share || null, rpm: text(tr.cells[3])}]));
const providers = Object.fromEntries(rows("#providers tbody tr").map((tr) => [tr.dataset.provider, {
    health: text(tr.cells[2]), targets: text(tr.cells[3]), calls: text(tr.cells[4]), failed: text(tr.cells[5]), last: text(tr.cells[7])}]));
const chart = (id) => ({
    y: rows(`#${id} text.y-label`).map(text), x: rows(`#${id} text.x-label`).map(text), totals: rows(`#${id} text.value`).map(text),
    bars: rows(`#${id} rect`).map((r) => [r.dataset.series, Number(r.dataset.value)])});
return {requests, keys, providers, models: chart("chart-models"), spend: chart("chart-keys"),
        status: text(document.getElementById("status"))};
"""

LAYOUT = """
const box = (el) => el.getBoundingClientRect();
const svg = document.querySelector("#chart-models svg");
return {
    page: document.documentElement.scrollWidth, viewport: window.innerWidth,
    svg: box(svg).width, svg_drawn: Number(svg.getAttribute("width")),
    chart_font: parseFloat(getComputedStyle(document.querySelector("#chart-models text.y-label")).fontSize),
    cell_font: parseFloat(getComputedStyle(document.querySelector("#requests td")).fontSize),
    sections: [...document.querySelectorAll("main section")].map((s) => box(s).right),
    logout: box(document.getElementById("logout")).right,
};
"""


def test_without_an_admin_key_the_page_says_how_to_turn_the_admin_api_on(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from selenium.webdriver.common.by import By

    workdir = tmp_path_factory.mktemp("no-admin")
    process = GatewayProcess(
        workdir, {"database": f"sqlite:///{workdir}/anygate.db", "providers": {"mock": {"type": "mock"}}}
    ).start()
    try:
        _viewport(browser, DESKTOP, mobile=False)
        browser.get(process.url + "/dashboard")
        hint = _wait(
            lambda: (
                browser.find_element(By.ID, "admin-disabled").is_displayed()
                and browser.find_element(By.ID, "admin-disabled").text
            )
        )
        assert "admin_key" in hint and "ANYGATE_ADMIN_KEY" in hint and "restart" in hint
        assert not browser.find_element(By.ID, "login-button").is_enabled()
    finally:
        process.stop()


def test_an_operator_sees_every_call_and_manages_keys(browser: Any, dashboard_gateway: GatewayProcess, screenshots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def find(css: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, css)

    def page() -> dict[str, Any]:
        return dict(browser.execute_script(READ_PAGE))

    gateway = dashboard_gateway
    _viewport(browser, DESKTOP, mobile=False)
    browser.get(gateway.url + "/dashboard")
    find("#admin-key").send_keys("not-the-admin-key")
    find("#login-button").click()
    _wait(lambda: find("#login-error").is_displayed())
    assert "refused" in find("#login-error").text and not find("#app").is_displayed()
    assert find("#admin-key").get_attribute("value") == "", "a refused key is not left in the field"

    find("#admin-key").send_keys(ADMIN_KEY)
    find("#login-button").click()
    _wait(lambda: find("#app").is_displayed())
    assert find("#admin-key").get_attribute("value") == "", "the admin key is not left in the field"

    # a key with an unknown model is refused with the reason; a good one is shown once
    find("#new-key-name").send_keys("typo")
    find("#new-key-models").send_keys("mock-fats")
    find("#create-key").click()
    _wait(lambda: "mock-fats is not configured" in find("#status").text)
    browser.execute_script("document.getElementById('create-form').reset()")  # the form kept what was typed
    find("#new-key-name").send_keys("browser-team")
    find("#new-key-rpm").send_keys("100")
    find("#new-key-rpd").send_keys("5000")
    find("#create-key").click()
    key = _wait(lambda: find("#new-key-value").text.startswith("ag-") and find("#new-key-value").text)
    assert find("#new-key-secret").text.startswith("whsec_")
    _wait(lambda: "browser-team" in page()["keys"])
    assert page()["keys"]["browser-team"]["rpm"] == "100 / -"

    # edit its limits and budget in the dialog
    browser.execute_script(
        "[...document.querySelectorAll('#keys tbody tr')].find((tr) => tr.cells[0].textContent === 'browser-team').querySelector('button.edit').click()"
    )
    _wait(lambda: find("#key-dialog").is_displayed())
    assert find("#edit-name").get_attribute("value") == "browser-team" and find("#edit-rpd").get_attribute("value") == "5000"
    find("#edit-concurrency").send_keys("3")
    find("#edit-budget").send_keys("0.5")
    find("#edit-rpd").clear()
    find("#edit-save").click()
    _wait(lambda: not find("#key-dialog").is_displayed())
    edited = requests.get(gateway.url + "/admin/v1/keys", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10).json()[
        "data"
    ]
    saved = next(k for k in edited if k["name"] == "browser-team")
    assert (saved["max_concurrency"], saved["budget_usd"], saved["rpd"], saved["rpm"]) == (3, 0.5, None, 100)
    _wait(lambda: page()["keys"]["browser-team"]["in_flight"] == "0 of 3")

    narrow_key = requests.post(
        gateway.url + "/admin/v1/keys",
        json={"name": "narrow", "models": ["mock-fast"], "rpm": 1},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=10,
    ).json()
    narrow = narrow_key["key"]
    time.sleep(2.5)  # the key cache refreshes every 2 s: the new limits hold from here

    # calls of every outcome
    slow = threading.Thread(target=_chat, args=(gateway, key, "slow"))
    slow.start()
    _wait(lambda: find("#refresh").click() or page()["keys"]["browser-team"]["in_flight"] == "1 of 3", seconds=2.8)
    slow.join()
    fresh_minute()  # narrow's rpm of 1 is met within one minute
    ok = _chat(gateway, key, "mock-fast")
    flaky = _chat(gateway, key, "flaky")
    broken = _chat(gateway, key, "broken")
    statuses = {
        "ok": ok.status_code,
        "flaky": flaky.status_code,
        "broken": broken.status_code,
        "unknown model": _chat(gateway, key, "no-such-model").status_code,
        "forbidden model": _chat(gateway, narrow, "flaky").status_code,
        "first of a minute": _chat(gateway, narrow, "mock-fast").status_code,
        "over the limit": _chat(gateway, narrow, "mock-fast").status_code,
        "bad key": _chat(gateway, "ag-not-a-key-at-all-0000000000", "mock-fast").status_code,
        "bad JSON": _chat(gateway, key, "mock-fast", raw=b"{not json").status_code,
    }
    assert (
        statuses
        == {
            "ok": 200,
            "flaky": 200,
            "broken": broken.status_code,
            "unknown model": 404,
            "forbidden model": 403,
            "first of a minute": 200,
            "over the limit": 429,
            "bad key": 401,
            "bad JSON": 400,
        }
        and broken.status_code >= 500
    )
    ids = {name: response.headers["x-request-id"] for name, response in (("ok", ok), ("flaky", flaky), ("broken", broken))}

    def every_outcome_shown() -> dict[str, Any] | None:
        find("#refresh").click()
        seen = page()
        shown = {200, 400, 401, 403, 404, 429, broken.status_code} <= {r["status"] for r in seen["requests"]}
        spent = {"browser-team", "narrow"} <= {s for s, _ in seen["spend"]["bars"]}  # usage is written in batches
        return seen if shown and spent else None

    seen = _wait(every_outcome_shown)
    by_status = {r["status"]: r for r in seen["requests"]}
    assert "no-such-model" in by_status[404]["error"] and by_status[404]["key"] == "browser-team"
    assert by_status[429]["key"] == "narrow" and by_status[429]["model"] == "mock-fast"
    assert by_status[401]["key"] == "–" and "key" in by_status[401]["error"].lower()
    assert "JSON" in by_status[400]["error"]

    # spend against the budget
    assert 0 < float(seen["keys"]["browser-team"]["share"]) < 0.01 and "of $0.5000 (0%)" in seen["keys"]["browser-team"]["budget"]

    # the charts: round gridlines with their values, the days along the bottom, today's total on its bar
    today = time.strftime("%m-%d", time.gmtime())
    models = seen["models"]
    assert models["y"][0] == "0" and len(models["y"]) >= 2 and today == models["x"][-1]
    requests_today = sum(v for s, v in models["bars"])
    assert models["totals"][-1] == str(round(requests_today)) and {"mock-fast", "flaky", "broken", "slow"} <= {
        s for s, _ in models["bars"]
    }
    assert seen["spend"]["y"][0].startswith("$0") and {"browser-team", "narrow"} <= {s for s, _ in seen["spend"]["bars"]}

    # the providers: the fake failed (its breaker counted it), mock answered
    fake, mock = seen["providers"]["fake"], seen["providers"]["mock"]
    assert fake["health"] in ("degraded", "down") and "up-503" in fake["targets"] and int(fake["failed"]) >= 1
    assert str(broken.status_code) in fake["last"] or "503" in fake["last"]
    assert mock["health"] == "ok" and int(mock["calls"]) >= 3 and mock["failed"] == "0"

    # filters: by status, then by key
    Select(find("#filter-status")).select_by_value("429")
    _wait(lambda: (rows := page()["requests"]) and all(r["status"] == 429 for r in rows))
    Select(find("#filter-status")).select_by_value("")
    _wait(
        lambda: browser.execute_script("return [...document.getElementById('filter-key').options].map((o) => o.value)").count(
            narrow_key["id"]
        )
    )
    Select(find("#filter-key")).select_by_value(narrow_key["id"])
    _wait(
        lambda: (
            (rows := page()["requests"])
            and all(r["key"] == "narrow" for r in rows)
            and {200, 403, 429} <= {r["status"] for r in rows}
        )
    )
    find("#filter-clear").click()
    _wait(lambda: len({r["key"] for r in page()["requests"]}) >= 3)

    # a call's detail: the fallback's failed attempt, its timings, tokens and cost
    browser.execute_script(f"document.querySelector('#requests tr[data-request-id=\"{ids['flaky']}\"]').click()")
    _wait(lambda: find("#request-dialog").is_displayed())
    detail = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#detail dd')].map((dd) => [dd.dataset.term, dd.textContent]))"
    )
    assert detail["attempts"] == "2" and detail["status"] == "200" and detail["answered by"] == "mock (mock-fast)"
    assert (
        detail["total time"].endswith(" ms")
        and detail["waiting on upstreams"].endswith(" ms")
        and detail["cost"].startswith("$0.0")
    )
    failed = find("#detail-failures tbody").text
    assert "fake" in failed and "up-500" in failed and "500" in failed
    _screenshot(browser, screenshots, "request-detail-desktop", DESKTOP, header=False)
    find("#detail-close").click()
    browser.execute_script(f"document.querySelector('#requests tr[data-request-id=\"{ids['broken']}\"]').click()")
    _wait(lambda: find("#request-dialog").is_displayed())
    assert find("#detail dd[data-term=error]").text not in ("", "–") and find("#detail dd[data-term=status]").text == str(
        broken.status_code
    )
    find("#detail-close").click()

    # at desktop width: the page fits, and the screenshot shows the header and the charts
    browser.execute_script("window.scrollTo(0, 0)")
    image = _screenshot(browser, screenshots, "dashboard-desktop", DESKTOP)
    assert FIRST_SERIES in {image.getpixel((x, y)) for x in range(0, DESKTOP[0], 2) for y in range(60, 400, 2)}, (
        "no chart bar in view"
    )

    # at phone width: nothing wider than the screen, the chart drawn at its width with readable text
    _viewport(browser, PHONE, mobile=True)
    browser.refresh()
    _wait(lambda: find("#app").is_displayed() and page()["requests"])
    time.sleep(0.3)  # the charts redraw at the new width after a resize
    layout = browser.execute_script(LAYOUT)
    assert layout["page"] <= layout["viewport"] == PHONE[0], layout
    assert layout["svg"] == layout["svg_drawn"] <= PHONE[0] and layout["chart_font"] >= 11 and layout["cell_font"] >= 13, layout
    assert all(right <= PHONE[0] for right in layout["sections"]) and layout["logout"] <= PHONE[0], layout
    image = _screenshot(browser, screenshots, "dashboard-phone", PHONE)
    assert FIRST_SERIES in {image.getpixel((x, y)) for x in range(0, PHONE[0]) for y in range(60, PHONE[1], 2)}, (
        "no chart bar in view"
    )

    # logging out forgets the key
    _viewport(browser, DESKTOP, mobile=False)
    find("#logout").click()
    _wait(lambda: find("#login").is_displayed())
    assert find("#admin-key").get_attribute("value") == "" and browser.execute_script("return sessionStorage.length") == 0
