"""`python -m tissflow_batching` runs the batching service."""

from tissflow_batching.bootstrap import app, runtime

runtime.serve(app)
