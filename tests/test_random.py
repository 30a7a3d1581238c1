"""npgrad.random (torch.random): fork_rng restores the generator; seed reseeds it."""

import npgrad


def test_fork_rng_and_seed():
    npgrad.manual_seed(3)
    expected = npgrad.randn(4)
    npgrad.manual_seed(3)
    with npgrad.random.fork_rng():
        npgrad.randn(10)
    assert (npgrad.randn(4) == expected).all()
    with npgrad.random.fork_rng(enabled=False):
        npgrad.randn(1)
    value = npgrad.seed()
    assert npgrad.initial_seed() == value == npgrad.random.initial_seed()
    state = npgrad.random.get_rng_state()
    first = npgrad.randn(2)
    npgrad.random.set_rng_state(state)
    assert (npgrad.randn(2) == first).all()
