"""Use cases: update the projection from events, and build statements from it."""
