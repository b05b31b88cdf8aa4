"""The broker-neutral message core shared by peek, publish, the DLQ tools and the TUI.

Modules: ``decode`` (value views and the decoder plugin interface), ``filters``
(``--key/--grep/--header``), ``headers`` (``k=v`` arguments), ``templates`` (``{{seq}}`` ...),
``rate`` (messages per second), ``positions`` (where a peek starts), ``render`` (pretty, json,
jsonl, raw) and ``sources`` (what ``publish`` sends). Nothing here talks to a broker.
"""
