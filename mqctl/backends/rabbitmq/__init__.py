"""RabbitMQ backend (entry point ``mqctl.backends: rabbitmq``). Heavy imports happen lazily."""

from mqctl.backends.rabbitmq.backend import RabbitMQBackend

__all__ = ["RabbitMQBackend"]
