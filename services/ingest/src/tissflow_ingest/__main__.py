"""`python -m tissflow_ingest` runs the ingest service."""

from tissflow_ingest.app import app, runtime

runtime.serve(app)
