"""The kernel's optional profile of where a call's time goes (runtime.call_profile)."""

from __future__ import annotations

import numpy as np
import pytest

from tsilstm.runtime import GRU, LSTM
from tsilstm.runtime.call_profile import profiling, take_profile


@pytest.mark.parametrize("module_class", [LSTM, GRU])
def test_a_profiled_call_accounts_for_every_thread_and_changes_no_result(module_class) -> None:  # type: ignore[no-untyped-def]
    module = module_class(48, 160, schedule="tsi", threads=2)
    x = np.random.default_rng(3).standard_normal((7, 3, 48)).astype(np.float32)
    plain = module(x)[0]
    with profiling() as profile:
        profiled = module(x)[0]
        module(x)
    np.testing.assert_array_equal(plain, profiled)
    result = profile.result
    assert result is not None and result.calls == 2
    assert len(result.threads) == module.schedule_info[0]["threads"] == 2
    for thread in result.threads:
        assert thread.total_s > 0 and thread.hoist_s > 0 and thread.update_s > 0 and thread.wait_s >= 0
        assert thread.hoist_s + thread.update_s + thread.wait_s <= thread.total_s * (1 + 1e-9)
    shares = [result.share(part) for part in ("hoist_s", "products_s", "update_s", "wait_s")]
    assert sum(shares) == pytest.approx(1.0, abs=1e-6)


def test_nothing_is_recorded_outside_a_profiling_block() -> None:
    module = GRU(16, 64, threads=1)
    take_profile()
    module(np.zeros((3, 1, 16), np.float32))
    assert take_profile().calls == 0


def test_share_names_the_parts_it_knows() -> None:
    with profiling() as profile:
        pass
    assert profile.result is not None and profile.result.share("hoist_s") == 0.0
    with pytest.raises(ValueError, match="part"):
        profile.result.share("hoist")
