"""Optimizer: the cheapest verified node set for a cluster's pods, its LP lower bound, the savings report."""

from kubewise.optimizer.planned_nodes import planned_node_object
from kubewise.optimizer.planner import plan_snapshot
from kubewise.optimizer.report import HOURS_PER_MONTH, SavingsReport, savings_report
from kubewise.optimizer.types import Constraints, NodeTemplate, Plan, PlannedNode, UnschedulablePod

__all__ = [
    "HOURS_PER_MONTH",
    "Constraints",
    "NodeTemplate",
    "Plan",
    "PlannedNode",
    "SavingsReport",
    "UnschedulablePod",
    "plan_snapshot",
    "planned_node_object",
    "savings_report",
]
