"""The recurso de glosa domain: glossed lines, deadlines and the checks (pure)."""
