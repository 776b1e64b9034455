"""The ULP budget modelgen declares for each output of a compiled model, per target.

Two sources, both written down and measured (README "Parity"):
- the reference itself is not portable: scikit-learn's dot product ``X @ coef`` goes through
  BLAS (FMA, vector accumulators, blocking that depends on the batch), so an output computed
  from a dot product of two or more features gets ``DOT_PRODUCT_ULP``. Measured on the golden
  cases: at most 64 ULP on ordinary rows, 8,192 where the terms cancel to near zero;
  scikit-learn's own result for the same row changes with the batch it is scored in;
- the target's math library: ``TARGET_LIBM`` for outputs that pass through a function
  whose result on that target is not glibc's.
Everything else is 0: bit-identical. The golden cases hold tighter, per-case budgets.
"""

from __future__ import annotations

from modelgen.ir import Binary, Const, Model, Node, Sum, Unary, topological_order

TARGET_LIBM: dict[str, tuple[frozenset[str], int]] = {
    # java.lang.Math.exp/log/pow are HotSpot intrinsics, not glibc: 1 ULP on 0.26% of exp
    # inputs (emitters/java/visitor.py), at most 2 ULP through expit/softmax/log links
    "java": (frozenset({"exp", "log", "log1p", "expm1", "pow"}), 2),
    # no SQL engine has log1p/expm1: built from ln/exp (emitters/sql/visitor.py), measured
    # at most 2 ULP from glibc on 70,000 inputs; at most 4 ULP after a log link
    "sql": (frozenset({"log1p", "expm1"}), 4),
    # Spark's EXP/LN/LOG1P/EXPM1/POWER are java.lang.StrictMath (fdlibm): measured on the
    # golden cases at most 2 ULP through expit/softmax/log links, 4 through isolation
    # forest's 2**-x (golden/*/case.json "sql:spark")
    "sql:spark": (frozenset({"exp", "log", "log1p", "expm1", "pow"}), 4),
}
"""Target (or target family before ``:``) -> (IR ops whose result is not glibc's there, extra
ULP of an output using them); a full target name wins over its family."""

DOT_PRODUCT_ULP = 2**16
"""Budget of an output computed from a BLAS dot product (relative difference ~1.5e-11)."""


def _is_dot_product(node: Node) -> bool:
    if not isinstance(node, Sum):
        return False
    weighted = [t for t in node.terms if isinstance(t, Binary) and t.op == "mul" and isinstance(t.b, Const)]
    return len(weighted) >= 2


def _uses_any(nodes: list[Node], ops: frozenset[str]) -> bool:
    return any(isinstance(node, (Unary, Binary)) and node.op in ops for node in nodes)


def declared_budget(model: Model, target: str) -> dict[str, int]:
    """Output name -> the largest ULP distance from the reference this target may show."""
    family = target.partition(":")[0]
    libm_ops, libm_extra = TARGET_LIBM.get(target, TARGET_LIBM.get(family, (frozenset(), 0)))
    budget = {}
    for output in model.outputs:
        if output.kind == "label":
            continue
        nodes = topological_order([output.expr])
        ulps = DOT_PRODUCT_ULP if any(_is_dot_product(n) for n in nodes) else 0
        if _uses_any(nodes, libm_ops):
            ulps += libm_extra
        budget[output.name] = ulps
    return budget
