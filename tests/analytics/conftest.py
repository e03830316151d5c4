from tests.creator.storefront import store  # noqa: F401 - shared fixtures
from tests.worker.harness import world, world_overrides  # noqa: F401 - shared fixtures
