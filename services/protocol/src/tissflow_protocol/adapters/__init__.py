"""Adapters: the MongoDB repository, an in-memory one for unit tests, TISS XML, the PDF."""
