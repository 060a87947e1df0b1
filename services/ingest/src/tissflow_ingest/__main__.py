"""`python -m tissflow_ingest` runs the ingest service."""

from tissflow_ingest.bootstrap import build

service = build()
service.runtime.serve(service.app)
