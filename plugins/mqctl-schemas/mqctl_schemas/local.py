"""Local schema files for users without a registry (``MQCTL_SCHEMAS`` / ``schemas`` option).

* ``*.avsc``: Avro schemas (JSON); found by full name (``com.acme.Order``) or file name
  without ``.avsc`` (``order``); named types defined in one file may be used by the others;
* ``*.desc``, ``*.pb``, ``*.protoset``: compiled Protobuf descriptor sets
  (``protoc --include_imports --descriptor_set_out=orders.desc orders.proto``); message types
  are found by full name;
* ``*.proto``: compiled on load when ``grpcio-tools`` is installed (otherwise an error tells
  how to make a descriptor set);
* a file named after a schema id (``42.avsc``, ``42.desc``: the set's last file is the schema)
  stands in for that id of the registry, for Confluent-framed values without a registry.

Files that cannot be loaded do not stop the others; their errors are shown with any lookup
that fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mqctl_schemas import avro, proto

DESCRIPTOR_SUFFIXES = (".desc", ".pb", ".protoset")


class LocalSchemaError(LookupError):
    pass


@dataclass
class LocalSchemas:
    paths: tuple[str, ...]
    avro_by_name: dict[str, Any] = field(default_factory=dict)
    avro_by_id: dict[int, Any] = field(default_factory=dict)
    proto_files: list[Any] = field(default_factory=list)
    proto_by_id: dict[int, list[Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _pool: Any = None
    _loaded: bool = False

    def _files(self) -> list[Path]:
        found: list[Path] = []
        for raw in self.paths:
            path = Path(raw)
            if path.is_dir():
                found.extend(sorted(p for p in path.rglob("*") if p.is_file()))
            elif path.is_file():
                found.append(path)
            else:
                self.errors.append(f"{raw}: no such file or directory")
        return found

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        avro_sources: list[tuple[Path, Any]] = []
        for path in self._files():
            suffix = path.suffix.lower()
            try:
                if suffix == ".avsc":
                    avro_sources.append((path, json.loads(path.read_text(encoding="utf-8"))))
                elif suffix in DESCRIPTOR_SUFFIXES:
                    self._add_proto(path, proto.file_protos_from_set(path.read_bytes(), str(path)))
                elif suffix == ".proto":
                    self._add_proto(path, _compile_proto(path))
            except (OSError, ValueError) as exc:
                self.errors.append(f"{path}: {exc}")
        self._load_avro(avro_sources)

    def _add_proto(self, path: Path, files: list[Any]) -> None:
        self.proto_files.extend(files)
        if path.stem.isdigit():
            self.proto_by_id[int(path.stem)] = files

    def _load_avro(self, sources: list[tuple[Path, Any]]) -> None:
        named: dict[str, Any] = {}
        pending = list(sources)
        # files may use types defined in other files: parse until no progress
        while pending:
            failed: list[tuple[Path, Any]] = []
            last_error: dict[Path, str] = {}
            for path, raw in pending:
                try:
                    parsed = avro.parse_schema(raw, named)
                except avro.AvroError as exc:
                    failed.append((path, raw))
                    last_error[path] = str(exc)
                    continue
                name = avro.schema_name(parsed)
                if name:
                    self.avro_by_name[name] = parsed
                self.avro_by_name.setdefault(path.stem, parsed)
                if path.stem.isdigit():
                    self.avro_by_id[int(path.stem)] = parsed
            if len(failed) == len(pending):
                self.errors.extend(f"{p}: {last_error[p]}" for p, _ in failed)
                break
            pending = failed

    def _problem(self, message: str) -> LocalSchemaError:
        if self.errors:
            message += f" (could not load: {'; '.join(self.errors[:3])})"
        return LocalSchemaError(message)

    def avro(self, name: str) -> Any:
        self.load()
        if name in self.avro_by_name:
            return self.avro_by_name[name]
        raise self._problem(f"no local Avro schema {name!r}")

    def avro_id(self, schema_id: int) -> Any | None:
        self.load()
        return self.avro_by_id.get(schema_id)

    def pool(self) -> Any:
        self.load()
        if self._pool is None:
            self._pool = proto.build_pool(self.proto_files)
        return self._pool

    def proto_message(self, full_name: str) -> tuple[Any, Any]:
        self.load()
        if not self.proto_files:
            raise self._problem(f"no local Protobuf descriptors to find {full_name!r} in")
        pool = self.pool()
        return proto.find_message(pool, full_name), pool

    def proto_id(self, schema_id: int) -> tuple[Any, list[Any]] | None:
        """(pool, files) standing in for a registry schema id; the last file is the schema."""
        self.load()
        files = self.proto_by_id.get(schema_id)
        if files is None:
            return None
        return proto.build_pool(files), files


def _compile_proto(path: Path) -> list[Any]:
    try:
        from grpc_tools import protoc  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise ValueError(
            ".proto files need grpcio-tools installed; or compile a descriptor set: "
            f"protoc --include_imports --descriptor_set_out={path.stem}.desc {path.name}"
        ) from None
    import importlib.resources
    import tempfile

    include = str(importlib.resources.files("grpc_tools") / "_proto")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.desc"
        code = protoc.main(
            [
                "protoc",
                f"-I{path.parent}",
                f"-I{include}",
                "--include_imports",
                f"--descriptor_set_out={out}",
                str(path),
            ]
        )
        if code != 0 or not out.exists():
            raise ValueError(f"protoc could not compile {path.name} (exit {code})")
        return proto.file_protos_from_set(out.read_bytes(), str(path))
