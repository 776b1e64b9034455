"""IR passes: pure functions ``Model -> Model``, run in one ordered list, each followed by a check."""

from __future__ import annotations

from collections.abc import Callable

from modelgen.ir import Model
from modelgen.ir.bulk import collector_paused
from modelgen.passes.check_invariants import check_invariants
from modelgen.passes.drop_trivial_checks import drop_trivial_checks
from modelgen.passes.float32_thresholds import rewrite_float32_thresholds
from modelgen.passes.fold_one_hot_sums import fold_one_hot_sums
from modelgen.passes.simplify_identities import simplify_identities
from modelgen.passes.split_long_sums import split_long_sums

Pass = Callable[[Model], Model]

PASSES: tuple[Pass, ...] = (
    drop_trivial_checks,
    rewrite_float32_thresholds,
    simplify_identities,
    fold_one_hot_sums,
    split_long_sums,
)
"""The default pipeline, in order. Every pass preserves the model's bits exactly."""


def run_passes(model: Model, passes: tuple[Pass, ...] = PASSES) -> Model:
    """Run ``passes`` in order, checking the IR's invariants after each one."""
    with collector_paused():  # passes rebuild big models: see modelgen.ir.bulk
        check_invariants(model)
        for pass_ in passes:
            model = pass_(model)
            check_invariants(model)
    return model
