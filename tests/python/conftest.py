import os

import numpy as np
import pytest


@pytest.fixture
def rng():
    """Fresh random data every run; the seed is printed so a failure can be replayed."""
    seed = np.random.SeedSequence().entropy
    print(f"rng seed: {seed}")
    return np.random.default_rng(seed)


@pytest.fixture(scope="session", autouse=True)
def cache_of_this_run(tmp_path_factory):
    """Caches (backend auto's choices, engines) start empty in every test run
    and stay out of the user's: a choice an earlier run measured under other
    load cannot decide this one. Subprocesses (the CLI, serve) inherit it."""
    before = os.environ.get("XRT_CACHE_DIR")
    os.environ["XRT_CACHE_DIR"] = str(tmp_path_factory.mktemp("xrt-cache"))
    yield
    if before is None:
        del os.environ["XRT_CACHE_DIR"]
    else:
        os.environ["XRT_CACHE_DIR"] = before
