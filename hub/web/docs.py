"""API documents and browsable docs, all served from this process (no CDN).

``/openapi.json`` and ``/asyncapi.json`` are generated from the declarations
(:mod:`hub.openapi`, :mod:`hub.asyncapi`). ``/docs`` is Swagger UI on the
assets the ``swagger-ui-bundle`` package ships; ``/docs/protocol`` is an HTML
page rendered here from the AsyncAPI document, so it needs no script at all.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

import swagger_ui_bundle  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hub.web import health, openapi, rest_auth, rest_booking, rest_feeds, rest_holds, rest_webhooks
from hub.wire import asyncapi

ENDPOINTS = [
    *health.ENDPOINTS,
    *rest_auth.ENDPOINTS,
    *rest_booking.ENDPOINTS,
    *rest_holds.ENDPOINTS,
    *rest_feeds.ENDPOINTS,
    *rest_webhooks.ENDPOINTS,
]
ASSETS = "/docs/assets"

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Scheduling hub REST API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<style>body {{ margin: 0; }} .hub-nav {{ font: 14px sans-serif; padding: 8px 20px;
background: #1b1b1b; }} .hub-nav a {{ color: #fff; margin-right: 16px; }}</style>
</head>
<body>
<nav class="hub-nav"><a href="/docs">REST API</a><a href="/docs/protocol">Socket protocol</a>
<a href="/openapi.json">openapi.json</a><a href="/asyncapi.json">asyncapi.json</a></nav>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
"""

SWAGGER_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
});
"""

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; }
header { background: #1b1b1b; color: #fff; padding: 12px 24px; }
header a { color: #9cd0ff; margin-right: 16px; }
main { max-width: 980px; margin: 0 auto; padding: 8px 24px 64px; }
h2 { border-top: 1px solid #d8dde6; padding-top: 20px; margin-top: 32px; }
h3 { margin-bottom: 4px; font-size: 15px; }
h2 code { font-size: 1.1em; }
code, pre { font: 13px/1.45 ui-monospace, monospace; }
pre { background: #f4f6f9; padding: 10px 12px; overflow-x: auto; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; }
td { border-bottom: 1px solid #e3e7ee; }
th { font-weight: 600; background: #f8f9fb; }
.who { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #e6f0ff; }
.who.staff { background: #fff1d6; } .who.admin { background: #ffe0e0; }
.toc { columns: 3; } .toc li { break-inside: avoid; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.pair > div { min-width: 0; }
"""


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi.document(ENDPOINTS))


def asyncapi_of(request: Request) -> dict[str, Any]:
    secure = request.url.scheme in ("https", "wss")
    return asyncapi.document(host=request.url.netloc, protocol="wss" if secure else "ws")


async def asyncapi_json(request: Request) -> JSONResponse:
    return JSONResponse(asyncapi_of(request))


async def swagger_page(request: Request) -> HTMLResponse:
    return HTMLResponse(SWAGGER_PAGE)


async def swagger_init(request: Request) -> Response:
    return Response(SWAGGER_INIT, media_type="text/javascript")


async def protocol_page(request: Request) -> HTMLResponse:
    return HTMLResponse(render_protocol(asyncapi_of(request)))


# Rendering of the AsyncAPI document


def _code(value: object) -> str:
    return f"<code>{escape(str(value))}</code>"


def _json(value: object) -> str:
    return f"<pre>{escape(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"


def _type(schema: dict[str, Any]) -> str:
    """A short human form of a schema: a link for a $ref, else its type and format."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#object-{escape(name)}">{escape(name)}</a>'
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " or ".join(_type(s) for s in schema[combinator])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + _type(schema.get("items", {}))
    if isinstance(kind, list):
        kind = " or ".join(kind)
    text = escape(str(kind))
    if "format" in schema:
        text += f" ({escape(schema['format'])})"
    return text


def _rules(schema: dict[str, Any]) -> str:
    rules = []
    if "enum" in schema:
        rules.append("one of " + ", ".join(_code(v) for v in schema["enum"]))
    if "const" in schema:
        rules.append("always " + _code(schema["const"]))
    for key, text in (
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minimum", "≥ {}"),
        ("maximum", "≤ {}"),
        ("pattern", "matches {}"),
    ):
        if key in schema:
            value = schema[key]
            rules.append(text.format(_code(value) if key == "pattern" else escape(str(value))))
    if "description" in schema:
        rules.append(escape(schema["description"]))
    return "; ".join(rules)


def fields_table(schema: dict[str, Any]) -> str:
    """The properties of an object schema as a table (name, type, required, rules)."""
    properties = schema.get("properties", {})
    if not properties:
        return "<p><em>No fields.</em></p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td>{_code(name)}</td><td>{_type(sub)}</td>"
        f"<td>{'yes' if name in required else 'no'}</td><td>{_rules(sub)}</td></tr>"
        for name, sub in properties.items()
    )
    return (
        f"<table><tr><th>field</th><th>type</th><th>required</th><th>rules</th></tr>{rows}</table>"
    )


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    if "$ref" in node:
        return _resolve(doc, node["$ref"])
    result: dict[str, Any] = node
    return result


def _operation(doc: dict[str, Any], name: str, operation: dict[str, Any]) -> str:
    request = _resolve(doc, operation["messages"][0]["$ref"])
    answer = _resolve(doc, operation["reply"]["messages"][0]["$ref"])
    who = operation.get("x-who", "anyone")
    return (
        f'<section id="msg-{escape(name)}"><h2>{_code(name)} '
        f'<span class="who {escape(who)}">{escape(who)}</span></h2>'
        f"<p>{escape(operation.get('summary', ''))}</p>"
        f"<h3>data</h3>{fields_table(request['payload']['properties']['data'])}"
        f"<h3>ok answer data</h3>{fields_table(answer['payload']['properties']['data'])}"
        '<div class="pair">'
        f"<div><h3>Example request</h3>{_json(request['examples'][0]['payload'])}</div>"
        f"<div><h3>Example answer</h3>{_json(answer['examples'][0]['payload'])}</div>"
        "</div></section>"
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_protocol(doc: dict[str, Any]) -> str:
    """The protocol reference page: every request, push, object, error and close code."""
    requests = {n: op for n, op in doc["operations"].items() if op["action"] == "receive"}
    messages = doc["components"]["messages"]
    toc = "".join(
        f'<li><a href="#msg-{escape(n)}">{escape(n)}</a> '
        f'<span class="who {escape(op.get("x-who", ""))}">{escape(op.get("x-who", ""))}</span></li>'
        for n, op in requests.items()
    )
    intro = "".join(f"<p>{escape(p)}</p>" for p in doc["info"]["description"].split("\n\n"))
    event = messages["event"]
    events = _table(
        ["event", "meaning"], [[_code(e["event"]), escape(e["meaning"])] for e in event["x-events"]]
    )
    objects = "".join(
        f'<section id="object-{escape(name)}"><h3>{escape(name)}</h3>'
        f"<p>{escape(schema.get('description', ''))}</p>"
        + (fields_table(schema) if "properties" in schema else f"<p>{_type(schema)}</p>")
        + "</section>"
        for name, schema in doc["components"]["schemas"].items()
    )
    errors = _table(
        ["code", "HTTP", "meaning"],
        [
            [_code(e["code"]), ", ".join(map(str, e["statuses"])), escape(e["meaning"])]
            for e in doc["x-error-codes"]
        ],
    )
    closes = _table(
        ["code", "when", "then"],
        [[_code(c["code"]), escape(c["when"]), escape(c["then"])] for c in doc["x-close-codes"]],
    )
    server = doc["servers"]["hub"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(doc["info"]["title"])}</title><style>{STYLE}</style></head>
<body><header><a href="/docs">REST API</a><a href="/docs/protocol">Socket protocol</a>
<a href="/asyncapi.json">asyncapi.json</a><a href="/openapi.json">openapi.json</a></header>
<main><h1>{escape(doc["info"]["title"])}, version {escape(doc["info"]["version"])}</h1>
<p>Endpoint: {_code(f"{server['protocol']}://{server['host']}{server['pathname']}")}</p>
{intro}<h2>Requests</h2><ul class="toc">{toc}</ul>
{"".join(_operation(doc, n, op) for n, op in requests.items())}
<h2 id="events">Server push: <code>event</code></h2><p>{escape(event["summary"])}</p>
{fields_table(event["payload"])}{events}{_json(event["examples"][0]["payload"])}
<h2 id="errors">Server push and answer: <code>error</code></h2>
<p>{escape(messages["error"]["summary"])}</p>{fields_table(messages["error"]["payload"])}
{"".join(_json(e["payload"]) for e in messages["error"]["examples"])}
<h2>Error codes</h2>{errors}<h2>Close codes</h2>{closes}
<h2>Objects</h2>{objects}</main></body></html>
"""


routes: list[BaseRoute] = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/asyncapi.json", asyncapi_json, methods=["GET"]),
    Route("/docs", swagger_page, methods=["GET"]),
    Route("/docs/", swagger_page, methods=["GET"]),
    Route("/docs/swagger-init.js", swagger_init, methods=["GET"]),
    Route("/docs/protocol", protocol_page, methods=["GET"]),
    Mount(ASSETS, app=StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets"),
]
