"""Doctor thresholds from the config: the ``[doctor]`` table, overridden per context by
``[contexts.NAME.doctor]``, checked against the keys the checks declare (docs/doctor.md)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mqctl.doctor.model import CheckSpec
from mqctl.errors import ConfigError

DEFAULT_INTERVAL = 5.0  # seconds between the two samples of the growth checks
MAX_INTERVAL = 3600.0  # a doctor run takes about one interval: an hour is the most we wait


@dataclass(frozen=True, slots=True)
class DoctorSettings:
    interval: float
    thresholds: dict[str, float]

    def threshold(self, key: str) -> float:
        return self.thresholds[key]


def parse_settings(
    raw: Mapping[str, Any], specs: Iterable[CheckSpec], where: str
) -> DoctorSettings:
    """Defaults of every check, overridden by the table's numbers; unknown keys and values
    that are not non-negative numbers are config errors naming the key (exit 2)."""
    defaults: dict[str, float] = {}
    for spec in specs:
        defaults.update(spec.thresholds)
    values = dict(defaults)
    interval = DEFAULT_INTERVAL
    for key, value in raw.items():
        if key != "interval" and key not in defaults:
            known = ", ".join(sorted([*defaults, "interval"]))
            raise ConfigError(f"{where}.{key}: unknown doctor threshold (known: {known})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}.{key}: expected a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{where}.{key}: must be a number >= 0, got {value!r}")
        if key == "interval":
            if value > MAX_INTERVAL:
                raise ConfigError(f"{where}.interval: at most {MAX_INTERVAL:g} seconds")
            interval = float(value)
        else:
            values[key] = float(value)
    return DoctorSettings(interval=interval, thresholds=values)
