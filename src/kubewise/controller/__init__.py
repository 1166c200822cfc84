"""The cluster controller: takes the platform's pending actions for its cluster and carries them out.

`kube.NodeOps` talks to the Kubernetes API (cordon, drain through the Eviction API, delete a node),
`platform.ControllerPlatform` to the platform (actions, results, capacity reports), the cloud through
`kubewise.cloud.provider.CloudProvider`; `executor.Executor` maps each action onto them and
`loop.Controller` polls. At-least-once: an action is reported only once it is finished, and every step
is idempotent, so a controller that crashes mid-drain simply does the action again.
"""
