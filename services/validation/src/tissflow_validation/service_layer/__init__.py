"""Validation's use cases: judge a revision, correct a file online, keep the operator's
registry and rule settings. They take repositories, the ingest client and a publisher as
arguments (`ports.py`); `bootstrap.py` passes the real ones, unit tests fakes."""
