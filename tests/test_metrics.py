"""/metrics scrapes in the Prometheus text format and its figures move with traffic."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Account, Backend, sign_up
from tests.servers import HubServer
from tests.test_booking import booking
from tests.wsclient import HubClient, session


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by (name, sorted labels); parsing fails on malformed text."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_follow_sockets_requests_and_events(
    hub: HubServer,
    api: httpx.AsyncClient,
    admin: Account,
    calendar: dict[str, Any],
    admin_ws: HubClient,
) -> None:
    """Sockets, subscriptions, request outcomes, events and latency all show up."""
    before = samples((await api.get("/metrics")).text)
    watcher = await session(hub.ws_url, (await sign_up(api)).access_token)
    await watcher.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
    await admin_ws.ok("appointment.create", booking(calendar, 10, 11))
    assert (await admin_ws.error("appointment.create", booking(calendar, 10, 11)))[
        "code"
    ] == "slot_taken"
    await watcher.next_event()
    reply = await api.get("/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    after = samples(reply.text)
    assert value(after, "hub_open_sockets") >= 2
    assert value(after, "hub_sessions", role="user") >= 1
    assert value(after, "hub_subscriptions") >= 1
    for outcome in ("ok", "slot_taken"):
        key = ("hub_ws_requests_total", {"type": "appointment.create", "outcome": outcome})
        assert value(after, key[0], **key[1]) > value(before, key[0], **key[1])
    assert (
        value(after, "hub_events_published_total")
        >= value(before, "hub_events_published_total") + 2
    )
    assert value(after, "hub_events_delivered_total") > value(before, "hub_events_delivered_total")
    assert value(after, "hub_delivery_latency_seconds_count") > value(
        before, "hub_delivery_latency_seconds_count"
    )
    assert value(after, "hub_db_query_seconds_count") > 0
    assert (
        value(after, "hub_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    )
    await watcher.close()


async def test_metrics_are_closed_to_other_networks(backend: Backend) -> None:
    """Outside HUB_METRICS_ALLOW the scrape is 403, unless it carries the token."""
    server = HubServer(
        dict(backend.env, HUB_METRICS_ALLOW="10.0.0.0/8", HUB_METRICS_TOKEN="scrape-secret-123")
    )
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            refused = await api.get("/metrics")
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "forbidden"
            wrong = await api.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 403
            ok = await api.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
            assert ok.status_code == 200 and "hub_open_sockets" in ok.text
    finally:
        await asyncio.to_thread(server.stop)
