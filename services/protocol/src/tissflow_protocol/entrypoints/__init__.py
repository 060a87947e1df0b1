"""Entrypoints: Kafka consumers and the internal HTTP routes, mapping domain errors."""
