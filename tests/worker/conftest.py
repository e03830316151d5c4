"""Worker fixtures: see tests/worker/harness.py."""

from tests.worker.harness import world, world_overrides  # noqa: F401 - shared fixtures
