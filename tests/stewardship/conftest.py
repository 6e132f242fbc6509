import pytest

from tests.stewardship import fixtures, nights
from tests.warehouse.conftest import migrated_url, reset  # noqa: F401 - the fixture
from warehouse import connect


@pytest.fixture
def env(tmp_path):
    return fixtures.build(tmp_path)


@pytest.fixture
def url(migrated_url):  # noqa: F811 - the imported fixture
    """A migrated warehouse (each backend) holding the four nights of tests/stewardship/nights."""
    with connect(migrated_url) as wh:
        reset(wh)
        nights.fill(wh)
    return migrated_url
