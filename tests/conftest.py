"""Shared test settings: hypothesis profiles (``--hypothesis-profile=long`` for the long fuzz run)."""

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


def pytest_configure(config):  # type: ignore[no-untyped-def]
    """Keep the schedule decisions the tests measure out of the user's cache directory (each run of
    the suite starts with an empty store, as a fresh machine would)."""
    import os
    import tempfile

    from tsilstm.runtime.decision_store import CACHE_DIR_ENV

    os.environ[CACHE_DIR_ENV] = tempfile.mkdtemp(prefix="tsilstm-test-cache-")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_trial_holds_the_turn():  # type: ignore[no-untyped-def]
    """Each test starts with no in-place trial running: a module a previous test keeps alive would
    otherwise hold the process's one trial turn for up to TURN_IDLE_SECONDS (its calls then run the
    host), which makes a test's outcome depend on the ones before it."""
    from tsilstm.runtime.inplace_choice import TURN

    TURN.holder = None
    yield
