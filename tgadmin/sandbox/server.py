"""Serving the sandbox with uvicorn: `serve(host, port)` for processes, `ThreadedServer` for tests."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import uvicorn

from tgadmin.sandbox.app import create_app


def _config(host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(), host=host, port=port, log_level="warning", ws="none", lifespan="on", access_log=False
    )


async def serve(host: str = "127.0.0.1", port: int = 8081) -> None:
    """Run the sandbox until cancelled or interrupted."""
    config = _config(host, port)
    # The sandbox referees rate limits by the moment it handles each call: a long garbage-collector
    # pause would bunch the calls queued behind it and make the referee, not the client, break the
    # limit. Start-up objects are frozen out of collection and full collections made rarer.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    await uvicorn.Server(config).serve()


class ThreadedServer:
    """The sandbox in a background thread with its own event loop (for tests and embedding)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = uvicorn.Server(_config(host, port))
        self.thread = threading.Thread(target=self._run, name="tg-sandbox", daemon=True)
        self.host = host
        self.port = port

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self, timeout: float = 15.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Telegram sandbox did not start")
            time.sleep(0.02)
        if self.port == 0:
            self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
