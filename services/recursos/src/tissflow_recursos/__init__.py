"""Recursos de glosa: the clinic's appeals against glosas and the operator's answers."""
