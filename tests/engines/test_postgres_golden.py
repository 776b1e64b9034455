"""The golden cases that already pass on real PostgreSQL 15, bit for bit, refused rows included.

``sql:postgres`` is not in ``tests/test_golden.py``'s TARGETS yet: the other cases fail for
reasons listed in ``FAILING`` (each one is a real gap, not a flaky test).
"""

from __future__ import annotations

import pytest
from golden_cases import GoldenCase, golden_cases

from modelgen.compiler import lower
from modelgen.engines import pg_cluster
from modelgen.verify import build_target, compare_outputs, csv_subset, read_rows, rejects

TARGET = "sql:postgres"

PASSING = (
    "credit_logistic", "decision_tree_classifier_nan", "decision_tree_multioutput", "decision_tree_regressor_nan",
    "extra_tree_classifier_nan", "extra_tree_regressor", "extra_trees_classifier", "extra_trees_regressor_nan",
    "gradient_boosting_absolute_error", "gradient_boosting_binary", "gradient_boosting_exponential",
    "gradient_boosting_huber", "gradient_boosting_multiclass", "gradient_boosting_quantile_zero_init",
    "gradient_boosting_squared_error", "hist_gradient_boosting_categorical", "hist_gradient_boosting_gamma",
    "hist_gradient_boosting_multiclass_early_stop", "hist_gradient_boosting_nan", "hist_gradient_boosting_poisson",
    "imputer_indicator_linear_svc", "infrequent_onehot_ordinal_missing", "isolation_forest",
    "linear_regression_scaled", "multinomial_kbins_ordinal", "onehot_kbins_linear", "onehot_missing_category_ridge",
    "ordinal_random_forest_pipeline", "ovr_logistic_most_frequent", "random_forest_classifier_nan",
    "random_forest_regressor", "sgd_hinge_single_feature", "sgd_log_loss_binary", "sgd_modified_huber_multiclass",
)
FAILING = {
    "products/sums": "PostgreSQL raises 'value out of range: underflow/overflow' where a finite float8 * or / "
    "gives 0 or + - * / gives inf (adversarial tiny/huge inputs): elasticnet_robust_maxabs, gamma_sqrt, "
    "interactions_linear_svr, lasso_unnamed, normalizer_binarizer_ridge_classifier, poisson_log1p, "
    "poly3_sgd_regressor, ridge_minmax_clip, tweedie_identity, tweedie_log_functions",
}
CASES = [c for c in golden_cases() if c.name in PASSING]


def test_every_listed_case_exists() -> None:
    assert sorted(c.name for c in CASES) == sorted(PASSING)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case_on_postgres(
    case: GoldenCase, postgres: pg_cluster.PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model = lower(case.model_path)
    rows = read_rows(case.input_csv, model)
    scorer = build_target(model, TARGET, tmp_path_factory.mktemp(case.name))
    actual = scorer.score(case.input_csv, rows)
    report = compare_outputs(model, TARGET, case.expected(model), actual, case.budget(TARGET))
    assert report.error is None, report.error
    problems = [f"{o.name}: max {o.max_ulp} ULP, {o.mismatches} rows" for o in report.outputs if not o.ok]
    assert not problems, "; ".join(problems)
    if case.refused_csv is not None:
        text = case.refused_csv
        for index in range(len(read_rows(text, model))):
            single = csv_subset(text, [index])
            assert rejects(scorer, single, read_rows(single, model)), f"refused row {index + 1} was scored"
