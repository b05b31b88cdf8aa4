"""Kafka backend (entry point ``mqctl.backends: kafka``). Heavy imports happen lazily."""

from mqctl.backends.kafka.backend import KafkaBackend

__all__ = ["KafkaBackend"]
