"""The console's ASGI application: pages, the small JSON API the page script calls, and
static files, all behind :class:`~console.security.ConsoleGuard`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from console import commands_view, results
from console.connections import Connections
from console.dashboard import DashboardReader, bar_chart
from console.playground import Playground, clean_overrides, custom_system_name, overrides_yaml
from console.secrets_guard import SecretScrubber
from console.security import AccessKeys, ConsoleGuard

HERE = Path(__file__).resolve().parent
MAX_BODY = 20 * 1024 * 1024
PAGE_EVENTS = 25


@dataclass
class ConsoleConfig:
    """Everything the console serves: the loaded connector, connections, the job state."""

    connector: Any
    connections: Connections
    keys: AccessKeys = field(default_factory=AccessKeys.generate)
    state_path: Path | None = None
    port: int | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    refresh_seconds: float = 15.0
    """How often the job dashboard reloads itself in an open page."""


class Console:
    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.connector = config.connector
        self.manifest = config.connector.plugin.manifest
        self.views = commands_view.command_views(self.manifest)
        self.playground = Playground(_mapping_files(config.connector))
        self.dashboard = DashboardReader(config.state_path, config.now)
        self.scrubber = SecretScrubber(config.connections.secret_values)
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(["html"]))
        self.templates.filters["as_json"] = results.as_json
        self.templates.globals.update(is_scalar=results.is_scalar, tree=results.tree,
                                      json_preview=results.json_preview,
                                      table_of=results.table_of, bar_chart=bar_chart)

    # -- responses -----------------------------------------------------------------------------

    def render(self, name: str, **context: Any) -> str:
        base = {"csrf": self.config.keys.csrf,
                "integration": self.manifest.integration.get("name", "Integration"),
                "connections": self.config.connections.labels()}
        return self.scrubber.scrub(self.templates.get_template(name).render(**base, **context))

    def page(self, name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.render(name, **context))

    def json(self, body: dict[str, Any], status: int = 200) -> Response:
        text = self.scrubber.scrub(json.dumps(body, ensure_ascii=False, default=str))
        return Response(text, status_code=status, media_type="application/json")

    # -- pages ---------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/commands", status_code=303)

    async def commands_page(self, request: Request) -> Response:
        wanted = request.path_params.get("command_id")
        current = next((v for v in self.views if v.id == wanted), None)
        if wanted is not None and current is None:
            return self.page("not_found.html", what=f"command {wanted!r}")
        return self.page("commands.html", groups=commands_view.grouped(self.views),
                         current=current, page="commands")

    async def connections_page(self, request: Request) -> Response:
        connections = self.config.connections
        entries = [(label, connections.public_view(label)) for label in connections.labels()]
        return self.page("connections.html", entries=entries, page="connections",
                         commands=self.views)

    async def playground_page(self, request: Request) -> Response:
        sources = self.playground.sources()
        return self.page("playground.html", sources=sources, page="playground")

    async def jobs_page(self, request: Request) -> Response:
        board = await run_in_threadpool(self.dashboard.read)
        return self.page("jobs.html", board=board, page="jobs",
                         refresh_ms=int(self.config.refresh_seconds * 1000))

    # -- API -----------------------------------------------------------------------------------

    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ValueError("the request is too large")
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        return body

    async def api_run(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except ValueError as exc:
            return self.json({"error": str(exc)}, 400)
        command = str(body.get("command", ""))
        view = next((v for v in self.views if v.id == command), None)
        inputs = {str(k): v for k, v in (body.get("inputs") or {}).items()
                  if isinstance(v, str) and v.strip() != ""} \
            if isinstance(body.get("inputs"), dict) else {}
        connection = self.config.connections.get(body.get("connection"))
        result = await run_in_threadpool(self.connector.run, command, inputs, connection or {})
        return self.json(self._result_body(view, result))

    def _result_body(self, view: Any, result: dict[str, Any]) -> dict[str, Any]:
        errors = result.get("errors") or []
        message = errors[0].get("message", "") if errors else ""
        field_id = commands_view.invalid_field(view, message) if errors else None
        html = self.render("result.html", result=result, tabs=results.tabs(result))
        return {"status": result.get("status"), "field": field_id, "message": message,
                "html": html}

    async def api_test_connection(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except ValueError as exc:
            return self.json({"error": str(exc)}, 400)
        label = body.get("connection")
        connection = self.config.connections.get(label)
        if connection is None:
            return self.json({"error": "unknown connection"}, 400)
        test = next((v for v in self.views if v.group == "Connection"), None)
        if test is None:
            return self.json({"error": "the integration has no connection test"}, 400)
        result = await run_in_threadpool(self.connector.run, test.id, {}, connection)
        readiness = results.readiness(self.views, result)
        html = self.render("readiness.html", result=result, readiness=readiness,
                           tabs=results.tabs(result))
        return self.json({"status": result.get("status"), "html": html})

    async def api_map(self, request: Request) -> Response:
        try:
            body = await self._body(request)
            document = json.loads(str(body.get("document") or ""))
        except ValueError as exc:
            return self.json({"error": f"the response is not JSON: {exc}"}, 400)
        if isinstance(document, dict) and isinstance(document.get("raw_data"), dict):
            document = document["raw_data"]  # a saved result object: map its raw data
        overrides = clean_overrides(body.get("overrides"))
        source = str(body.get("source") or "")
        report = await run_in_threadpool(self.playground.map, document, source, overrides)
        html = self.render("mapping.html", report=report)
        return self.json({"html": html, "overrides": overrides_yaml(overrides),
                          "events": report.events})

    async def api_fetch_page(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except ValueError as exc:
            return self.json({"error": str(exc)}, 400)
        connection = self.config.connections.get(body.get("connection"))
        fetch = results.fetch_command(self.manifest, self.playground.sources())
        if fetch is None:
            return self.json({"error": "the integration has no fetch command"}, 400)
        command_id, type_input, limit_input = fetch
        inputs: dict[str, str] = {}
        event_type = next((s.event_type for s in self.playground.sources()
                           if s.id == body.get("source")), None)
        if event_type and type_input:
            inputs[type_input] = event_type
        if limit_input:
            inputs[limit_input] = str(PAGE_EVENTS)
        result = await run_in_threadpool(self.connector.run, command_id, inputs,
                                         connection or {})
        errors = result.get("errors") or []
        if result.get("status") == "Failed":
            return self.json({"error": errors[0]["message"] if errors else "failed"}, 200)
        return self.json({"document": json.dumps(result.get("raw_data"), indent=2,
                                                 ensure_ascii=False)})

    async def api_overrides_file(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except ValueError as exc:
            return self.json({"error": str(exc)}, 400)
        text = overrides_yaml(clean_overrides(body.get("overrides")))
        return Response(self.scrubber.scrub(text), media_type="application/x-yaml",
                        headers={"content-disposition": 'attachment; filename="mappings.yaml"'})

    async def api_system_name(self, request: Request) -> Response:
        name = request.query_params.get("name", "")
        return self.json({"system_name": custom_system_name(name)})


def _mapping_files(connector: Any) -> list[Path]:
    plugin = connector.plugin
    files = getattr(plugin, "mapping_files", None)
    if callable(files):
        return list(files())
    return [plugin.plugin_dir / s.file for s in plugin.manifest.event_sources]


def build_app(config: ConsoleConfig) -> ConsoleGuard:
    console = Console(config)
    routes = [
        Route("/", console.home),
        Route("/commands", console.commands_page),
        Route("/commands/{command_id}", console.commands_page),
        Route("/connections", console.connections_page),
        Route("/playground", console.playground_page),
        Route("/jobs", console.jobs_page),
        Route("/api/run", console.api_run, methods=["POST"]),
        Route("/api/test-connection", console.api_test_connection, methods=["POST"]),
        Route("/api/map", console.api_map, methods=["POST"]),
        Route("/api/fetch-page", console.api_fetch_page, methods=["POST"]),
        Route("/api/overrides-file", console.api_overrides_file, methods=["POST"]),
        Route("/api/system-name", console.api_system_name),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return ConsoleGuard(Starlette(routes=routes), config.keys, config.port)
