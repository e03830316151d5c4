"""Test set-up: real PostgreSQL and SQLite, real Redis, the Telegram sandbox over HTTP.

Settings for the test run are fixed here, before any tgadmin module reads them.
"""

from __future__ import annotations

import gc
import os
import threading

import pytest

os.environ.setdefault("DATA_ENCRYPTION_KEY", "8kbJ0JdPX8Qm1TnQd0a3H0p9HqkK3X2ZcJ6mM8Yj3gU=")
os.environ.setdefault("SESSION_SECRET", "test-session-secret")
os.environ.setdefault("MAGIC_LINK_SECRET", "test-magic-link-secret")
# Never let a developer's .env reach the tests' idea of the defaults.
os.environ.setdefault("TGADMIN_TESTING", "1")

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.redis",
    "tests.fixtures.servers",
    "tests.fixtures.sandbox",
    "tests.fixtures.dashboard",
]


# aiosqlite runs each connection on a thread of this name, which ends when the connection closes.
AIOSQLITE_THREAD = "(_connection_worker_thread)"
LEAK_CHECK = os.environ.get("TGADMIN_LEAK_CHECK") == "1"


def open_aiosqlite_connections() -> list[str]:
    """The threads of aiosqlite connections still open once the collector has finalized the dropped
    ones (a connection closing right now is given a moment)."""
    gc.collect()
    threads = [t for t in threading.enumerate() if t.name.endswith(AIOSQLITE_THREAD)]
    for thread in threads:
        thread.join(2)
    return [t.name for t in threads if t.is_alive()]


def pytest_configure(config: pytest.Config) -> None:
    if LEAK_CHECK:
        # Added last, so it wins over pyproject's "default" entries for the collector's finds.
        config.addinivalue_line("filterwarnings", "error::pytest.PytestUnraisableExceptionWarning")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Every fixture is torn down by now, so an aiosqlite connection still open was never closed: it
    is reported (one still referenced somewhere warns about nothing on its own), and with
    TGADMIN_LEAK_CHECK=1 it fails the run."""
    still_open = open_aiosqlite_connections()
    if still_open:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"aiosqlite connections never closed (run with TGADMIN_LEAK_CHECK=1): {still_open}"
        if reporter is not None:
            reporter.write_sep("=", message, red=LEAK_CHECK, yellow=not LEAK_CHECK)
        if LEAK_CHECK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


if LEAK_CHECK:

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(item: pytest.Item) -> None:
        """With TGADMIN_LEAK_CHECK=1, collect garbage once a test's fixtures are torn down, so an
        unclosed client, socket or connection is reported on the test that dropped it (run with
        PYTHONTRACEMALLOC=25 to see where it was allocated), and fail the test if it left an aiosqlite
        connection open. Runs before pytest's own look at what the collector found (its trylast hook
        was registered earlier, so it is called later)."""
        still_open = open_aiosqlite_connections()
        assert not still_open, f"aiosqlite connections left open by this test: {still_open}"
