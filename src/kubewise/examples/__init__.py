"""Package data: the example cluster `eks-us-east-1.json` that `kubewise savings --example` plans.

A byte-for-byte copy of `examples/eks-us-east-1.json`, written by `examples/generate_example.py`
(`tests/cli` checks the two are identical). Read through `importlib.resources` by `cli.inputs`.
"""
