"""Typed settings helpers: read the environment once, fail loudly on a bad value (STYLE 8)."""

from __future__ import annotations

import os
from pathlib import Path


class SettingError(ValueError):
    """A setting has a value Taspa cannot use."""


def env_str(name: str, default: str | None = None) -> str | None:
    """Return ``NAME`` or the contents of the file named by ``NAME_FILE`` (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise SettingError(f"{name}_FILE={file_name!r} cannot be read: {error}") from error
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env_str(name, default) or default
    if value not in choices:
        raise SettingError(f"{name}={value!r}: expected one of {', '.join(choices)}")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name}={value!r}: expected true or false")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise SettingError(f"{name}={value!r}: expected an integer") from error
    if minimum is not None and number < minimum:
        raise SettingError(f"{name}={number}: must be at least {minimum}")
    return number


def env_float(
    name: str, default: float, *, above: float | None = None, minimum: float | None = None
) -> float:
    """A number (``2.5``); greater than ``above`` and at least ``minimum`` where given."""
    value = env_str(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError as error:
        raise SettingError(f"{name}={value!r}: expected a number") from error
    if number != number or number in (float("inf"), float("-inf")):
        raise SettingError(f"{name}={value!r}: expected a number")
    if above is not None and number <= above:
        raise SettingError(f"{name}={value!r}: must be above {above:g}")
    if minimum is not None and number < minimum:
        raise SettingError(f"{name}={value!r}: must be at least {minimum:g}")
    return number


def env_url(name: str, schemes: tuple[str, ...], default: str | None = None) -> str | None:
    """A URL whose scheme is one of ``schemes`` (``https``, ``s3``, ...), or ``default``."""
    value = env_str(name, default)
    if value is None:
        return None
    scheme, separator, rest = value.partition("://")
    if not separator or scheme not in schemes or not rest:
        expected = " or ".join(f"{s}://..." for s in schemes)
        raise SettingError(f"{name}={value!r}: expected {expected}")
    return value


def env_hhmm(name: str, default: str) -> tuple[int, int]:
    value = env_str(name, default) or default
    try:
        hours, minutes = (int(part) for part in value.split(":"))
    except ValueError as error:
        raise SettingError(f"{name}={value!r}: expected HH:MM") from error
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise SettingError(f"{name}={value!r}: expected HH:MM")
    return hours, minutes


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    return [item.strip() for item in (env_str(name, default) or "").split(",") if item.strip()]


def require_settings(reason: str, names: tuple[str, ...]) -> None:
    """Fail at start, naming each variable that ``reason`` needs and nobody set (STYLE 8)."""
    missing = [name for name in names if env_str(name) is None]
    if missing:
        raise SettingError(
            f"{reason} needs {', '.join(missing)} to be set (a secret may come from NAME_FILE): "
            "production never falls back to a default"
        )


def https_origins(hosts: list[str]) -> list[str]:
    """``https://`` origins for host names (``.court.kz`` means every subdomain)."""
    origins = []
    for host in hosts:
        if host == "*":
            continue
        origins.append(f"https://*{host}" if host.startswith(".") else f"https://{host}")
    return origins
