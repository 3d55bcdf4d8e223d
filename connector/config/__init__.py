"""The connector's configuration: one TOML file decoded into frozen, documented objects.

:func:`load_config` is the only way a file becomes a :class:`Config`. Everything is checked
there, once: types, unknown keys (with a "did you mean"), value ranges, schedules, and the
cross-references between sections (a flow names configured systems). A bad file raises
:class:`~connector.errors.ConfigurationError` whose message names the file, the key path
(``systems.st.tenant``) and what was expected; nothing downstream re-validates.

Relative paths in the file (``store.path``, ``vault.key_file``) are resolved against the
directory holding the file, so the service finds its state wherever it is started from.
The file never holds a secret: systems name a *credential* in the vault instead.

Layout: ``models`` (the objects), ``loader`` (file → objects), ``schedule`` (flow schedules).
Each system's own table is declared by its package (``connector/systems/<x>/config.py``) and
registered in :mod:`connector.registry`; the loader decodes the union of the registered ones.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from connector.config.loader import default_config, load_config
from connector.config.models import (
    Config,
    FlowConfig,
    ServiceConfig,
    StoreConfig,
    SystemConfig,
    SystemConfigBase,
    VaultConfig,
)
from connector.config.schedule import CronSchedule, IntervalSchedule, Schedule, parse_schedule

if TYPE_CHECKING:
    from connector.systems.acumatica.config import AcumaticaSystem
    from connector.systems.ifs.config import IfsSystem
    from connector.systems.infor.config import InforSystem
    from connector.systems.servicenow.config import ServiceNowSystem
    from connector.systems.servicetitan.config import ServiceTitanSystem
    from connector.systems.syspro.config import SysproSystem

# Each system's struct lives in its own package (connector/systems/<x>/config.py); these
# names stay importable from here for older code, loaded on first use: the system packages
# import this package, so it cannot import them while it initialises.
_MOVED = {
    "AcumaticaSystem": "connector.systems.acumatica.config",
    "IfsSystem": "connector.systems.ifs.config",
    "InforSystem": "connector.systems.infor.config",
    "ServiceNowSystem": "connector.systems.servicenow.config",
    "ServiceTitanSystem": "connector.systems.servicetitan.config",
    "SysproSystem": "connector.systems.syspro.config",
}


def __getattr__(name: str) -> object:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AcumaticaSystem",
    "Config",
    "CronSchedule",
    "FlowConfig",
    "IfsSystem",
    "InforSystem",
    "IntervalSchedule",
    "Schedule",
    "ServiceConfig",
    "ServiceNowSystem",
    "ServiceTitanSystem",
    "StoreConfig",
    "SystemConfig",
    "SystemConfigBase",
    "SysproSystem",
    "VaultConfig",
    "default_config",
    "load_config",
    "parse_schedule",
]
