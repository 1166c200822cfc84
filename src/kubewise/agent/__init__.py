"""Agent: the read-only edge between a live cluster and kubewise (today `cluster_reader.read_cluster`).

Used by the CLI (`kubewise savings --context`); later the in-cluster agent that streams snapshots to the
platform. The only package besides `controller` that may import the `kubernetes` client.
"""
