from tests.helpers import tiny_nets_on_one_thread  # noqa: F401  (autouse: every test here trains tiny nets)
