"""The autoscaler's planning core (pure): cluster state, policies, catalog and time in; actions out.

`plan_cycle` runs one cycle: `scale_up` (pending pods that no existing node takes -> the cheapest
fitting new nodes, within the cluster's CPU limit), `downscaler` (nodes empty, but for DaemonSet
pods, for longer than the delay -> cordon and delete) and `evictor` (nodes whose pods fit on the
others -> cordon, drain, delete) and `spot_restore` (on-demand fallback nodes -> back to spot).
Every action carries its reason. Fit questions
go to `kubewise.scheduling` and node choice to `kubewise.optimizer`: there is no fit logic here.
"""

from kubewise.autoscaler.actions import Action, AddNodes, CordonNode, DeleteNode, DrainNode, Unplaceable
from kubewise.autoscaler.cycle import CycleResult, plan_cycle
from kubewise.autoscaler.downscaler import REMOVAL_DISABLED_LABEL, empty_nodes
from kubewise.autoscaler.evictor import Consolidation, consolidate
from kubewise.autoscaler.policy import AutoscalerPolicy, policy_from_document
from kubewise.autoscaler.scale_up import SPOT_FALLBACK_LABEL, ScaleUp, scale_up
from kubewise.autoscaler.spot_restore import SpotRestore, restore_spot

__all__ = [
    "REMOVAL_DISABLED_LABEL",
    "SPOT_FALLBACK_LABEL",
    "Action",
    "AddNodes",
    "AutoscalerPolicy",
    "Consolidation",
    "CordonNode",
    "CycleResult",
    "DeleteNode",
    "DrainNode",
    "ScaleUp",
    "SpotRestore",
    "Unplaceable",
    "consolidate",
    "empty_nodes",
    "plan_cycle",
    "policy_from_document",
    "restore_spot",
    "scale_up",
]
