"""Issue 18 end to end: two nightly runs a week apart, the realized performance of the
first run's lists recomputed independently from the published lists and the raw
purchases file, and the run report rendered in a real headless Chromium (every chart
drawn, no network request)."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from shopguide.feedback import reason_family
from shopguide.generate import generate_shop
from shopguide.report import report_path
from shopguide.run import run_pipeline
from shopguide.warehouse import open_warehouse
from support import make_settings

pytestmark = pytest.mark.slow
FIRST, SECOND = "2024-03-24", "2024-03-31"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """A small shop run on FIRST and, a week later, on SECOND (the fast recommender, no
    holdout: the realized figures do not depend on which model made the lists)."""
    tmp = tmp_path_factory.mktemp("feedback")
    shop = tmp / "shop"
    generate_shop(shop, customers=400, articles=150, days=90, end_date=SECOND, seed=5)
    settings = make_settings(
        tmp,
        source="generated",
        source_path=str(shop),
        recommender="baseline",
        evaluate_recommendations=False,
        forecast_backtest_origins=3,
    )
    results = {day: run_pipeline(settings, day) for day in (FIRST, SECOND)}
    return settings, shop, results


def test_realized_performance_recomputed_from_published_lists_and_raw_purchases(two_runs):
    settings, shop, results = two_runs
    assert results[SECOND]["score_feedback"]["recommendation_run_dates"] == [FIRST]
    wh = open_warehouse(settings)
    perf = wh.query_df(
        "SELECT * FROM published.recommendation_performance ORDER BY window_days, slice"
    )
    perf["run_date"] = pd.to_datetime(perf["run_date"]).dt.date
    # Only FIRST has a closed window (7 days), scored by SECOND; 14 days is still open.
    assert set(perf["run_date"]) == {date.fromisoformat(FIRST)}
    assert set(perf["window_days"]) == {7}
    assert set(pd.to_datetime(perf["scored_on"]).dt.date) == {date.fromisoformat(SECOND)}
    perf = perf.set_index("slice")

    recs = wh.query_df(
        "SELECT customer_id, article_id, reason FROM published.recommendations "
        f"WHERE run_date = DATE '{FIRST}'"
    )
    raw = pd.read_parquet(shop / "transactions.parquet")
    raw["t_dat"] = pd.to_datetime(raw["t_dat"]).dt.date
    start, end = date.fromisoformat(FIRST), date.fromisoformat(FIRST) + timedelta(days=7)
    window = raw[(raw["t_dat"] > start) & (raw["t_dat"] <= end) & raw["customer_id"].notna()]
    window = window.assign(
        quantity=window["quantity"].fillna(1) if "quantity" in window else 1,
    )
    window = window.assign(revenue=window["quantity"] * window["price"])
    bought = window.groupby(["customer_id", "article_id"], as_index=False)[
        ["quantity", "revenue"]
    ].sum()
    pairs = recs.merge(bought, on=["customer_id", "article_id"], how="left")
    pairs["hit"] = pairs["quantity"].notna()
    first_buy = raw.dropna(subset=["customer_id"]).groupby("customer_id")["t_dat"].min()
    pairs["family"] = pairs["reason"].map(reason_family)
    pairs["cold"] = pairs["customer_id"].map(first_buy).isna() | (
        pairs["customer_id"].map(first_buy) > start
    )

    def expect(rows: pd.DataFrame, slice_: str) -> None:
        got = perf.loc[slice_]
        assert got["customers"] == rows["customer_id"].nunique(), slice_
        assert got["pairs"] == len(rows), slice_
        assert got["hits"] == int(rows["hit"].sum()), slice_
        assert got["converted_customers"] == rows.loc[rows["hit"], "customer_id"].nunique()
        assert got["units"] == int(rows["quantity"].fillna(0).sum()), slice_
        assert got["revenue"] == pytest.approx(rows["revenue"].fillna(0).sum()), slice_
        assert got["hit_rate"] == pytest.approx(rows["hit"].mean()), slice_

    expect(pairs, "all")
    expect(pairs, "model:baseline")
    assert pairs["hit"].sum() > 0  # the shop's customers do buy recommended articles
    for family, rows in pairs.groupby("family"):
        expect(rows, f"reason:{family}")
    if pairs["cold"].any():
        expect(pairs[pairs["cold"]], "cold_start")

    # The email list's treatment and control customers (campaign_group).
    campaign = wh.query_df("SELECT * FROM published.campaign_performance")
    assert set(campaign["metric"]) == {
        "conversion_rate",
        "listed_conversion_rate",
        "listed_units_per_customer",
        "revenue_per_customer",
    }
    email = wh.query_df(
        "SELECT DISTINCT customer_id, campaign_group FROM published.email_campaign_list "
        f"WHERE run_date = DATE '{FIRST}'"
    )
    buyers = set(window["customer_id"])
    for group in ("treatment", "control"):
        members = email[email["campaign_group"] == group]["customer_id"]
        row = campaign[campaign["metric"] == "conversion_rate"].iloc[0]
        assert row[f"{group}_customers"] == len(members)
        if len(members):
            assert row[f"{group}_value"] == pytest.approx(members.isin(buyers).mean())


# -- the report in a real browser ------------------------------------------------------------
def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cdp:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, url: str):
        from websockets.sync.client import connect

        self.ws = connect(url, max_size=64 * 1024 * 1024)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.time() < deadline:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.time())))
            self.events.append(msg)
            if msg.get("method") == method:
                return
        raise TimeoutError(method)


def _open_in_chromium(page_url: str, tmp_path):
    """Start headless Chromium with DevTools, load ``page_url``; return (requests, images,
    screenshot PNG bytes)."""
    from urllib.request import urlopen

    port = _free_port()
    proc = subprocess.Popen(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--remote-debugging-port={port}",
            "--window-size=1100,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        targets = None
        for _ in range(100):
            try:
                with urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert targets, "Chromium's DevTools endpoint did not come up"
        cdp = Cdp(targets[0]["webSocketDebuggerUrl"])
        cdp.call("Network.enable")
        cdp.call("Page.enable")
        cdp.events.clear()
        cdp.call("Page.navigate", url=page_url)
        cdp.wait_for("Page.loadEventFired")
        images = cdp.call(
            "Runtime.evaluate",
            expression=(
                "JSON.stringify(Array.from(document.images).map(i => ({id: i.id, "
                "complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, "
                "hasData: i.dataset.hasData, "
                "png: (() => { const c = document.createElement('canvas'); c.width = i.naturalWidth; "
                "c.height = i.naturalHeight; c.getContext('2d').drawImage(i, 0, 0); "
                "return c.toDataURL('image/png'); })()})))"
            ),
            returnByValue=True,
        )["result"]["value"]
        shot = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        requests = [
            e["params"]["request"]["url"]
            for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        cdp.ws.close()
        return requests, json.loads(images), base64.b64decode(shot["data"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _not_blank(png: bytes) -> bool:
    """More than one colour in the image: something was drawn on it."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return pixels.size > 0 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 1


@pytest.mark.skipif(
    _chromium() is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)
def test_run_report_renders_in_headless_chromium_without_network(two_runs, tmp_path):
    settings, _, results = two_runs
    page = report_path(settings, date.fromisoformat(SECOND))
    assert results[SECOND]["report"]["report"] == str(page) and page.is_file()
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # nothing to fetch, no links out
    index = page.parent.parent / "index.html"
    assert f'href="{FIRST}/index.html"' in index.read_text()
    assert f'href="{SECOND}/index.html"' in index.read_text()

    requests, images, screenshot = _open_in_chromium(page.as_uri(), tmp_path)
    # The only request is the page itself (file://); images are inline data: URIs.
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert [u for u in requests if u.startswith("file://")] == [page.as_uri()]
    ids = {i["id"] for i in images}
    assert {
        "chart-row-counts",
        "chart-quarantine",
        "chart-model-metrics",
        "chart-realized-hit-rate",
        "chart-campaign-uplift",
        "chart-demand-shop",
        "chart-demand-departments",
        "chart-demand-top-articles",
        "chart-forecast-wape",
        "chart-forecast-coverage",
        "chart-task-durations",
    } <= ids
    for image in images:
        assert image["complete"] and image["w"] > 100 and image["h"] > 50, image["id"]
        png = base64.b64decode(image["png"].split(",", 1)[1])
        assert _not_blank(png), f"{image['id']} drew nothing"
    with_data = {i["id"] for i in images if i["hasData"] == "true"}
    assert {
        "chart-row-counts",
        "chart-realized-hit-rate",
        "chart-demand-shop",
        "chart-demand-departments",
        "chart-demand-top-articles",
        "chart-forecast-wape",
        "chart-task-durations",
    } <= with_data
    assert _not_blank(screenshot)
    (tmp_path / "report.png").write_bytes(screenshot)
