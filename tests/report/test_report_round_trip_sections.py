"""``from_dict`` rebuilds the optional sections too, on both pandas versions.

``tests/test_report_contract.py`` covers one report of every producer; these are the
sections that only some calls fill: metric by period and fairness (date-time columns,
group labels), SHAP importance, regression and multiclass evaluations, the drift
domain classifier and date-time columns, an audit with a time and id columns.
"""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

import mllife
from mllife.report import Report


@pytest.fixture(scope="module")
def data():
    frame = mllife.make_churn(1_200, random_state=0, defects=False).frame
    X = frame[["tenure_months", "monthly_charges", "support_tickets", "usage_gb"]].fillna(0.0)
    return frame, X


def _evaluate_time_fairness(data):
    from sklearn.linear_model import LogisticRegression

    frame, X = data
    y = frame["churned"]
    model = LogisticRegression().fit(X[:800], y[:800])
    return mllife.evaluate(model, X[800:], y[800:], time=frame["last_event_at"][800:],
                           sensitive_features=frame["gender"][800:], explain=True)


def _evaluate_regression(data):
    from sklearn.linear_model import Ridge

    frame, X = data
    X, y = X.drop(columns="monthly_charges"), frame["monthly_charges"]
    return mllife.evaluate(Ridge().fit(X[:800], y[:800]), X[800:], y[800:],
                           X_train=X[:800], y_train=y[:800])


def _evaluate_multiclass(data):
    from sklearn.tree import DecisionTreeClassifier

    frame, X = data
    y = frame["plan"]
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[:800], y[:800])
    return mllife.evaluate(model, X[800:], y[800:])


def _drift_domain(data):
    frame, _X = data
    columns = ["monthly_charges", "plan", "last_event_at", "age"]
    return mllife.drift_report(frame[columns].iloc[:600], frame[columns].iloc[600:],
                               multivariate=True)


def _audit_time(data):
    return mllife.audit(mllife.make_churn(600, random_state=1).frame, target="churned",
                        time_col="last_event_at", id_cols=["customer_id"])


PRODUCERS = [_evaluate_time_fairness, _evaluate_regression, _evaluate_multiclass, _drift_domain,
             _audit_time]


@pytest.mark.parametrize("make", PRODUCERS, ids=lambda f: f.__name__.lstrip("_"))
def test_optional_sections_round_trip(make, data):
    report = make(data)
    expected = report.to_dict()
    again = Report.from_dict(json.loads(json.dumps(expected, allow_nan=False)))
    assert type(again) is type(report)
    assert again.to_dict() == expected
    assert again == report == pickle.loads(pickle.dumps(report))
    for name in ("by_period", "fairness", "importance", "table", "profile", "train_test_gap"):
        value = getattr(report, name, None)
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(getattr(again, name), value)
    assert len(again._plots()) == len(report._plots())
