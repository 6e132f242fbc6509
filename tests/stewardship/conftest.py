import pytest

from tests.stewardship import fixtures


@pytest.fixture
def env(tmp_path):
    return fixtures.build(tmp_path)
