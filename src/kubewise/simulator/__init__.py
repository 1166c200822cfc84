"""Simulator: synthetic workloads, and a simulated cluster and cloud driven by the real autoscaler."""

from kubewise.simulator.cluster import SimCluster
from kubewise.simulator.scenario import Outcome, Scenario, ScenarioError, parse_scenario, simulate
from kubewise.simulator.workloads import KINDS, DeploymentSpec, deployments, generate

__all__ = [
    "KINDS",
    "DeploymentSpec",
    "Outcome",
    "Scenario",
    "ScenarioError",
    "SimCluster",
    "deployments",
    "generate",
    "parse_scenario",
    "simulate",
]
