"""Kafka consumers and internal HTTP routes of batching."""
