"""validate_model: fitted models pass untouched; planted corruptions are refused by path.

Each corruption below is one scikit-learn's compiled predict code would trust: an
out-of-range child or feature index reads outside an array (a crash), a child that
points back to its parent loops for ever. The validator must name where it is and
which check failed; a model scikit-learn fitted must pass and predict the same.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.cluster import BisectingKMeans, KMeans, MiniBatchKMeans
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    StackingClassifier,
)
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import linear_kernel
from sklearn.neighbors import KernelDensity, KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC, SVR, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.tree._tree import Tree

from mllife import IntegrityError
from mllife.bundle import _state
from mllife.bundle._state import validate_model

RNG = np.random.default_rng(0)
X = RNG.normal(size=(240, 5))
Y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
YB = (X[:, 0] + 0.3 * X[:, 2] > 0).astype(int)
X_SPARSE = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
#: NaN in column 2, a category (0..5) in column 3 that drives the target.
X_CAT = X.copy()
X_CAT[::6, 2] = np.nan
X_CAT[:, 3] = RNG.integers(0, 6, len(X))
Y_CAT = (np.isin(X_CAT[:, 3], [1, 4]) ^ (X[:, 0] > 1)).astype(int)
DOCS = ["the cat sat", "a dog barked at the cat", "dogs and cats and birds"]


def _quiet(factory: Callable[[], Any]) -> Any:
    """Fit with scikit-learn 1.9's deprecation of ``SVC(probability=True)`` silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return factory()


def _column_pipeline() -> Pipeline:
    pre = ColumnTransformer([("cat", OneHotEncoder(sparse_output=True), [2]),
                             ("num", StandardScaler(), [0, 1])], sparse_threshold=1.0)
    return Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(X_CAT[:, [0, 1, 3]],
                                                                        Y_CAT)


FITTED: dict[str, tuple[Callable[[], Any], Any]] = {
    "tree-classifier": (lambda: DecisionTreeClassifier(random_state=0).fit(X, Y3), X),
    "tree-regressor-multioutput": (
        lambda: DecisionTreeRegressor(random_state=0).fit(X, X[:, :2] @ [[1, 2], [3, 4]]), X),
    "tree-with-nan": (lambda: DecisionTreeClassifier(random_state=0).fit(X_CAT, Y_CAT), X_CAT),
    "tree-sparse": (lambda: DecisionTreeClassifier(random_state=0).fit(X_SPARSE, Y3), X_SPARSE),
    "random-forest": (lambda: RandomForestClassifier(20, random_state=0).fit(X, Y3), X),
    "extra-trees": (lambda: ExtraTreesRegressor(10, random_state=0).fit(X, X[:, 0]), X),
    "gb-binary": (lambda: GradientBoostingClassifier(n_estimators=15, random_state=0)
                  .fit(X, YB), X),
    "gb-multiclass": (lambda: GradientBoostingClassifier(n_estimators=10, random_state=0)
                      .fit(X, Y3), X),
    "gb-sparse-init-zero": (lambda: GradientBoostingRegressor(n_estimators=10, init="zero")
                            .fit(X_SPARSE, X[:, 0]), X_SPARSE),
    "hgb-categorical-nan": (lambda: HistGradientBoostingClassifier(
        max_iter=15, categorical_features=[3], random_state=0).fit(X_CAT, Y_CAT), X_CAT),
    "hgb-multiclass": (lambda: HistGradientBoostingClassifier(max_iter=8, random_state=0)
                       .fit(X_CAT, Y3), X_CAT),
    "hgb-regressor-nan": (lambda: HistGradientBoostingRegressor(max_iter=15)
                          .fit(X_CAT, X[:, 0]), X_CAT),
    "isolation-forest": (lambda: IsolationForest(n_estimators=15, random_state=0).fit(X), X),
    "isolation-forest-subfeatures": (lambda: IsolationForest(
        n_estimators=15, max_features=3, random_state=0).fit(X), X),
    "svc-binary": (lambda: SVC().fit(X, YB), X),
    "svc-multiclass": (lambda: SVC(kernel="poly", degree=2).fit(X, Y3), X),
    "svc-sparse": (lambda: SVC().fit(X_SPARSE, Y3), X_SPARSE),
    "svc-proba-binary": (lambda: _quiet(lambda: SVC(probability=True, random_state=0)
                                        .fit(X, YB)), X),
    "svc-proba-multiclass-sparse": (lambda: _quiet(lambda: SVC(
        probability=True, random_state=0).fit(X_SPARSE, Y3)), X_SPARSE),
    "svc-precomputed": (lambda: SVC(kernel="precomputed").fit(X @ X.T, YB), X[:7] @ X.T),
    "svr": (lambda: SVR().fit(X, X[:, 0]), X),
    "one-class-svm": (lambda: OneClassSVM(nu=0.2).fit(X), X),
    "knn-kd-tree": (lambda: KNeighborsClassifier(algorithm="kd_tree").fit(X, Y3), X),
    "knn-ball-tree": (lambda: KNeighborsClassifier(algorithm="ball_tree", metric="minkowski",
                                                   p=3).fit(X, Y3), X),
    "knn-brute": (lambda: KNeighborsClassifier(algorithm="brute").fit(X, Y3), X),
    "knn-brute-sparse": (lambda: KNeighborsClassifier(algorithm="brute").fit(X_SPARSE, Y3),
                         X_SPARSE),
    "knn-multioutput": (lambda: KNeighborsClassifier(algorithm="kd_tree")
                        .fit(X, np.c_[Y3, YB]), X),
    "kernel-density": (lambda: KernelDensity(algorithm="ball_tree")
                       .fit(X, sample_weight=np.linspace(1, 2, len(X))), X),
    "kmeans": (lambda: KMeans(3, n_init=1, random_state=0).fit(X), X),
    "minibatch-kmeans": (lambda: MiniBatchKMeans(3, n_init=1, random_state=0).fit(X), X),
    "bisecting-kmeans": (lambda: BisectingKMeans(4, random_state=0).fit(X), X),
    "logistic-sparse": (lambda: LogisticRegression().fit(X_SPARSE, Y3), X_SPARSE),
    "logistic-sparse-coef": (lambda: LogisticRegression().fit(X, Y3).sparsify(), X),
    "pipeline-onehot-sparse": (_column_pipeline, X_CAT[:, [0, 1, 3]]),
    "onehot-infrequent-drop": (lambda: OneHotEncoder(
        min_frequency=30, drop="first", handle_unknown="infrequent_if_exist").fit(X_CAT[:, [3]]),
        X_CAT[:, [3]]),
    "tfidf-logistic": (lambda: Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2))),
                                         ("clf", LogisticRegression())]).fit(DOCS, [0, 1, 1]),
                       DOCS),
    "calibrated-forest": (lambda: CalibratedClassifierCV(
        RandomForestClassifier(5, random_state=0)).fit(X, YB), X),
    "stacking": (lambda: StackingClassifier([("rf", RandomForestClassifier(5, random_state=0)),
                                             ("svc", SVC())]).fit(X, YB), X),
}


def _outputs(model: Any, data: Any) -> list[np.ndarray]:
    """Everything a service may ask: predictions, probabilities, scores."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        for method in ("predict", "predict_proba", "decision_function", "score_samples",
                       "transform"):
            if hasattr(model, method):
                result = getattr(model, method)(data)  # a list with several outputs
                for r in result if isinstance(result, list) else [result]:
                    out.append(r.toarray() if sp.issparse(r) else np.asarray(r))
    return out


@pytest.mark.parametrize("name", list(FITTED))
def test_a_fitted_model_passes_and_predicts_the_same(name):
    factory, data = FITTED[name]
    model = factory()
    before = _outputs(model, data)
    validate_model(model)
    after = _outputs(model, data)
    assert len(before) == len(after) > 0
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ planted defects
def _set_nodes(tree: Tree, edit: Callable[[np.ndarray], None], **state: Any) -> None:
    """Edit a copy of a Tree's node array and load it back, as a crafted file would."""
    old = tree.__getstate__()
    nodes = old["nodes"].copy()
    edit(nodes)
    tree.__setstate__({**old, "nodes": nodes, **state})


def _split_nodes(tree: Tree) -> np.ndarray:
    return np.flatnonzero(tree.children_left != -1)


def _child_out_of_range(m):
    bad = m.tree_.node_count + 5
    _set_nodes(m.tree_, lambda n: n["left_child"].__setitem__(0, bad))
    return {"bad": bad}


def _cycle(m):
    tree = m.estimators_[3].tree_
    node = int(_split_nodes(tree)[1])  # a split node below the root: its child is the root
    _set_nodes(tree, lambda n: n["left_child"].__setitem__(node, 0))
    return {"node": node}


def _one_child(m):
    leaf = int(np.flatnonzero(m.tree_.children_left == -1)[0])
    _set_nodes(m.tree_, lambda n: n["left_child"].__setitem__(leaf, leaf + 1))
    return {"leaf": leaf, "next": leaf + 1}


def _feature_too_large(m):
    _set_nodes(m.tree_, lambda n: n["feature"].__setitem__(0, 5))


def _nan_threshold(m):
    _set_nodes(m.tree_, lambda n: n["threshold"].__setitem__(0, np.nan))


def _node_count_too_large(m):
    n = m.tree_.node_count
    _set_nodes(m.tree_, lambda nodes: None, node_count=n + 3)
    return {"n": n, "claimed": n + 3}


def _max_n_classes_widened(m):
    m.tree_.max_n_classes = 7  # the value array would be read as (n, 1, 7): past its end


def _value_layout_of_other_tree(m):
    old = m.tree_.__getstate__()
    tree = Tree(5, np.array([2], dtype=np.intp), 1)  # values for 2 classes, model has 3
    tree.__setstate__({**old, "values": np.ascontiguousarray(old["values"][:, :, :2])})
    m.tree_ = tree


def _gb_tree_other_width(m):
    m.estimators_[4, 0] = DecisionTreeRegressor(max_depth=2).fit(X[:, :3], X[:, 0])


def _forest_tree_other_width(m):
    m.estimators_[2] = DecisionTreeClassifier(max_depth=2).fit(X[:, :3], Y3)


def _gb_init_width(m):
    m.init_ = DummyClassifier(strategy="prior").fit(X, YB)  # 2 columns; the trees write 3


def _hgb_predictor(m) -> np.ndarray:
    return m._predictors[0][0].nodes


def _hgb_left_out_of_range(m):
    nodes = _hgb_predictor(m)
    nodes["left"][0] = len(nodes) + 10
    return {"bad": len(nodes) + 10, "n": len(nodes)}


def _hgb_feature_out_of_range(m):
    _hgb_predictor(m)["feature_idx"][0] = 5


def _hgb_bitset_out_of_range(m):
    for stage in m._predictors:
        nodes = stage[0].nodes
        cat = np.flatnonzero((nodes["is_categorical"] == 1) & (nodes["is_leaf"] == 0))
        if cat.size:
            nodes["bitset_idx"][cat[0]] = 99
            return
    raise AssertionError("the fixture has no categorical split")


def _hgb_category_out_of_range(m):
    m._bin_mapper.bin_thresholds_[0] = np.array([0.0, 1.0, 300.0])


def _hgb_in_fit(m):
    m._in_fit = True  # predict would treat raw floats as bin indices


def _coef_non_monotone(m):
    m.coef_.indptr[1], m.coef_.indptr[2] = m.coef_.indptr[2], m.coef_.indptr[1]


def _coef_index_out_of_range(m):
    m.coef_.indices[0] = 50


def _coef_end_not_nnz(m):
    m.coef_.indptr[-1] -= 1


def _svc_support_sum(m):
    m._n_support[0] += 1


def _svc_sparse_proba_empty(m):
    m._probA = m._probB = np.empty(0)


def _svc_dual_coef(m):
    m._dual_coef_ = np.ascontiguousarray(m._dual_coef_[:, :-1])


def _kd_state(m, edit):
    state = list(m._tree.__getstate__())
    edit(state)
    m._tree.__setstate__(tuple(state))


def _kd_index_out_of_range(m):
    _kd_state(m, lambda s: s.__setitem__(1, np.where(s[1] == 0, 10_000, s[1])))


def _kd_permuted(m):
    _kd_state(m, lambda s: s.__setitem__(1, s[1][::-1].copy()))


def _knn_labels(m):
    m._y = m._y.copy()
    m._y[5] = 7


def _brute_metric_weights(m):
    m.effective_metric_params_["VI"] = np.eye(2)  # brute force would read 5 x 5 values


def _kmeans_centres(m):
    m.cluster_centers_ = np.ascontiguousarray(m.cluster_centers_[:, :3])


def _linear_coef_width(m):
    m.coef_ = m.coef_[:, :3]


def _unsorted_categories(m):
    m.categories_[0] = m.categories_[0][::-1].copy()  # binary search would go past the end


def _fewer_outputs(m):
    m._n_features_outs[0] -= 1


def _vocabulary_column(m):
    m.vocabulary_["cat"] = 99


def _forest():
    return RandomForestClassifier(6, random_state=0).fit(X, Y3)


def _tree():
    return DecisionTreeClassifier(random_state=0).fit(X, Y3)


DEFECTS = [
    ("tree child out of range", _tree,
     _child_out_of_range, "model.tree_ (Tree): left child index {bad} of node 0 is outside"),
    ("tree cycle", _forest, _cycle,
     "model.estimators_[3].tree_ (Tree): child index 0 of node {node} is not greater than "
     "its parent"),
    ("tree leaf with one child", _tree,
     _one_child, "model.tree_ (Tree): node {leaf} has one child (left {next}, right -1)"),
    ("tree feature index", _tree,
     _feature_too_large, r"model.tree_ (Tree): feature index 5 of node 0 is outside [0, 5)"),
    ("tree NaN threshold", _tree,
     _nan_threshold, r"model.tree_ (Tree): threshold of node 0 is nan"),
    ("tree node_count", _tree,
     _node_count_too_large, "model.tree_ (Tree): node_count {claimed} is outside [1, "
                            "capacity {n}]"),
    ("tree values wider than stored", lambda: DecisionTreeClassifier(random_state=0)
     .fit(X, Y3), _max_n_classes_widened, r"model.tree_ (Tree): n_classes [3] does not match"),
    ("tree values for other classes", lambda: DecisionTreeClassifier(random_state=0)
     .fit(X, Y3), _value_layout_of_other_tree,
     r"model.tree_ (Tree): n_classes [2] differs from the estimator's"),
    ("forest tree width", _forest, _forest_tree_other_width,
     r"model.estimators_[2].tree_ (Tree): n_features 3 differs from the forest's "
     r"n_features_in_ 5"),
    ("gradient boosting tree width", lambda: GradientBoostingRegressor(n_estimators=6)
     .fit(X, X[:, 0]), _gb_tree_other_width, r"model.estimators_[4, 0].tree_ (Tree): is not a "
     r"one-output regression tree over the model's 5 features"),
    ("gradient boosting init width", lambda: GradientBoostingClassifier(n_estimators=3)
     .fit(X, Y3), _gb_init_width, r"model (GradientBoostingClassifier): its init_ estimator "
     r"predicts (2,) columns; the trees write 3"),
    ("hgb left out of range", lambda: HistGradientBoostingRegressor(max_iter=5)
     .fit(X, X[:, 0]), _hgb_left_out_of_range,
     "model._predictors[0][0] (TreePredictor): left child index {bad} of node 0 is outside "
     "[1, {n})"),
    ("hgb feature out of range", lambda: HistGradientBoostingRegressor(max_iter=5)
     .fit(X, X[:, 0]), _hgb_feature_out_of_range,
     r"model._predictors[0][0] (TreePredictor): feature index 5 of node 0 is outside [0, 5)"),
    ("hgb bitset out of range", lambda: HistGradientBoostingClassifier(
        max_iter=10, categorical_features=[3], random_state=0).fit(X_CAT, Y_CAT),
     _hgb_bitset_out_of_range, r"(TreePredictor): bitset index 99 of node "),
    ("hgb known category", lambda: HistGradientBoostingClassifier(
        max_iter=3, categorical_features=[3]).fit(X_CAT, Y_CAT), _hgb_category_out_of_range,
     r"model._bin_mapper.bin_thresholds_[0] (_BinMapper): known categories are not integers"),
    ("hgb in fit", lambda: HistGradientBoostingRegressor(max_iter=3).fit(X, X[:, 0]),
     _hgb_in_fit, r"model (HistGradientBoostingRegressor): is marked as in the middle of fit"),
    ("sparse indptr non-monotone", lambda: LogisticRegression().fit(X, Y3).sparsify(),
     _coef_non_monotone, r"model.coef_ (csr_matrix): indptr does not start at 0 and never "
     r"decrease"),
    ("sparse index out of range", lambda: LogisticRegression().fit(X, Y3).sparsify(),
     _coef_index_out_of_range, r"model.coef_ (csr_matrix): index 50 at position 0 is outside "
     r"[0, 5)"),
    ("sparse indptr end", lambda: LogisticRegression().fit(X, Y3).sparsify(),
     _coef_end_not_nnz, r"model.coef_ (csr_matrix): indptr ends at "),
    ("svc support counts", lambda: SVC().fit(X, Y3), _svc_support_sum,
     r"model (SVC): the support-vector counts sum to "),
    ("svc sparse probability", lambda: _quiet(lambda: SVC(probability=True, random_state=0)
                                             .fit(X_SPARSE, YB)), _svc_sparse_proba_empty,
     r"model (SVC): _probA/_probB have shapes (0,)/(0,); expected (0,) or (1,)"),
    ("svc dual coefficients", lambda: SVC().fit(X, Y3), _svc_dual_coef,
     r"model (SVC): _dual_coef_ has shape "),
    ("kd-tree index out of range", lambda: KNeighborsClassifier(algorithm="kd_tree")
     .fit(X, Y3), _kd_index_out_of_range,
     r"model._tree (KDTree): idx_array differs from the tree rebuilt from its own data"),
    ("ball-tree permuted", lambda: KNeighborsClassifier(algorithm="ball_tree").fit(X, Y3),
     _kd_permuted, r"model._tree (BallTree): idx_array differs from the tree rebuilt"),
    ("knn labels", lambda: KNeighborsClassifier(algorithm="brute").fit(X, Y3), _knn_labels,
     r"model._y (KNeighborsClassifier): encoded label 7 at position 5 is outside [0, 3)"),
    ("knn brute metric", lambda: KNeighborsClassifier(
        algorithm="brute", metric="mahalanobis", metric_params={"VI": np.eye(5)}).fit(X, Y3),
     _brute_metric_weights, "model.effective_metric_params_ (MahalanobisDistance64): its "
                            "weights do not have 5 features"),
    ("kmeans centres", lambda: KMeans(3, n_init=1, random_state=0).fit(X), _kmeans_centres,
     r"model (KMeans): cluster_centers_ has shape (3, 3); expected (n_clusters, 5) floats"),
    ("one-hot unsorted categories", lambda: OneHotEncoder().fit(X_CAT[:, [3, 0]]),
     _unsorted_categories, "model.categories_[0] (OneHotEncoder): numeric categories are not "
                           "sorted and unique"),
    ("one-hot output count", lambda: OneHotEncoder(drop="first").fit(X_CAT[:, [3]]),
     _fewer_outputs, "model (OneHotEncoder): feature 0: output column 4 at position 4 is "
                     "outside [0, 4)"),
    ("vocabulary column", lambda: CountVectorizer().fit(DOCS), _vocabulary_column,
     "model (CountVectorizer): vocabulary_ does not map its "),
    ("linear coef width", lambda: LogisticRegression().fit(X, YB), _linear_coef_width,
     r"model (LogisticRegression): coef_ has shape (1, 3); its last dimension should be "
     r"n_features_in_ 5"),
]


@pytest.mark.parametrize(("factory", "corrupt", "message"),
                         [case[1:] for case in DEFECTS], ids=[case[0] for case in DEFECTS])
def test_a_planted_defect_is_refused_naming_the_path_and_the_check(factory, corrupt, message):
    model = factory()
    facts = corrupt(model) or {}
    with pytest.raises(IntegrityError, match=re.escape(message.format(**facts))):
        validate_model(model)


def test_a_defect_deep_in_a_pipeline_names_its_path():
    model = Pipeline([("scale", StandardScaler()),
                      ("forest", RandomForestClassifier(30, random_state=0))]).fit(X, Y3)
    _feature_too_large(model.steps[1][1].estimators_[17])
    with pytest.raises(IntegrityError, match=re.escape(
            "model.steps[1][1].estimators_[17].tree_ (Tree): feature index 5 of node 0")):
        validate_model(model)


def test_a_tree_held_outside_an_estimator_is_still_checked():
    model = DecisionTreeClassifier(random_state=0).fit(X, Y3)
    holder = LogisticRegression().fit(X, Y3)
    holder.cache_ = {"kept": [model.tree_]}
    _nan_threshold(model)
    with pytest.raises(IntegrityError, match=re.escape("model.cache_['kept'][0] (Tree): "
                                                       "threshold of node 0 is nan")):
        validate_model(holder)


@pytest.mark.parametrize("container", ["dok", "lil"])
def test_sparse_containers_no_fitted_model_holds_are_refused(container):
    model = LogisticRegression().fit(X, Y3)
    model.coef_ = sp.csr_matrix(model.coef_).asformat(container)
    with pytest.raises(IntegrityError, match=f"{container} sparse containers are not accepted"):
        validate_model(model)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "dia"])
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csr_array])
def test_every_valid_sparse_format_passes(fmt, kind):
    model = LogisticRegression().fit(X, Y3)
    model.coef_ = kind(np.where(np.abs(model.coef_) > 0.2, model.coef_, 0)).asformat(fmt)
    validate_model(model)


def test_a_sparse_coo_or_bsr_out_of_its_shape_is_refused():
    model = LogisticRegression().fit(X, Y3)
    coo = sp.coo_array(model.coef_)
    coo.coords = (coo.coords[0], np.where(coo.coords[1] == 4, 9, coo.coords[1]))
    model.coef_ = coo
    with pytest.raises(IntegrityError, match=re.escape("coords[1] index 9")):
        validate_model(model)
    bsr = sp.bsr_array(np.ones((3, 5)), blocksize=(1, 5))
    bsr.indices[0] = 1
    model.coef_ = bsr
    with pytest.raises(IntegrityError, match=re.escape("(bsr_array): index 1 at position 0 "
                                                       "is outside [0, 1)")):
        validate_model(model)


def test_code_in_place_of_state_is_refused():
    svc = SVC(kernel=linear_kernel).fit(X, YB)
    with pytest.raises(IntegrityError, match="a callable kernel is code, not state"):
        validate_model(svc)
    knn = KNeighborsClassifier(algorithm="ball_tree", metric=lambda a, b: abs(a - b).sum())
    with pytest.raises(IntegrityError, match="a user-defined distance is code, not state"):
        validate_model(knn.fit(X[:30], Y3[:30]))


def test_a_distance_metric_sized_for_other_data_is_refused():
    vi = np.linalg.inv(np.cov(X.T))
    knn = KNeighborsClassifier(algorithm="ball_tree", metric="mahalanobis",
                               metric_params={"VI": vi}).fit(X, Y3)
    validate_model(knn)
    metric = knn._tree.__getstate__()[11]
    p, vec, _ = metric.__getstate__()
    metric.__setstate__((p, vec, np.ascontiguousarray(vi[:, :3])))  # reads 5 columns
    with pytest.raises(IntegrityError, match=re.escape(
            "model._tree.dist_metric (MahalanobisDistance64): its weights do not have 5")):
        validate_model(knn)


def test_an_estimator_without_n_features_in_is_refused():
    model = DecisionTreeClassifier(random_state=0).fit(X, Y3)
    del model.n_features_in_  # predict would then accept input of any width
    with pytest.raises(IntegrityError, match=re.escape(
            "model (DecisionTreeClassifier): n_features_in_ is None")):
        validate_model(model)


def test_an_isolation_forest_whose_features_disagree_is_refused():
    model = IsolationForest(n_estimators=5, max_features=3, random_state=0).fit(X)
    model.estimators_features_[1] = model.estimators_features_[1][:2]
    with pytest.raises(IntegrityError, match=re.escape("model.estimators_[1]")):
        validate_model(model)


def test_an_unknown_predictor_layout_is_refused():
    model = HistGradientBoostingRegressor(max_iter=3).fit(X, X[:, 0])
    pred = model._predictors[1][0]
    pred.nodes = pred.nodes[["value", "left", "right", "is_leaf"]].copy()
    with pytest.raises(IntegrityError, match=re.escape(
            "model._predictors[1][0] (TreePredictor): unknown node layout")):
        validate_model(model)


def test_unfitted_estimators_and_cycles_pass():
    model = StackingClassifier([("rf", RandomForestClassifier(3))])  # never fitted
    loop: list[Any] = []
    loop.append(loop)
    model.extra_ = {"self": model, "loop": loop}
    validate_model(model)


def test_a_graph_too_deep_or_too_large_is_refused(monkeypatch):
    model = LogisticRegression().fit(X, YB)
    nested: list[Any] = []
    model.extra_ = nested
    for _ in range(_state.MAX_DEPTH + 5):
        nested.append([])
        nested = nested[0]
    with pytest.raises(IntegrityError, match="nests deeper than"):
        validate_model(model)
    model.extra_ = [[i] for i in range(50)]
    monkeypatch.setattr(_state, "MAX_OBJECTS", 20)
    with pytest.raises(IntegrityError, match="more than 20 objects"):
        validate_model(model)


# ------------------------------------------------------------------------ n_jobs
def test_n_jobs_is_set_by_the_caller_on_every_estimator():
    forest = RandomForestClassifier(5, n_jobs=-1, random_state=0).fit(X, YB)
    validate_model(forest)
    assert forest.n_jobs == 1
    validate_model(forest, n_jobs=2)
    assert forest.n_jobs == 2
    validate_model(forest, n_jobs=None)
    assert forest.n_jobs is None

    stack = StackingClassifier(
        [("rf", RandomForestClassifier(3, n_jobs=-1, random_state=0)),
         ("knn", KNeighborsClassifier(n_jobs=-1))],
        final_estimator=KNeighborsClassifier(n_jobs=-1), n_jobs=-1).fit(X, YB)
    model = Pipeline([("pre", ColumnTransformer([("s", StandardScaler(), [0, 1, 2])],
                                                n_jobs=-1)), ("stack", stack)]).fit(X, YB)
    validate_model(model, n_jobs=2)
    nested = [model.steps[0][1], stack, stack.estimators[0][1], stack.estimators[1][1],
              *stack.estimators_, stack.final_estimator, stack.final_estimator_]
    assert [est.n_jobs for est in nested] == [2] * len(nested)


def test_kmeans_threads_follow_the_caller():
    model = KMeans(3, n_init=1, random_state=0).fit(X)
    model._n_threads = 512  # what a file could claim
    validate_model(model)
    assert model._n_threads == 1


# ------------------------------------------------------------------- crash safety
_FUZZ = r"""
import copy, sys, warnings
import numpy as np, scipy.sparse as sp
from hypothesis import HealthCheck, given, settings, strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from mllife import IntegrityError
from mllife.bundle._state import validate_model

rng = np.random.default_rng(1)
X = rng.normal(size=(80, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
XS = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
TREE = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
STATE = TREE.tree_.__getstate__()
N = int(STATE["node_count"])
LINEAR = LogisticRegression().fit(X, y).sparsify()
XC = X.copy()
XC[:, 3] = rng.integers(0, 5, len(X))
XC[::7, 2] = np.nan
HGB = HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=6, categorical_features=[3],
                                     random_state=0).fit(XC, (XC[:, 3] % 2 == 0) ^ (y > 0))
NODES = HGB._predictors[0][0].nodes
accepted = {"tree": 0, "coef": 0, "hgb": 0}
rejected = {"tree": 0, "coef": 0, "hgb": 0}
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
values = st.integers(-3, N + 3) | st.sampled_from([-(2**62), 2**62])
tree_edits = st.lists(st.tuples(
    st.sampled_from(["left_child", "right_child", "feature", "swap", "threshold"]),
    st.integers(0, N - 1), values,
    st.sampled_from([0.0, -1.5, np.inf, -np.inf, np.nan])), min_size=1, max_size=4)


def use(model, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.predict(data)
        model.predict_proba(data)
        if hasattr(model, "tree_"):
            model.apply(data)
            model.decision_path(data)
            model.feature_importances_


@SETTINGS
@given(tree_edits)
def fuzz_tree(edits):
    model = copy.deepcopy(TREE)
    nodes = STATE["nodes"].copy()
    for field, i, value, threshold in edits:
        if field == "swap":
            nodes["left_child"][i], nodes["right_child"][i] = (
                nodes["right_child"][i], nodes["left_child"][i])
        elif field == "threshold":
            nodes["threshold"][i] = threshold
        else:
            nodes[field][i] = value
    model.tree_.__setstate__({**STATE, "nodes": nodes})
    try:
        validate_model(model)
    except IntegrityError:
        rejected["tree"] += 1
        return
    accepted["tree"] += 1
    use(model, X)
    use(model, XS)


coef_edits = st.lists(st.tuples(
    st.sampled_from(["indptr", "indices", "truncate", "data"]), st.integers(0, 20),
    st.integers(-3, 12)), min_size=1, max_size=3)


@SETTINGS
@given(coef_edits)
def fuzz_coef(edits):
    model = copy.deepcopy(LINEAR)
    coef = model.coef_
    for field, i, value in edits:
        if field == "truncate":
            coef.indices, coef.data = coef.indices[:-1], coef.data[:-1]
        elif field == "data":
            coef.data[i % max(coef.data.size, 1)] = value
        else:
            array = getattr(coef, field)
            if array.size:
                array[i % array.size] = value
    try:
        validate_model(model)
    except IntegrityError:
        rejected["coef"] += 1
        return
    accepted["coef"] += 1
    use(model, X)
    use(model, XS)


hgb_edits = st.lists(st.tuples(
    st.sampled_from(["left", "right", "feature_idx", "is_leaf", "is_categorical", "bitset_idx",
                     "num_threshold"]),
    st.integers(0, len(NODES) - 1), st.integers(0, len(NODES) + 2) | st.just(2**32 - 1)),
    min_size=1, max_size=3)


@SETTINGS
@given(hgb_edits)
def fuzz_hgb(edits):
    model = copy.deepcopy(HGB)
    nodes = model._predictors[0][0].nodes
    for field, i, value in edits:
        if field == "num_threshold":
            nodes[field][i] = np.nan
        elif field in ("is_leaf", "is_categorical"):
            nodes[field][i] = value % 2
        elif field == "feature_idx":
            nodes[field][i] = value - 2
        else:
            nodes[field][i] = value
    try:
        validate_model(model)
    except IntegrityError:
        rejected["hgb"] += 1
        return
    accepted["hgb"] += 1
    model.predict(XC)
    model.predict_proba(XC)


fuzz_tree()
fuzz_coef()
fuzz_hgb()
print(accepted, rejected)
assert min(accepted.values()) > 0 and min(rejected.values()) > 0, (accepted, rejected)
"""


def test_whatever_validation_accepts_predicts_without_crashing():
    """Fuzz the node arrays of a small tree and of a histogram-boosting predictor, and a
    sparse ``coef_``, in a child process: every state either raises IntegrityError (and
    nothing else) or predicts. A crash (segfault) or a hang fails this test instead of
    killing pytest."""
    done = subprocess.run([sys.executable, "-c", _FUZZ], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
