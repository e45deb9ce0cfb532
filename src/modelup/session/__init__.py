"""The run session: plan a run, execute it with its middleware, decide, report and record.

``modelup.run()`` here is exactly what ``modelup run`` does; the CLI is a thin shell over it.
"""

from modelup.session.execute import Executed, execute, execute_spooled, execute_sync
from modelup.session.plan import RunPlan, plan_run, tool_version
from modelup.session.session import RunObserver, RunResult, Session, resume_plan, run

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
