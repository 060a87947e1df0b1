"""Repositories and clients: MongoDB (FerretDB) and the protocol service."""
