"""Distributed training on Dask (``pip install 'cyw2v[dask]'``): :class:`DaskWord2Vec`.

One replica of the model per Dask worker trains its shard with all of the worker's
threads; the replicas merge the most frequent rows every round and every row at each
epoch end. See docs/API.md, "Distributed training".
"""
try:
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("cyw2v.dask needs Dask distributed: pip install 'cyw2v[dask]'") from exc

from .driver import DASK_PARAMETERS, DaskWord2Vec, Round, WorkerLost

__all__ = ["DaskWord2Vec", "DASK_PARAMETERS", "Round", "WorkerLost"]
