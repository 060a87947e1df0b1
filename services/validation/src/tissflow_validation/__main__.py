"""`python -m tissflow_validation` runs the validation service."""

from tissflow_validation.bootstrap import build

service = build()
service.runtime.serve(service.app)
