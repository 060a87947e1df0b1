"""Kafka consumers and the internal HTTP routes of the recursos service."""
