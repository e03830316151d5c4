from tests.creator.storefront import store  # noqa: F401 - the shared fixture
