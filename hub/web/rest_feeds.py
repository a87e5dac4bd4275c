"""REST routes for calendar feeds, and the public feed URL itself.

``GET /feeds/{token}.ics`` needs no sign-in: the token is the secret. It
answers ``text/calendar; charset=utf-8`` rendered by :mod:`hub.wire.ical`,
with an ``ETag`` (a digest of the body, which depends only on the
appointments) and ``304`` for a matching ``If-None-Match``. It stays out of
the OpenAPI document, which describes the JSON API.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.domain.errors import NotFound
from hub.domain.model import Appointment
from hub.storage.feeds import Feed
from hub.web.http import caller, json_response, read_json, runtime_of
from hub.web.openapi import Endpoint, routes_of
from hub.wire import json_schemas as wire
from hub.wire.ical import FeedEvent, render_feed
from hub.wire.schema import Field, Shape, format_time, parse_id, validate

TIME_OFF = "Time off"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

CREATE = Shape(
    (
        Field(
            "calendar_id",
            "id",
            required=False,
            description="a calendar's feed (staff, admin); without it, your own appointments",
        ),
    )
)


def feed_to_wire(feed: Feed) -> dict[str, Any]:
    return {
        "id": feed.id,
        "calendar_id": feed.calendar_id,
        "created_at": format_time(feed.created_at),
    }


async def create_feed(request: Request) -> JSONResponse:
    identity = await caller(request)
    body = validate(CREATE, await read_json(request))
    base = str(request.base_url)
    made = await runtime_of(request).feeds.create(identity, body.get("calendar_id"), base)
    return json_response({**feed_to_wire(made.feed), "url": made.url}, status=201)


async def list_feeds(request: Request) -> JSONResponse:
    identity = await caller(request)
    return json_response([feed_to_wire(f) for f in await runtime_of(request).feeds.owned(identity)])


async def delete_feed(request: Request) -> Response:
    identity = await caller(request)
    feed_id = parse_id(request.path_params["feed_id"], "feed_id")
    await runtime_of(request).feeds.delete(identity, feed_id)
    return Response(status_code=204)


async def feed(request: Request) -> Response:
    """The feed itself, for calendar apps (no sign-in: the URL is the secret)."""
    token = request.path_params["token"]
    if not _TOKEN.match(token):
        raise NotFound("no such feed")
    contents = await runtime_of(request).feeds.contents(token)
    events = [feed_event(a) for a in contents.appointments]
    body = render_feed(events, host=contents.host, name=contents.name)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=CALENDAR_TYPE, headers=headers)


def feed_event(appointment: Appointment) -> FeedEvent:
    """An appointment as a feed shows it; time off as "Time off", its reason as description."""
    if appointment.is_block:
        summary = TIME_OFF
        description = "" if appointment.title == TIME_OFF else appointment.title
    else:
        summary, description = appointment.title, appointment.notes
    return FeedEvent(
        id=appointment.id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        summary=summary,
        description=description,
        status=appointment.status.value,
        version=appointment.version,
        created_at=appointment.created_at,
        updated_at=appointment.updated_at,
    )


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison against a list of entity tags (or ``*``)."""
    if if_none_match is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


FEED = wire.ref("Feed")
TAG = "feeds"

ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/feeds",
        create_feed,
        "Make a calendar feed (an iCalendar URL for calendar apps)",
        TAG,
        body=CREATE,
        answer=wire.ref("NewFeed"),
        status=201,
        auth=True,
        errors=(403, 404),
        example={"calendar_id": wire.EXAMPLE_IDS["calendar"]},
        answer_example=wire.EXAMPLE_NEW_FEED,
        description="With calendar_id (staff, admin): that calendar's appointments as staff "
        "see them, and its time off; without it, your own appointments. `url` holds a "
        "secret and is shown only here (the hub keeps a digest); `GET url` needs no sign-in "
        "and answers `text/calendar` (RFC 5545) with an ETag, from 30 days back to 365 "
        "ahead. The URL answers 404 once the feed is deleted, its owner deactivated, or "
        "(a calendar's feed) its owner no longer staff. Set `HUB_PUBLIC_URL` behind a proxy.",
    ),
    Endpoint(
        "GET",
        "/api/v1/feeds",
        list_feeds,
        "Your feeds (without their secret URLs)",
        TAG,
        answer={"type": "array", "items": FEED},
        auth=True,
        answer_example=[wire.EXAMPLE_FEED],
    ),
    Endpoint(
        "DELETE",
        "/api/v1/feeds/{feed_id}",
        delete_feed,
        "Revoke one of your feeds: its URL answers 404 from now on",
        TAG,
        status=204,
        auth=True,
        errors=(404,),
    ),
]
FEED_URL_ENDPOINT = Endpoint("GET", "/feeds/{token}.ics", feed, "A feed, for calendar apps", TAG)
routes = [*routes_of(ENDPOINTS), FEED_URL_ENDPOINT.route()]
