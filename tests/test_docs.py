"""The API documents: valid against their specifications, complete, and true on a live hub.

/openapi.json is checked with openapi-spec-validator. No maintained Python
validator for AsyncAPI 3 exists on PyPI, so /asyncapi.json is checked with
jsonschema against the official AsyncAPI 3.0.0 JSON Schema, vendored from the
npm package @asyncapi/specs (tests/schemas/README.md).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
from openapi_spec_validator import validate as validate_openapi
from starlette.routing import Route

from hub.domain.errors import HubError
from hub.settings import Settings
from hub.web.app import create_app
from hub.wire.json_schemas import EXAMPLE_IDEMPOTENCY_KEY, EXAMPLE_IDS, EXAMPLE_TOKEN
from hub.wire.messages import MESSAGES
from hub.wire.protocol import CloseCode
from tests.conftest import Account, sign_up
from tests.servers import HubServer
from tests.wsclient import HubClient

ASYNCAPI_SCHEMA = Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json"


def resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return resolve(doc, node["$ref"]) if "$ref" in node else node


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    """A validator for a schema of ``doc`` whose $refs point into doc's components."""
    return jsonschema.Draft7Validator(
        {**schema, "components": doc["components"]},
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )


def requests_of(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(type, request message, ok answer message) for every request the hub receives."""
    return [
        (
            name,
            resolve(doc, op["messages"][0]["$ref"]),
            resolve(doc, op["reply"]["messages"][0]["$ref"]),
        )
        for name, op in doc["operations"].items()
        if op["action"] == "receive"
    ]


async def test_openapi_document_is_valid_openapi(api: httpx.AsyncClient) -> None:
    """/openapi.json passes the OpenAPI 3.0 validator."""
    reply = await api.get("/openapi.json")
    assert reply.status_code == 200
    doc = reply.json()
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.0")
    assert {"bearer", "password"} <= set(doc["components"]["securitySchemes"])
    login = doc["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]
    assert set(login) == {"application/x-www-form-urlencoded"}


def test_openapi_documents_every_rest_route(tmp_path: Path) -> None:
    """Every REST route the app serves has its operation in the document, and no more."""
    app = create_app(Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/hub.db"}))
    served = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(("/api/", "/health"))
        for method in route.methods or ()
        if method != "HEAD"
    }
    from hub.web import docs, openapi

    doc = openapi.document(docs.ENDPOINTS)
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert served == documented


async def test_asyncapi_document_is_valid_asyncapi_3(api: httpx.AsyncClient) -> None:
    """/asyncapi.json passes the official AsyncAPI 3.0.0 JSON Schema."""
    reply = await api.get("/asyncapi.json")
    assert reply.status_code == 200
    doc = reply.json()
    spec = json.loads(ASYNCAPI_SCHEMA.read_text())
    errors = [e.message for e in jsonschema.Draft7Validator(spec).iter_errors(doc)]
    assert errors == []
    broken = {**doc, "operations": {"x": {"action": "publish"}}}
    assert list(jsonschema.Draft7Validator(spec).iter_errors(broken)), "the schema checks nothing"


async def test_asyncapi_covers_every_message_error_and_close_code(api: httpx.AsyncClient) -> None:
    """One request per declared type, its examples valid, every error and close code listed."""
    doc = (await api.get("/asyncapi.json")).json()
    found = requests_of(doc)
    assert [name for name, _, _ in found] == list(MESSAGES)
    for name, request, answer in found:
        assert request["x-who"] == MESSAGES[name].who
        data = request["payload"]["properties"]["data"]
        assert data == json.loads(json.dumps(MESSAGES[name].shape.json_schema()))
        for message in (request, answer):
            for example in message["examples"]:
                errors = list(validator(doc, message["payload"]).iter_errors(example["payload"]))
                assert errors == [], (name, [e.message for e in errors])
    codes = {c["code"] for c in doc["x-error-codes"]}
    assert codes == {cls.code for cls in _tree(HubError)}
    assert all(c["meaning"] for c in doc["x-error-codes"])
    assert {c["code"] for c in doc["x-close-codes"]} == {int(c) for c in CloseCode}
    for example in doc["components"]["messages"]["event"]["examples"]:
        event_schema = doc["components"]["messages"]["event"]["payload"]
        assert list(validator(doc, event_schema).iter_errors(example["payload"])) == []


def _tree(cls: type[HubError]) -> list[type[HubError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _tree(child))]


class Placeholders:
    """Swaps the fixed ids and token of the documented examples for real ones."""

    def __init__(self, admin: Account, calendar_id: str, client_id: str) -> None:
        self.values = {
            EXAMPLE_IDS["calendar"]: calendar_id,
            EXAMPLE_IDS["client"]: client_id,
            EXAMPLE_IDS["user"]: admin.id,
            EXAMPLE_TOKEN: admin.access_token,
            EXAMPLE_IDEMPOTENCY_KEY: "docs-" + uuid.uuid4().hex,
        }

    def fill(self, data: dict[str, Any], appointment_id: str | None) -> dict[str, Any]:
        text = json.dumps(data)
        values = dict(self.values)
        if appointment_id is not None:
            values[EXAMPLE_IDS["appointment"]] = appointment_id
        for placeholder, real in values.items():
            text = text.replace(placeholder, real)
        assert not re.search("|".join(map(re.escape, EXAMPLE_IDS.values())), text), text
        filled: dict[str, Any] = json.loads(text)
        return filled


async def test_every_documented_example_gets_its_documented_answer(
    hub: HubServer,
    api: httpx.AsyncClient,
    admin: Account,
    admin_ws: HubClient,
    calendar: dict[str, Any],
) -> None:
    """Each example request of /asyncapi.json, sent to a live hub, gets an ok of the documented shape."""
    doc = (await api.get("/asyncapi.json")).json()
    client = await sign_up(api, "client")
    fill = Placeholders(admin, calendar["id"], client.id)
    fresh = await HubClient.open(hub.ws_url)
    try:
        for day, (name, request, answer) in enumerate(requests_of(doc), start=1):
            example = request["examples"][0]["payload"]
            appointment_id = None
            if EXAMPLE_IDS["appointment"] in json.dumps(example):
                made = await admin_ws.ok(
                    "appointment.create",
                    {
                        "calendar_id": calendar["id"],
                        "starts_at": f"2031-01-{day:02d}T09:00:00Z",
                        "ends_at": f"2031-01-{day:02d}T10:00:00Z",
                        "title": "For " + name,
                        "client_id": client.id,
                    },
                )
                appointment_id = made["appointment"]["id"]
            if EXAMPLE_IDS["block"] in json.dumps(example):
                made = await admin_ws.ok(
                    "calendar.block",
                    {
                        "calendar_id": calendar["id"],
                        "starts_at": f"2031-03-{day:02d}T09:00:00Z",
                        "ends_at": f"2031-03-{day:02d}T10:00:00Z",
                    },
                )
                fill.values[EXAMPLE_IDS["block"]] = made["block"]["id"]
            if EXAMPLE_IDS["hold"] in json.dumps(example):
                held = await admin_ws.ok(
                    "slot.hold",
                    {
                        "calendar_id": calendar["id"],
                        "starts_at": f"2031-04-{day:02d}T09:00:00Z",
                        "ends_at": f"2031-04-{day:02d}T09:30:00Z",
                    },
                )
                fill.values[EXAMPLE_IDS["hold"]] = held["hold"]["id"]
            data = fill.fill(example.get("data", {}), appointment_id)
            socket = fresh if name == "hello" else admin_ws
            frame = await socket.request(example["type"], data)
            hint = "give its declaration in hub/protocol.py a working example= and answer="
            assert frame["type"] == "ok", (name, data, frame, hint)
            errors = list(validator(doc, answer["payload"]).iter_errors(frame))
            assert errors == [], (name, frame, [e.message for e in errors])
    finally:
        await fresh.close()


async def test_docs_pages_work_offline(api: httpx.AsyncClient) -> None:
    """/docs and /docs/protocol load only same-origin assets, and show every message."""
    page = await api.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        assert (await api.get(asset)).status_code == 200, asset
    init = (await api.get("/docs/swagger-init.js")).text
    assert "/openapi.json" in init and "http" not in init
    protocol = await api.get("/docs/protocol")
    assert protocol.status_code == 200
    assert not re.search(r'(?:src|href)="(?:https?:)?//', protocol.text)
    for name in MESSAGES:
        assert f'id="msg-{name}"' in protocol.text, name
    assert protocol.text.count("Example request") == len(MESSAGES)


@pytest.mark.parametrize("path", ["/docs/", "/docs/assets/swagger-ui.css"])
async def test_docs_paths_are_served(api: httpx.AsyncClient, path: str) -> None:
    """The trailing-slash page and the packaged Swagger UI assets are served."""
    assert (await api.get(path)).status_code == 200
