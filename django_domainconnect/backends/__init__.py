"""``get_backend()``: the configured backend instance, memoised until ``DOMAINCONNECT`` changes."""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from django_domainconnect.exceptions import ConfigurationError

from .base import DEFAULT_SUPPORTED_TYPES, BaseDNSBackend, Zone

__all__ = ["BaseDNSBackend", "DEFAULT_SUPPORTED_TYPES", "Zone", "get_backend", "load_backend"]

_instance: BaseDNSBackend | None = None
_mutex = threading.Lock()


def load_backend(path: str, options: dict[str, Any] | None = None) -> BaseDNSBackend:
    """Import ``path`` and instantiate it with ``options``; every failure is a ``ConfigurationError``."""
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(f"DOMAINCONNECT['BACKEND'] = {path!r} could not be imported: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseDNSBackend)):
        raise ConfigurationError(f"DOMAINCONNECT['BACKEND'] = {path!r} is not a subclass of BaseDNSBackend")
    if options is not None and not isinstance(options, dict):
        raise ConfigurationError("DOMAINCONNECT['BACKEND_OPTIONS'] must be a dict")
    try:
        return cls(**(options or {}))
    except ConfigurationError:
        raise
    except TypeError as exc:
        raise ConfigurationError(f"DOMAINCONNECT['BACKEND_OPTIONS'] rejected by {path}: {exc}") from exc


def get_backend(force: bool = False) -> BaseDNSBackend:
    """The backend named by ``DOMAINCONNECT['BACKEND']`` (one shared instance; ``force`` rebuilds it)."""
    global _instance
    with _mutex:
        if _instance is None or force:
            from django_domainconnect.conf import dc_settings

            _instance = load_backend(dc_settings.BACKEND, dc_settings.BACKEND_OPTIONS)
        return _instance


def reset_backend() -> None:
    global _instance
    with _mutex:
        _instance = None


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "DOMAINCONNECT":
        reset_backend()


setting_changed.connect(_reset)
