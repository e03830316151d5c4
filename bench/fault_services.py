"""The faults bench's private redis-server and PostgreSQL cluster, and how a case restarts them.

Private (temporary directories, free loopback ports) so that the shared services of the other test
runs are never touched.
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import harness
from harness import free_port, say, wait_for

DOWN_SECONDS = 4.0  # how long a service stays down


class PrivateRedis:
    """redis-server on a free port, AOF on with fsync at every write (BullMQ's requirement)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir), "--save", ""),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.answers, 20, "the private redis-server", poll=0.1)

    def answers(self) -> bool:
        done = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False)
        return done.stdout.strip() == b"PONG"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a temporary directory (initdb as the postgres user)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "pg"
        self.dir.mkdir()
        shutil.chown(root, "postgres")
        shutil.chown(self.dir, "postgres")
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.admin_dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)

    def _ctl(self, *args: str) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.dir), "-w", *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._ctl("-o", options, "-l", str(self.dir / "server.log"), "start")

    def stop(self) -> None:
        # fast: every connection is cut, as when the server or its machine goes away.
        self._ctl("-m", "fast", "stop")

    def running(self) -> bool:
        return (self.dir / "postmaster.pid").exists()


@contextlib.contextmanager
def services() -> Iterator[tuple[PrivateRedis, PrivatePostgres]]:
    root = Path(tempfile.mkdtemp(prefix="tgadmin-faults-"))
    redis, postgres = PrivateRedis(root), None
    try:
        postgres = PrivatePostgres(root)
        redis.start()
        postgres.start()
        say(f"private redis on {redis.port}, private PostgreSQL on {postgres.port} ({root})")
        harness.REDIS_URL, harness.PG_ADMIN_DSN = redis.url, postgres.admin_dsn
        yield redis, postgres
    finally:
        redis.stop()
        if postgres is not None and postgres.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def restart(name: str, stop: Callable[[], None], start: Callable[[], None]) -> float:
    """Stop, stay down DOWN_SECONDS, start; returns the moment the service answers again."""
    stop()
    say(f"{name} stopped; down for {DOWN_SECONDS:.0f} s")
    time.sleep(DOWN_SECONDS)
    start()
    say(f"{name} back")
    return time.time()
