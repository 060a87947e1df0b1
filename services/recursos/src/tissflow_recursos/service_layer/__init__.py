"""Use cases of recursos de glosa, taking repositories and a clock as arguments."""
