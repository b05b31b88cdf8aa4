"""Typed, broker-neutral data the service layer returns and the views render.

One module per area so that work on one area does not collide with another:
``inventory`` (topics, queues, vhosts, exchanges, bindings), ``messages`` (peek/publish).
"""
