"""kubewise benchmarks: plan quality against the lower bound and an FFD baseline, and planning speed.

Run from the repository root with `python -m benchmarks` (see benchmarks/README.md); results go to
`benchmarks/results.json`. Not part of the installed package.
"""
