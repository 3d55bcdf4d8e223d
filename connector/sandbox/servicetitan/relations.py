"""How jobs, their appointments, technicians and projects relate, in one place.

The vendor's job and appointment models do not name technicians (assignments live in the
dispatch module, which is not simulated), yet jobs, appointments and projects filter by
technician; these rules are what the filters and the derived rows both read:

* a seeded job's appointment is assigned the technician who worked its invoice's items
  (kept on the job as ``_technicianId``); a job without one has an unassigned appointment;
* an appointment nobody was assigned to is *unused* (the appointment model's ``unused``);
* every fifth seeded job belongs to a project (``projectId``), round-robin over the ids the
  generated projects take, and a project's jobs are exactly the jobs naming it.
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.sandbox.servicetitan.wire import Record

#: One seeded job in this many belongs to a project.
PROJECT_SHARE = 5


def appointment_status(job: Record) -> str:
    """The status of a job's appointment, from the job's own status."""
    return {"Completed": "Done", "Canceled": "Canceled"}.get(str(job.get("jobStatus")), "Scheduled")


def technician_ids(job: Record) -> list[int]:
    """The technicians assigned to the job's appointments."""
    technician = job.get("_technicianId")
    return [technician] if isinstance(technician, int) else []


def appointment_unused(job: Record) -> bool:
    return not technician_ids(job)


def assign_projects(jobs: Iterable[Record], project_ids: list[int]) -> None:
    """Put every :data:`PROJECT_SHARE`-th job into a project, round-robin."""
    if not project_ids:
        return
    for index, job in enumerate(jobs):
        if index % PROJECT_SHARE == 0:
            job["projectId"] = project_ids[(index // PROJECT_SHARE) % len(project_ids)]
