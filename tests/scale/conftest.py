"""A real ``dask.distributed`` cluster for the scale tests: threads in this process.

One cluster per test module (``--dist loadfile`` keeps a module on one pytest
worker): starting one takes about a second. Tests that need worker processes
start their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import distributed  # a dev dependency: make test installs it (a missing one must fail, not skip)
import pytest


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """A client on a 2-worker, 1-thread-each LocalCluster inside this process."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c
