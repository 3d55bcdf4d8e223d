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
"""

from __future__ import annotations

from connector.config.loader import default_config, load_config
from connector.config.models import (
    AcumaticaSystem,
    Config,
    FlowConfig,
    IfsSystem,
    InforSystem,
    ServiceConfig,
    ServiceNowSystem,
    ServiceTitanSystem,
    StoreConfig,
    SysproSystem,
    SystemConfig,
    VaultConfig,
)
from connector.config.schedule import CronSchedule, IntervalSchedule, Schedule, parse_schedule

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
    "SysproSystem",
    "VaultConfig",
    "default_config",
    "load_config",
    "parse_schedule",
]
