# The migrated warehouse of each backend, with rows reset per test (tests/warehouse/conftest.py).
from tests.warehouse.conftest import migrated_url, wh  # noqa: F401
