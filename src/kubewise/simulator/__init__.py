"""Simulator: synthetic workloads (and, later, a simulated cluster and cloud) driven by the real planner."""

from kubewise.simulator.workloads import KINDS, DeploymentSpec, deployments, generate

__all__ = ["KINDS", "DeploymentSpec", "deployments", "generate"]
