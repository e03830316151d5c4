"""`tgadmin worker --metrics-port N`: the worker's Prometheus metrics on a small HTTP server of its own
(a thread; the worker has no web server otherwise), under the same rule as the dashboard's and the
bot's `/metrics`: METRICS_TOKEN as a bearer token when set, else loopback clients only."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from tgadmin.config import Settings
from tgadmin.errors import ConfigError
from tgadmin.metrics import scrape_allowed

StartResponse = Callable[..., Any]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Every scrape would be a line in the worker's log."""


def guarded(settings: Settings) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not scrape_allowed(settings, environ.get("REMOTE_ADDR"), environ.get("HTTP_AUTHORIZATION")):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"metrics: send METRICS_TOKEN as a bearer token, or scrape from loopback\n"]
        body: Iterable[bytes] = metrics(environ, start_response)
        return body

    return app


class MetricsServer:
    """Serves until `close()`; opening it on a port in use is one clear error."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        try:
            self._server = make_server(
                host, port, guarded(settings), ThreadingWSGIServer, handler_class=_Quiet
            )
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"--metrics-port {port}: already in use on {host}; choose another"
                ) from None
            raise ConfigError(f"--metrics-port {port}: cannot listen on {host}: {error.strerror}") from None
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
