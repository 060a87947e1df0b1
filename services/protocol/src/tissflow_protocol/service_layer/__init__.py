"""Use cases of the protocol service, written against ports (repository, events)."""
