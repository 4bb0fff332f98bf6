import numpy as np
import pytest


@pytest.fixture
def rng():
    """Fresh random data every run; the seed is printed so a failure can be replayed."""
    seed = np.random.SeedSequence().entropy
    print(f"rng seed: {seed}")
    return np.random.default_rng(seed)
