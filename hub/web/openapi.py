"""REST route declarations and the OpenAPI 3.0 document built from them.

Each REST module lists its routes as :class:`Endpoint` values: the Starlette
routes (:func:`routes_of`) and the OpenAPI operations (:func:`document`) are
both made from that one list, and request bodies and queries are described
by the very :class:`~hub.schema.Shape` the handler validates with. Object
schemas come from :mod:`hub.wire_schemas`, shared with the AsyncAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.wire import json_schemas as wire
from hub.wire.schema import Shape

Handler = Callable[[Request], Awaitable[Response]]
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
_PATH_PARAM = re.compile(r"{(\w+)}")
# An answer holding one of these objects links to the routes taking its id in the path.
LINKED_IDS = {
    "Appointment": "appointment_id",
    "ProjectedAppointment": "appointment_id",
    "User": "user_id",
}

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "The body is not valid JSON (or not a valid form)",
    401: "No, invalid, expired or revoked access token (or a failed sign-in)",
    403: "Signed in, but not allowed",
    404: "No such user, calendar or appointment",
    409: "Conflict: see error.code",
    413: "The body is too large",
    422: "A field is missing or wrong: error.details.field names it",
    429: "Too many attempts: error.details.retry_after_ms",
    503: "A backing service is down; nothing was applied",
}


@dataclass(frozen=True)
class Endpoint:
    """One REST route: the Starlette route and its OpenAPI operation come from here.

    ``answer`` is the JSON Schema of a successful body (None: no body);
    ``errors`` lists the error statuses the route answers besides the ones
    implied by the rest (400/413 for a body, 422 for any input, 401 when
    signed in, 503 when it reaches a backing service).
    """

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: Shape | None = None
    form: bool = False
    query: Shape | None = None
    answer: Mapping[str, Any] | None = None
    status: int = 200
    auth: bool = False
    errors: tuple[int, ...] = ()
    example: Mapping[str, Any] | None = None
    answer_example: Any = None
    description: str = ""
    backends: bool = True
    other_answers: Mapping[int, Mapping[str, Any]] | None = None
    name: str = ""

    def route(self) -> Route:
        return Route(self.path, self.handler, methods=[self.method])

    @property
    def operation_id(self) -> str:
        """Unique per document: the handler's name unless ``name`` says otherwise."""
        return self.name or self.handler.__name__


def routes_of(endpoints: Iterable[Endpoint]) -> list[Route]:
    """The Starlette routes of some endpoints, in order."""
    return [endpoint.route() for endpoint in endpoints]


def to_openapi30(schema: Any) -> Any:
    """Rewrite JSON Schema into OpenAPI 3.0's dialect: nullable, no const."""
    if isinstance(schema, list):
        return [to_openapi30(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "const":
            out["enum"] = [value]
        elif key in ("example", "examples", "default"):
            out[key] = value
        elif key in ("properties", "patternProperties"):
            out[key] = {name: to_openapi30(sub) for name, sub in value.items()}
        else:
            out[key] = to_openapi30(value)
    return out


def _error_statuses(endpoint: Endpoint) -> list[int]:
    statuses = set(endpoint.errors)
    if endpoint.body is not None:
        statuses |= {400, 413, 422}
    if endpoint.query is not None or _PATH_PARAM.search(endpoint.path):
        statuses.add(422)
    if endpoint.auth:
        statuses.add(401)
    if endpoint.backends:
        statuses.add(503)
    return sorted(statuses)


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
        for name in _PATH_PARAM.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        for field in endpoint.query.fields:
            schema = endpoint.query.json_schema()["properties"][field.name]
            params.append(
                {"name": field.name, "in": "query", "required": field.required, "schema": schema}
            )
    return params


def _content(schema: Mapping[str, Any], example: Any, media: str = JSON) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": schema}
    if example is not None:
        body["example"] = example
    return {media: body}


def _links(endpoint: Endpoint, endpoints: list[Endpoint]) -> dict[str, Any]:
    """OpenAPI links from an answer's ``id`` to the routes that take it."""
    ref = str((endpoint.answer or {}).get("$ref", ""))
    param = LINKED_IDS.get(ref.rsplit("/", 1)[-1])
    if param is None:
        return {}
    return {
        other.operation_id: {
            "operationId": other.operation_id,
            "parameters": {param: "$response.body#/id"},
        }
        for other in endpoints
        if param in _PATH_PARAM.findall(other.path) and other is not endpoint
    }


def _operation(endpoint: Endpoint, endpoints: list[Endpoint]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    parameters = _parameters(endpoint)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        media = FORM if endpoint.form else JSON
        required = any(f.required for f in endpoint.body.fields)
        operation["requestBody"] = {
            "required": required,
            "content": _content(endpoint.body.json_schema(), endpoint.example, media),
        }
    ok: dict[str, Any] = {"description": STATUS_TEXT.get(endpoint.status, "OK")}
    if endpoint.answer is not None:
        ok["content"] = _content(endpoint.answer, endpoint.answer_example)
    links = _links(endpoint, endpoints)
    if links:
        ok["links"] = links
    responses: dict[str, Any] = {str(endpoint.status): ok}
    for status, schema in (endpoint.other_answers or {}).items():
        responses[str(status)] = {
            "description": STATUS_TEXT[status],
            "content": _content(schema, None),
        }
    for status in _error_statuses(endpoint):
        responses.setdefault(
            str(status),
            {"description": STATUS_TEXT[status], "content": _content(wire.ref("ErrorBody"), None)},
        )
    operation["responses"] = responses
    if endpoint.auth:
        operation["security"] = [{"bearer": []}, {"password": []}]
    return operation


DESCRIPTION = """\
JSON in and out. Errors are `{"error": {"code", "message", "details"?}}` with the
protocol's error codes; `details.field` names the field at fault. Protected
endpoints take `Authorization: Bearer <access token>` from one of the sign-in
endpoints. REST writes go through the same code as the socket operations
(see the [socket protocol](/docs/protocol)) and publish the same events.
"""


def document(endpoints: Iterable[Endpoint], server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of these endpoints, served at /openapi.json."""
    endpoints = list(endpoints)
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, endpoints
        )
        if endpoint.tag not in tags:
            tags.append(endpoint.tag)
    login = next((e.path for e in endpoints if e.form), "/api/v1/auth/login")
    doc: dict[str, Any] = to_openapi30(
        {
            "openapi": "3.0.3",
            "info": {
                "title": "Scheduling hub REST API",
                "version": "1",
                "description": DESCRIPTION,
            },
            "servers": [{"url": server_url}],
            "tags": [{"name": tag} for tag in tags],
            "paths": paths,
            "components": {
                "schemas": wire.SCHEMAS,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "password": {
                        "type": "oauth2",
                        "description": "Sign in with email (as username) and password.",
                        "flows": {"password": {"tokenUrl": login, "scopes": {}}},
                    },
                },
            },
        }
    )
    return doc
