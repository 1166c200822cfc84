"""kubewise: self-hosted Kubernetes cost optimization.

The core packages (`model`, `catalog`, `scheduling`, `optimizer`) are pure and deterministic;
the edges (`cli`, `agent`) do the I/O.
"""

__version__ = "0.1.0"
