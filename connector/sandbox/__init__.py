"""Faithful simulators of every external system, one module each (see base.py).

``SIMULATORS`` maps a system name to ``(module, class name, port offset)``; modules load
lazily so a missing or broken simulator does not stop the others from serving.
"""

from __future__ import annotations

import importlib

from connector.sandbox.base import Simulator

SIMULATORS: dict[str, tuple[str, str, int]] = {
    "servicetitan": ("connector.sandbox.servicetitan", "ServiceTitanSimulator", 1),
    "infor": ("connector.sandbox.infor", "InforSimulator", 2),
    "servicenow": ("connector.sandbox.servicenow", "ServiceNowSimulator", 3),
    "ifs": ("connector.sandbox.ifs", "IfsSimulator", 4),
    "syspro": ("connector.sandbox.syspro", "SysproSimulator", 5),
    "acumatica": ("connector.sandbox.acumatica", "AcumaticaSimulator", 6),
}


def load_simulator(name: str) -> type[Simulator]:
    """The simulator class for a system name; KeyError names the known systems."""
    try:
        module_name, class_name, _ = SIMULATORS[name]
    except KeyError:
        raise KeyError(f"no simulator for {name!r}; known: {', '.join(SIMULATORS)}") from None
    cls: object = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Simulator)):
        raise TypeError(f"{module_name}.{class_name} is not a Simulator")
    return cls
