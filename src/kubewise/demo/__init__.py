"""`kubewise demo`: the platform, the agent and the controller over a simulated cluster and cloud.

An edge package (threads, HTTP, files): `kube_api` emulates the Kubernetes API, `world` makes it a
cluster, `platform` runs the server in-process, `runner` puts them together.
"""
