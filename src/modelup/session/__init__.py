"""The run session: plan a run, execute it with its middleware, decide, report and record.

``modelup.run()`` here is exactly what ``modelup run`` does; the CLI is a thin shell over it.

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy

if TYPE_CHECKING:
    from modelup.session.execute import Executed, execute, execute_spooled, execute_sync
    from modelup.session.plan import RunPlan, plan_run, tool_version
    from modelup.session.session import RunObserver, RunResult, Session, resume_plan, run

_EXPORTS = {
    "Executed": ("modelup.session.execute", "Executed"),
    "RunObserver": ("modelup.session.session", "RunObserver"),
    "RunPlan": ("modelup.session.plan", "RunPlan"),
    "RunResult": ("modelup.session.session", "RunResult"),
    "Session": ("modelup.session.session", "Session"),
    "execute": ("modelup.session.execute", "execute"),
    "execute_spooled": ("modelup.session.execute", "execute_spooled"),
    "execute_sync": ("modelup.session.execute", "execute_sync"),
    "plan_run": ("modelup.session.plan", "plan_run"),
    "resume_plan": ("modelup.session.session", "resume_plan"),
    "run": ("modelup.session.session", "run"),
    "tool_version": ("modelup.session.plan", "tool_version"),
}


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


__all__ = [
    "Executed",
    "RunObserver",
    "RunPlan",
    "RunResult",
    "Session",
    "execute",
    "execute_spooled",
    "execute_sync",
    "plan_run",
    "resume_plan",
    "run",
    "tool_version",
]
