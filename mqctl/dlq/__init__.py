"""Dead-letter queues, broker-neutral: metadata parsing, discovery rules, grouping, redrive
plans and the redrive engine. Broker-specific parts live in ``mqctl/backends/*/dlq*.py``
behind :class:`mqctl.backend.DeadLetterSupport`. Nothing here imports broker clients.
"""
