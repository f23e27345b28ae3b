"""The status page in a real headless Chromium against the running services.

Signed out it shows a sign-in form and no data; a key typed into it buys the session cookie, and
then campaigns sent over HTTP show up, worst first, with their statuses, charts and the alerts
panel. A wrong key, a key without alerts:read, a revoked key and signing out each show what they
should. Screenshots go to ``.artifacts/status-page.png`` (signed in) and
``.artifacts/status-page-signed-out.png``."""

from __future__ import annotations

import json
import random
import struct
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from services.domain.keys import Scope, generate_key
from services.service_layer.access import IssuedKey, issue_key
from services.storage.db import make_engine
from services.storage.keys import KeyRepository
from tests.e2e.chromium import Chromium, chromium_binary
from tests.e2e.events import Expected, iso, messy_campaign
from tests.e2e.harness import RunningStack, eventually

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
SCREENSHOT = ARTIFACTS / "status-page.png"
SIGNED_OUT_SCREENSHOT = ARTIFACTS / "status-page-signed-out.png"
WIDTH, HEIGHT = 1280, 900
STATUS_LABELS = {
    "decaying": "Decaying",
    "watch": "Watch",
    "healthy": "Healthy",
    "insufficient_data": "Insufficient data",
}
STATUS_ORDER = list(STATUS_LABELS)
VIEWER = frozenset({Scope.CAMPAIGNS_READ, Scope.ALERTS_READ})
SIGNED_OUT = "document.body.dataset.session === 'signed-out'"
SIGNED_IN = "document.body.dataset.session === 'signed-in'"
CARDS = "document.querySelectorAll('article[data-campaign-id]').length"
MESSAGE = "document.getElementById('sign-in-message')"
ALERTS_STATE = "document.getElementById('alerts-connection').dataset.state"
# Whatever the page fetched: its own files and, before signing in, nothing but the session check.
FETCHED = "performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname)"
# A key left anywhere the page's scripts (or anyone's) could read it back.
KEY_KEPT = (
    "localStorage.length + sessionStorage.length > 0 || location.search !== ''"
    " || document.cookie.includes('pulse_session')"
    " || document.getElementById('sign-in-key').value !== ''"
)


def week_of_posts(
    campaign_id: str, creators: int, seed: int, fading: int = 0
) -> tuple[list[dict[str, Any]], Expected]:
    """A week of snapshots every three hours, daily fees and steady sales, in event-time order.

    Every creator engages about 8 % of its viewers; the first ``fading`` creators drop to 1 % in
    the last two days, which is what a decaying campaign looks like.
    """
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    posted = now - timedelta(days=7)
    fade_from = now - timedelta(days=2)
    events: list[dict[str, Any]] = []
    for c in range(creators):
        creator_id = f"creator-{c}"
        post_id = f"{campaign_id}-{creator_id}-post"
        counts = {"views": 0, "likes": 0, "comments": 0, "shares": 0, "saves": 0, "clicks": 0}
        observed = posted + timedelta(hours=1)
        while observed < now:
            views = rng.randint(2_500, 3_500)
            rate = 0.01 if c < fading and observed >= fade_from else 0.08
            engagements = round(views * rate * rng.uniform(0.9, 1.1))
            counts["views"] += views
            counts["likes"] += round(engagements * 0.6)
            counts["comments"] += round(engagements * 0.15)
            counts["shares"] += round(engagements * 0.1)
            counts["saves"] += round(engagements * 0.15)
            counts["clicks"] += round(views * 0.01)
            events.append(
                {
                    "type": "post_metrics",
                    "event_id": f"{post_id}-{iso(observed)}",
                    "campaign_id": campaign_id,
                    "creator_id": creator_id,
                    "platform": "instagram",
                    "post_id": post_id,
                    "observed_at": iso(observed),
                    "posted_at": iso(posted),
                    "followers": 60_000,
                    **counts,
                }
            )
            observed += timedelta(hours=3)
        for day in range(7):
            paid = posted + timedelta(days=day, hours=2)
            events.append(
                {
                    "type": "spend",
                    "event_id": f"{post_id}-fee-{day}",
                    "campaign_id": campaign_id,
                    "creator_id": creator_id,
                    "occurred_at": iso(paid),
                    "amount": 150.0,
                    "currency": "USD",
                    "kind": "fee",
                }
            )
            for n in range(rng.randint(2, 4)):
                events.append(
                    {
                        "type": "conversion",
                        "event_id": f"{post_id}-order-{day}-{n}",
                        "campaign_id": campaign_id,
                        "creator_id": creator_id,
                        "occurred_at": iso(paid + timedelta(hours=rng.randint(1, 20))),
                        "revenue": rng.randint(4_000, 12_000) / 100,
                        "currency": "USD",
                        "new_customer": True,
                        "kind": "purchase",
                        "attribution": "promo_code",
                    }
                )
    events.sort(key=lambda e: e.get("observed_at") or e["occurred_at"])
    expected = Expected()
    for event in events:
        expected.add(event)
    return events, expected


class Cards(HTMLParser):
    """Each rendered campaign card: its id and status attributes, heading and badge text."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, str]] = []
        self.charts = 0
        self.live_regions: list[str] = []
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").split()
        if tag == "article" and "data-campaign-id" in attributes:
            self.cards.append(
                {
                    "id": attributes["data-campaign-id"],
                    "status": attributes.get("data-status", ""),
                    "heading": "",
                    "badge": "",
                }
            )
        elif tag == "h3" and self.cards:
            self._capture = "heading"
        elif tag == "span" and "badge" in classes and self.cards:
            self._capture = "badge"
        elif tag == "path" and "line" in classes:
            self.charts += 1
        if "aria-live" in attributes:
            self.live_regions.append(attributes.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h3", "span"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture:
            self.cards[-1][self._capture] += data


def rendered(cards: list[dict[str, str]]) -> str:
    """A JavaScript expression: the page shows exactly these cards, in this order."""
    wanted = json.dumps([f"{card['campaign_id']}:{card['status']}" for card in cards])
    return (
        "JSON.stringify([...document.querySelectorAll('article[data-campaign-id]')]"
        f".map((a) => a.dataset.campaignId + ':' + a.dataset.status)) === JSON.stringify({wanted})"
    )


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def page_key(running_stack: RunningStack, name: str, scopes: frozenset[Scope]) -> IssuedKey:
    engine = make_engine(running_stack.config.database_url)
    try:
        return issue_key(KeyRepository(engine), name, scopes)
    finally:
        engine.dispose()


def revoke(running_stack: RunningStack, key: IssuedKey) -> None:
    engine = make_engine(running_stack.config.database_url)
    try:
        KeyRepository(engine).revoke(key.record.key_id, datetime.now(UTC))
    finally:
        engine.dispose()


def send_all(
    running_stack: RunningStack, sent: dict[str, tuple[list[dict[str, Any]], Expected]]
) -> None:
    """Send the campaigns' events and wait until the API counts every one of them."""
    for events, _ in sent.values():
        for start in range(0, len(events), 200):
            response = running_stack.send(events[start : start + 200])
            assert response.status_code == 202, response.text
            assert response.json()["rejected"] == 0

    def all_counted() -> bool:
        body = running_stack.api.get("/v1/campaigns").json()
        views = {c["campaign_id"]: c for c in body["items"]}
        return all(
            campaign_id in views
            and views[campaign_id]["totals"]["views"] == expected.totals(campaign_id)["views"]
            for campaign_id, (_, expected) in sent.items()
        )

    eventually(all_counted)


def sign_in(browser: Chromium, key: str) -> None:
    """Type the key into the form and press its button, as a person would."""
    browser.wait_for(SIGNED_OUT)
    browser.type_into("#sign-in-key", key)
    browser.click("#sign-in-button")


def message(browser: Chromium) -> str:
    text: str = browser.evaluate(f"{MESSAGE}.textContent")
    return text


def test_status_page_in_headless_chromium(running_stack: RunningStack, tmp_path: Path) -> None:
    binary = chromium_binary()
    assert binary, "chromium is not installed: run `make system-packages`"
    sent = {
        "spring-fading": week_of_posts("spring-fading", creators=3, seed=7, fading=2),
        "summer-steady": week_of_posts("summer-steady", creators=2, seed=8),
        "launch": messy_campaign("launch", creators=3, posts=2, seed=3),
    }
    send_all(running_stack, sent)
    key = page_key(running_stack, "status-page", VIEWER)
    url = f"{running_stack.config.api_url}/"

    with Chromium(binary, tmp_path / "chromium") as browser:
        browser.open(url, WIDTH, HEIGHT)
        sign_in(browser, key.key)

        def page_shows_the_api() -> list[dict[str, Any]] | None:
            listed: list[dict[str, Any]] = running_stack.api.get("/v1/campaigns").json()["items"]
            return listed if browser.evaluate(rendered(listed)) else None

        # The page refreshes every 5 s; wait for it to show what the API says now, in its order.
        campaigns = eventually(page_shows_the_api, timeout=30)
        browser.wait_for(f"{ALERTS_STATE} === 'live'")
        dom = browser.dom()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.screenshot(SCREENSHOT)
        # The first card's weekly review opens in the signed-in browser (the session cookie).
        review = browser.evaluate("document.querySelector('.review-links a').href")
        browser.open(review, WIDTH, HEIGHT)
        review_charts = browser.evaluate("document.querySelectorAll('svg[data-chart]').length")

    assert {c["campaign_id"] for c in campaigns} == set(sent)
    cards = Cards()
    cards.feed(dom)
    assert [card["id"] for card in cards.cards] == [c["campaign_id"] for c in campaigns]
    for card, campaign in zip(cards.cards, campaigns, strict=True):
        assert card["status"] == campaign["status"]
        assert card["heading"] == campaign["campaign_id"]
        assert card["badge"] == STATUS_LABELS[campaign["status"]]
    ranks = [STATUS_ORDER.index(card["status"]) for card in cards.cards]
    assert ranks == sorted(ranks), "worst status first"
    assert cards.charts >= 2 * 2, "an engagement-rate and a CAC line for the week-long campaigns"
    assert cards.live_regions == ["alerts"]
    assert "Waiting for data" not in dom
    assert f"/v1/campaigns/{campaigns[0]['campaign_id']}/reports/weekly?week=" in review
    assert review_charts == 4

    assert png_size(SCREENSHOT) == (WIDTH, HEIGHT)
    assert SCREENSHOT.stat().st_size > 20_000, "a blank page compresses to a few kilobytes"


def test_signing_in_with_a_wrong_key_then_a_good_one_then_out(
    running_stack: RunningStack, tmp_path: Path
) -> None:
    binary = chromium_binary()
    assert binary, "chromium is not installed: run `make system-packages`"
    send_all(running_stack, {"launch": messy_campaign("launch", creators=2, posts=2, seed=5)})
    key = page_key(running_stack, "night-shift", VIEWER)
    url = f"{running_stack.config.api_url}/"

    with Chromium(binary, tmp_path / "chromium") as browser:
        browser.open(url, WIDTH, HEIGHT)
        browser.wait_for(SIGNED_OUT)
        SIGNED_OUT_SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.screenshot(SIGNED_OUT_SCREENSHOT)
        assert browser.evaluate(CARDS) == 0
        assert browser.evaluate("document.getElementById('dashboard').hidden")
        assert browser.evaluate("document.getElementById('counts').children.length") == 0
        assert "launch" not in browser.evaluate("document.body.innerText")
        hint = browser.evaluate("document.getElementById('sign-in-hint').textContent")
        assert hint == "A key with campaigns:read; pulse run wrote one to .run/admin.key"
        assert browser.evaluate("document.getElementById('sign-in-key').type") == "password"
        assert set(browser.evaluate(FETCHED)) <= {
            "/static/app.js",
            "/static/style.css",
            "/v1/session",
        }, "signed out, the page asks for no data"

        # A well-formed key the server does not know.
        sign_in(browser, generate_key())
        browser.wait_for(f"{MESSAGE}.dataset.tone === 'error'")
        assert message(browser) == "Sign-in refused: the API key is not known"
        assert browser.evaluate(SIGNED_OUT)
        assert not browser.evaluate(KEY_KEPT)

        sign_in(browser, key.key)
        browser.wait_for(f"{CARDS} === 1")
        assert browser.evaluate(SIGNED_IN)
        assert browser.evaluate("document.getElementById('account-name').textContent") == (
            "night-shift"
        )
        browser.wait_for(f"{ALERTS_STATE} === 'live'")
        assert browser.evaluate("location.href") == url
        assert not browser.evaluate(KEY_KEPT)
        assert key.key not in browser.dom()

        browser.click("#sign-out")
        browser.wait_for(SIGNED_OUT)
        assert message(browser) == "Signed out."
        assert browser.evaluate(CARDS) == 0
        assert browser.evaluate("document.getElementById('alerts').children.length") == 0

        # The session ended on the server too: a fresh load is signed out.
        browser.open(url, WIDTH, HEIGHT)
        browser.wait_for(SIGNED_OUT)
    assert png_size(SIGNED_OUT_SCREENSHOT) == (WIDTH, HEIGHT)


def test_what_a_key_may_not_do_shows_on_the_page(
    running_stack: RunningStack, tmp_path: Path
) -> None:
    """Without alerts:read the campaigns show with a note; without campaigns:read there is no
    sign-in; a revoked key signs the page out with the reason."""
    binary = chromium_binary()
    assert binary, "chromium is not installed: run `make system-packages`"
    send_all(running_stack, {"launch": messy_campaign("launch", creators=2, posts=2, seed=6)})
    campaigns_only = page_key(running_stack, "campaigns-only", frozenset({Scope.CAMPAIGNS_READ}))
    ingest_only = page_key(running_stack, "ingest-only", frozenset({Scope.EVENTS_WRITE}))
    url = f"{running_stack.config.api_url}/"

    with Chromium(binary, tmp_path / "chromium") as browser:
        browser.open(url, WIDTH, HEIGHT)
        sign_in(browser, ingest_only.key)
        browser.wait_for(f"{MESSAGE}.dataset.tone === 'error'")
        assert "lacks the scope 'campaigns:read'" in message(browser)

        sign_in(browser, campaigns_only.key)
        browser.wait_for(f"{CARDS} === 1 && {ALERTS_STATE} === 'unavailable'")
        connection = browser.evaluate("document.getElementById('alerts-connection').textContent")
        assert connection == "Alerts need a key with the alerts:read scope."
        assert browser.evaluate("document.querySelectorAll('#alerts li.alert').length") == 0

        revoke(running_stack, campaigns_only)
        # The next refresh (every 5 s) meets the 401.
        browser.wait_for(SIGNED_OUT)
        assert message(browser).startswith("Signed out: ")
        assert browser.evaluate(f"{MESSAGE}.dataset.tone") == "error"
        assert browser.evaluate(CARDS) == 0
