"""Validation's adapters: MongoDB repositories, the ingest client (claim check) and the
CLI's registry client."""
