"""Validation's domain beside the engine (`tissflow_validation.engine`, the TISS rules):
a file's correction state, the operator's rule catalogue, the registry CSV format and
the domain errors. Plain Python: no Kafka, MongoDB or FastAPI here."""
