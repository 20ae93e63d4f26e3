"""The review desk: a Starlette app over the review store (see :func:`create_app`).

Routes: ``/`` the queue, ``/overview``, ``POST /decide`` and ``POST /undo``,
``/export.csv`` and ``/export.jsonl`` (the queue's filters), ``/archive/{id}``
(an item's archived response, as text), ``/static/*``. Every store access
goes through :mod:`connectors.store` and :mod:`connectors.store_queries`:
fixed SQL with bound parameters, nothing a reviewer types runs as a query.
"""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from connectors import store_queries as q
from desk.archive import ArchiveMissing, find_record
from desk.charts import day_window, stacked_chart
from desk.config import DeskConfig
from desk.export import csv_lines, jsonl_lines, review_fields
from desk.filters import DECISION_CHOICES, View, parse_view
from desk.guard import Guard, same_origin, same_secret
from desk.pool import StorePool
from desk.render import entry, safe_url

__all__ = ["create_app"]

OVERVIEW_DAYS = 30
# The queue's count is exact up to this many items, then shown as "more than".
COUNT_CAP = 5000


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("desk", "templates"),
        autoescape=True,  # every field of an item is hostile text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["safe_url"] = safe_url
    return env


class Desk:
    """The desk's handlers, bound to one store and configuration."""

    def __init__(self, config: DeskConfig) -> None:
        self.config = config
        self.pool = StorePool(config.store)
        self.csrf = secrets.token_urlsafe(32)
        self.env = _templates()

    def reviewer(self, request: Request) -> str:
        if self.config.identity_header:
            return request.headers.get(self.config.identity_header, "").strip()[:200]
        return self.config.reviewer

    def page(self, name: str, request: Request, status: int = 200, **context) -> HTMLResponse:
        context.update(
            csrf=self.csrf,
            reviewer=self.reviewer(request),
            store_name=self.config.store.name,
            path=request.url.path,
        )
        return HTMLResponse(self.env.get_template(name).render(context), status_code=status)

    # -- the queue ------------------------------------------------------------------------

    def queue(self, request: Request) -> Response:
        view = View({}, 1)
        try:
            view = parse_view(request.query_params)
            filters = view.query_filter()
            size = self.config.page_size
            with self.pool.store() as store:
                # Counting stops past the cap: a category or search filter checks
                # every row it counts, and a reviewer needs "many", not the digit.
                total = q.count_queue(store, filters, at_most=COUNT_CAP + 1)
                last = None if total > COUNT_CAP else max(1, -(-total // size))
                view = view.with_page(min(view.page, last or view.page))
                offset = (view.page - 1) * size
                rows = q.queue(store, filters, limit=size + 1, offset=offset)
                facets = self.pool.cached("facets", lambda: q.facets(store))
        except ValueError as exc:
            return self.page("queue.html", request, 400, error=str(exc), view=view, entries=[],
                             total=0, last=1, more=False, facets={}, choices=DECISION_CHOICES,
                             cap=COUNT_CAP)  # fmt: skip
        return self.page(
            "queue.html",
            request,
            error=None,
            view=view,
            entries=[entry(r) for r in rows[:size]],
            total=total,
            last=last,
            more=len(rows) > size,
            facets=facets,
            choices=DECISION_CHOICES,
            cap=COUNT_CAP,
        )

    # -- decisions ------------------------------------------------------------------------

    async def decide(self, request: Request) -> Response:
        return await self._change(request, undo=False)

    async def undo(self, request: Request) -> Response:
        return await self._change(request, undo=True)

    async def _change(self, request: Request, *, undo: bool) -> Response:
        form = await request.form()
        token = request.headers.get("x-csrf-token") or str(form.get("csrf", ""))
        if not same_origin(request.headers) or not same_secret(token, self.csrf):
            return PlainTextResponse("refused: missing or wrong CSRF token, or another origin", 403)
        item_id = str(form.get("item_id", ""))
        reviewer = self.reviewer(request)
        from starlette.concurrency import run_in_threadpool

        def write():
            with self.pool.store() as store:
                if undo:
                    q.undo(store, item_id, reviewer=reviewer)
                else:
                    q.record_decision(store, item_id, str(form.get("decision", "")),
                                      reviewer=reviewer, note=str(form.get("note", ""))[:2000])  # fmt: skip
                return store.item(item_id)

        try:
            stored = await run_in_threadpool(write)
        except ValueError as exc:
            return PlainTextResponse(str(exc), 400)
        if stored is None:
            return PlainTextResponse(f"no flagged item with id {item_id!r}", 404)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"item_id": item_id, **review_fields(stored)})
        back = str(form.get("next", "/"))
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"
        return RedirectResponse(back, status_code=303)

    # -- export, archive, overview --------------------------------------------------------

    def export(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("csv", "jsonl"):
            return PlainTextResponse("exports are /export.csv and /export.jsonl", 404)
        try:
            filters = parse_view(request.query_params).query_filter()
            filters.where()
        except ValueError as exc:
            return PlainTextResponse(str(exc), 400)
        lines = csv_lines if kind == "csv" else jsonl_lines
        media = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

        def body():
            with self.pool.store() as store:
                yield from lines(q.export_rows(store, filters))

        return StreamingResponse(
            body(),
            media_type=media,
            headers={"content-disposition": f'attachment; filename="flagged-{stamp}.{kind}"'},
        )

    def archived(self, request: Request) -> Response:
        item_id = request.path_params["item_id"]
        with self.pool.store() as store:
            stored = store.item(item_id)
        if stored is None or stored.item.archive is None:
            return PlainTextResponse("this item has no archived copy", 404)
        if self.config.archive is None:
            return PlainTextResponse("the desk was started without --archive DIR", 404)
        try:
            copy = find_record(self.config.archive, stored.item.archive)
        except (ArchiveMissing, OSError) as exc:
            return PlainTextResponse(str(exc), 404)
        head = (
            f"Archived copy of {copy.url}\nHTTP {copy.status}, captured {copy.captured_at}, "
            f"Content-Type: {copy.content_type or '-'}\nWARC {copy.file} record {copy.record_id}\n"
            + "-" * 72 + "\n"
        )  # fmt: skip
        return PlainTextResponse(
            head + copy.text,
            headers={
                "content-security-policy": "default-src 'none'; sandbox",
                "content-disposition": "inline",
            },
        )

    def overview(self, request: Request) -> Response:
        today = datetime.now(UTC).date()
        since = (today - timedelta(days=OVERVIEW_DAYS - 1)).isoformat()
        with self.pool.store() as store:
            newest = store.connection.execute("SELECT max(sort_time) FROM flagged").fetchone()[0]
            end, moved = today, False
            if newest and newest[:10] < since:  # an archive backfill: show its last 30 days
                end, moved = date.fromisoformat(newest[:10]), True
                since = (end - timedelta(days=OVERVIEW_DAYS - 1)).isoformat()
            days = day_window(end, OVERVIEW_DAYS)
            by_category = q.daily_counts(store, "category", since)
            by_language = q.daily_counts(store, "language", since)
            sources = q.top_sources(store, 15)
            decisions = q.counts_by_decision(store)
        return self.page(
            "overview.html",
            request,
            category_chart=stacked_chart(by_category, days),
            language_chart=stacked_chart(by_language, days),
            sources=sources,
            decisions=decisions,
            first=days[0],
            last=days[-1],
            moved=moved,
        )


def create_app(config: DeskConfig) -> Starlette:
    """The desk as an ASGI app (wrapped in its :class:`desk.guard.Guard`)."""
    desk = Desk(config)

    @asynccontextmanager
    async def lifespan(app):
        yield
        desk.pool.close()

    static = StaticFiles(directory=str(files("desk") / "static"))
    app = Starlette(
        routes=[
            Route("/", desk.queue),
            Route("/overview", desk.overview),
            Route("/decide", desk.decide, methods=["POST"]),
            Route("/undo", desk.undo, methods=["POST"]),
            Route("/export.{kind:str}", desk.export),
            Route("/archive/{item_id:str}", desk.archived),
            Mount("/static", static, name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.desk = desk
    return Guard(app, config)  # type: ignore[return-value]
