"""Child processes of `tgadmin dev`: started together, logs prefixed by name, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO

COLOURS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m"]
RESET = "\033[0m"


def _pump(name: str, colour: str, stream: IO[str], out: IO[str]) -> None:
    prefix = f"{colour}{name:<9}|{RESET} " if out.isatty() else f"{name:<9}| "
    for line in stream:
        out.write(prefix + line)
        out.flush()


@dataclass
class Supervisor:
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [sys.executable, "-m", "tgadmin", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Own process group: Ctrl-C reaches the supervisor, which stops children in order.
            start_new_session=True,
        )
        colour = COLOURS[len(self.processes) % len(COLOURS)]
        assert process.stdout is not None
        threading.Thread(target=_pump, args=(name, colour, process.stdout, sys.stdout), daemon=True).start()
        self.processes[name] = process
        return process

    def exited(self) -> str | None:
        """The name of a child that has stopped on its own, if any."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def stop_all(self, timeout: float = 10.0) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
