"""A real MLflow store for the tracking tests: one SQLite store per test module.

Creating a store costs a couple of seconds (MLflow migrates a new database), so each
module shares one (``mlflow_store``) and each test gets its own experiment in it
(``tracker``). Every test also checks that nothing touched MLflow's process-wide state.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

_experiments = itertools.count()


@dataclass(frozen=True)
class Store:
    """A local MLflow store: its folder, URI and a client to read runs back."""

    folder: Path
    uri: str
    client: object


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory):
    """A new store made by ``MlflowTracker(tracking_uri=folder)``, once per session."""
    from mllife.tracking import MlflowTracker

    folder = tmp_path_factory.mktemp("mlflow-template")
    tracker = MlflowTracker(tracking_uri=folder)
    return Store(folder, tracker.tracking_uri, tracker.client)


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory, mlflow_template):
    """A store of the module's own in a temporary folder (``mlflow.db`` and ``mlruns/``).

    A copy of the session's new database (MLflow takes seconds to create one), its
    ``Default`` experiment's artifacts moved to this folder's ``mlruns/0``.
    """
    from mllife.tracking import MlflowTracker

    folder = tmp_path_factory.mktemp("mlflow-store")
    shutil.copyfile(mlflow_template.folder / "mlflow.db", folder / "mlflow.db")
    db = sqlite3.connect(folder / "mlflow.db")
    with db:
        db.execute("UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
                   ((folder / "mlruns" / "0").as_uri(),))
    db.close()
    tracker = MlflowTracker(tracking_uri=folder)
    return Store(folder, tracker.tracking_uri, tracker.client)


@pytest.fixture
def tracker(mlflow_store, request):
    """An ``MlflowTracker`` on the module's store, in a fresh experiment of its own."""
    from mllife.tracking import MlflowTracker

    name = f"{request.node.name[:200]}-{next(_experiments)}"
    return MlflowTracker(name, tracking_uri=mlflow_store.uri)


@pytest.fixture(autouse=True)
def _no_global_mlflow_state():
    """No test leaves an active MLflow run or changes MLflow's tracking URI."""
    import mlflow

    uri, env = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    yield
    assert mlflow.active_run() is None
    assert mlflow.get_tracking_uri() == uri
    assert os.environ.get("MLFLOW_TRACKING_URI") == env


def child_runs(client, run_id):
    """The runs nested under ``run_id``, by name."""
    run = client.get_run(run_id)
    found = client.search_runs([run.info.experiment_id],
                               filter_string=f"tags.mlflow.parentRunId = '{run_id}'",
                               max_results=1000)
    return {r.info.run_name: r for r in found}
