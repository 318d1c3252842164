"""The technician's page: plain HTML readable on a phone, refreshed every few seconds, served by
the agent itself on the gateway's LAN; and the same document as JSON for `ioc edge status`."""

from __future__ import annotations

import html
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from edge.status import AgentState

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;padding:12px;background:#111;color:#eee;font-size:17px}
h1{font-size:1.3em;margin:0 0 8px} .card{background:#222;border-radius:8px;padding:10px;margin:8px 0}
.ok{color:#4caf50}.bad{color:#ff5252}.warn{color:#ffb300} small{color:#aaa} code{color:#9cf}
"""


def _badge(ok: bool, yes: str, no: str) -> str:
    return f'<b class="{"ok" if ok else "bad"}">{yes if ok else no}</b>'


def render(state: AgentState) -> str:
    cards = []
    for d in state.devices:
        fresh = d.last_age_s is not None and d.last_age_s < 30
        values = ", ".join(f"{k} = {v}" for k, v in d.last_fields.items()) or "no reading yet"
        age = "never" if d.last_age_s is None else f"{d.last_age_s} s ago"
        error = (
            f'<div class="bad">{d.errors} errors; last: {html.escape(d.last_error)}</div>' if d.errors else ""
        )
        drops = ", ".join(f"{k}: {v}" for k, v in d.decoder_drops.items())
        cards.append(
            f'<div class="card device" id="device-{html.escape(d.id)}">'
            f"<b>{html.escape(d.id)}</b> <small>{html.escape(d.family)} on "
            f"<code>{html.escape(d.port or '-')}</code></small><br>"
            f"{_badge(d.connected, 'connected', 'not connected')} · "
            f'<span class="{"ok" if fresh else "warn"}">last reading {age}</span><br>'
            f"{html.escape(values)}<br><small>{d.produced} readings"
            f"{'; dropped by decoder: ' + html.escape(drops) if drops else ''}</small>{error}</div>"
        )
    quota = ", ".join(f"{k}: {v}" for k, v in state.quota_drops.items()) or "none"
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="refresh" content="3"><title>{html.escape(state.gateway)} · ioc edge</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Gateway {html.escape(state.gateway)} <small>({html.escape(state.city)})</small></h1>"
        f'<div class="card" id="uplink">Uplink: {_badge(state.uplink_connected, "connected", "offline")}'
        f" · reconnects {state.reconnects}<br>Buffer: <b>{state.buffer_depth}</b> readings waiting, "
        f"oldest {state.oldest_unsent_s} s<br><small>sent {state.sent}, confirmed {state.acked}; "
        f"quota drops: {html.escape(quota)}</small></div>" + "".join(cards) + "</body></html>"
    )


def create_app(state: Callable[[], AgentState]) -> FastAPI:
    app = FastAPI(title="ioc edge status", docs_url=None, redoc_url=None)

    @app.get("/api/status")
    def status() -> AgentState:
        return state()

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return render(state())

    return app
