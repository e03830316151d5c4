"""Test set-up: real PostgreSQL and SQLite, real Redis, the Telegram sandbox over HTTP.

Settings for the test run are fixed here, before any tgadmin module reads them.
"""

from __future__ import annotations

import os

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
