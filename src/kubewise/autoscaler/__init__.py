"""The autoscaler's planning core (pure): cluster state, policies, catalog and time in; actions out.

`plan_cycle` runs one cycle: `scale_up` (pending pods that no existing node takes -> the cheapest
fitting new nodes, within the cluster's CPU limit) and `downscaler` (nodes empty, but for DaemonSet
pods, for longer than the delay -> cordon and delete). Every action carries its reason. Fit questions
go to `kubewise.scheduling` and node choice to `kubewise.optimizer`: there is no fit logic here.
"""

from kubewise.autoscaler.actions import Action, AddNodes, CordonNode, DeleteNode, Unplaceable
from kubewise.autoscaler.cycle import CycleResult, plan_cycle
from kubewise.autoscaler.downscaler import REMOVAL_DISABLED_LABEL, empty_nodes
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.scale_up import ScaleUp, scale_up

__all__ = [
    "REMOVAL_DISABLED_LABEL",
    "Action",
    "AddNodes",
    "AutoscalerPolicy",
    "CordonNode",
    "CycleResult",
    "DeleteNode",
    "ScaleUp",
    "Unplaceable",
    "empty_nodes",
    "plan_cycle",
    "scale_up",
]
