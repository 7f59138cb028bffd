import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny nets run faster on one thread, above all on shared, busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
