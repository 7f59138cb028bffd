import pytest


@pytest.fixture(autouse=True)
def _tiny_nets_on_one_thread(one_thread):
    """Every test here trains tiny nets: see ``one_thread`` in tests/conftest.py."""
