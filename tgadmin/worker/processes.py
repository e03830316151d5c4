"""Start and stop `tgadmin worker` processes from a script (benchmarks, tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def spawn_workers(
    count: int,
    env: Mapping[str, str],
    *,
    concurrency: int | None = None,
    log_dir: Path | None = None,
) -> list[subprocess.Popen[bytes]]:
    """Start `count` worker processes with `env` added to this environment (DATABASE_URL,
    REDIS_URL, REDIS_PREFIX, TELEGRAM_API_BASE_URL...). Logs go to `log_dir/worker-N.log`."""
    procs = []
    for index in range(count):
        argv = [sys.executable, "-m", "tgadmin", "worker"]
        if concurrency is not None:
            argv += ["--concurrency", str(concurrency)]
        out = open(log_dir / f"worker-{index}.log", "ab") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        procs.append(
            subprocess.Popen(argv, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        )
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]], timeout: float = 40.0) -> list[int]:
    """SIGTERM each (graceful: in-flight jobs finish), wait, kill what is left; returns exit codes."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes
