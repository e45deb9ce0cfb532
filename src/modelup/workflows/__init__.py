"""The workflows that ship with modelup; importing this package registers them."""

from modelup.workflow.registry import register_workflow
from modelup.workflows.support_ops import SUPPORT_OPS

register_workflow(SUPPORT_OPS)

__all__ = ["SUPPORT_OPS"]
