"""`python -m tissflow_batching` runs the batching service."""

from tissflow_batching.app import app, runtime

runtime.serve(app)
