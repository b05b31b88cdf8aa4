"""Avro and Protobuf decoders for mqctl (entry points ``mqctl.decoders: avro, protobuf``).

Cheap to import: fastavro, protobuf and httpx are imported only when a value is decoded.
"""
