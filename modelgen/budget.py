"""The ULP budget modelgen declares for each output of a compiled model, per target.

Two sources, both written down and measured (README "Parity"):
- the frontend's ``metadata["ulp_budget"]``: where the *reference* itself is not portable
  (scikit-learn's dot product goes through BLAS, whose summation order we cannot copy);
- the target's math library: ``TARGET_LIBM_ULP`` for outputs that pass through a
  transcendental function, where the target's libm is not glibc's.
Everything else is 0: bit-identical.
"""

from __future__ import annotations

from modelgen.ir import Model, Unary, topological_order
from modelgen.ir.nodes import Binary

TRANSCENDENTAL_UNARY = frozenset({"exp", "log", "log1p", "expm1"})

TARGET_LIBM_ULP: dict[str, int] = {
    # java.lang.Math.exp/log are HotSpot intrinsics, not glibc: measured in emitters/java
    "java": 2,
}


def _uses_transcendental(model: Model, output_index: int) -> bool:
    for node in topological_order([model.outputs[output_index].expr]):
        if isinstance(node, Unary) and node.op in TRANSCENDENTAL_UNARY:
            return True
        if isinstance(node, Binary) and node.op == "pow":
            return True
    return False


def declared_budget(model: Model, target: str) -> dict[str, int]:
    """Output name -> the largest ULP distance from the reference this target may show."""
    frontend = dict(model.metadata.get("ulp_budget", {}))
    libm_extra = TARGET_LIBM_ULP.get(target.partition(":")[0], 0)
    budget = {}
    for index, output in enumerate(model.outputs):
        if output.kind == "label":
            continue
        extra = libm_extra if libm_extra and _uses_transcendental(model, index) else 0
        budget[output.name] = int(frontend.get(output.name, 0)) + extra
    return budget
