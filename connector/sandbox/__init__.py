"""Faithful simulators of every external system, one package each (see base.py).

Simulators register here by name (the system kind they imitate) and port offset
(``ml-connector sandbox`` serves each on ``base-port + offset``), with the module and class
that implement them: modules load lazily, so a missing or broken simulator does not stop
the others from serving. This package imports nothing from ``systems/`` or ``flows/``; a
simulator outside it (a plugin, a test's toy) registers with :func:`register_simulator`.
"""

from __future__ import annotations

import importlib

from connector.sandbox.base import Simulator

#: Registered simulators: system name → ``(module, class name, port offset)``.
SIMULATORS: dict[str, tuple[str, str, int]] = {}


def register_simulator(name: str, module: str, class_name: str, port_offset: int) -> None:
    """Declare the simulator of system ``name``; ValueError if the name or the port offset
    is already taken by another one."""
    entry = (module, class_name, port_offset)
    existing = SIMULATORS.get(name)
    if existing is not None and existing != entry:
        raise ValueError(f"a simulator named {name!r} is already registered")
    taken = [n for n, (_, _, offset) in SIMULATORS.items() if offset == port_offset and n != name]
    if taken:
        raise ValueError(f"port offset {port_offset} is already used by the {taken[0]} simulator")
    SIMULATORS[name] = entry


register_simulator("servicetitan", "connector.sandbox.servicetitan", "ServiceTitanSimulator", 1)
register_simulator("infor", "connector.sandbox.infor", "InforSimulator", 2)
register_simulator("servicenow", "connector.sandbox.servicenow", "ServiceNowSimulator", 3)
register_simulator("ifs", "connector.sandbox.ifs", "IfsSimulator", 4)
register_simulator("syspro", "connector.sandbox.syspro", "SysproSimulator", 5)
register_simulator("acumatica", "connector.sandbox.acumatica", "AcumaticaSimulator", 6)


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
