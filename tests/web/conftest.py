from tests.worker.harness import world, world_overrides  # noqa: F401 - shared fixtures
