"""What runs in the example EKS cluster: node groups, workloads (in creation order) and PDBs.

Read by `generate_example.py`, which turns this into Kubernetes JSON. Requests are typical of the
charts and add-ons named here (EKS add-ons, ingress-nginx, kube-prometheus-stack, ...).
"""

from __future__ import annotations

import random

from k8s_objects import JSON, Ctr, Workload

_SPOT = {"effect": "NoSchedule", "key": "spot", "operator": "Equal", "value": "true"}
_MEMORY = {"effect": "NoSchedule", "key": "dedicated", "operator": "Equal", "value": "memory"}
_ALL: list[JSON] = [{"operator": "Exists"}]

# name, instance types, capacity type, count, extra node labels, taints
NODE_GROUPS: list[tuple[str, list[str], str, int, dict[str, str], list[JSON]]] = [
    ("system", ["m5.large"], "ON_DEMAND", 2, {"workload-type": "system"}, []),
    ("general-m5-2xl", ["m5.2xlarge"], "ON_DEMAND", 7, {}, []),
    ("general-m5-xl", ["m5.xlarge"], "ON_DEMAND", 6, {}, []),
    ("compute-c5-2xl", ["c5.2xlarge"], "ON_DEMAND", 4, {"workload-type": "compute"}, []),
    (
        "memory-r5-xl",
        ["r5.xlarge"],
        "ON_DEMAND",
        4,
        {"workload-type": "memory"},
        [{"effect": "NoSchedule", "key": "dedicated", "value": "memory"}],
    ),
    (
        "batch-spot",
        ["m5.2xlarge", "m5.xlarge"],
        "SPOT",
        2,
        {"workload-type": "batch"},
        [{"effect": "NoSchedule", "key": "spot", "value": "true"}],
    ),
]

# namespace, PDB name, workload name, selector, expected pods, minAvailable, maxUnavailable
PDBS: list[tuple[str, str, str, dict[str, str], int, int | str | None, int | None]] = [
    ("kube-system", "coredns", "coredns", {"k8s-app": "kube-dns"}, 2, None, 1),
    ("kube-system", "ebs-csi-controller", "ebs-csi-controller", {"app": "ebs-csi-controller"}, 2, None, 1),
    (
        "ingress-nginx",
        "ingress-nginx-controller",
        "ingress-nginx-controller",
        {"app": "ingress-nginx-controller"},
        3,
        2,
        None,
    ),
    ("checkout", "checkout-api", "checkout-api", {"app": "checkout-api"}, 6, 4, None),
    ("payments", "payments-api", "payments-api", {"app": "payments-api"}, 4, "50%", None),
    ("data", "kafka", "kafka", {"app": "kafka"}, 3, None, 1),
    ("data", "zookeeper", "zookeeper", {"app": "zookeeper"}, 3, None, 1),
]

_ECR = "602401143452.dkr.ecr.us-east-1.amazonaws.com"
_APPS = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
_FILLER = [
    "inventory-svc",
    "pricing-svc",
    "recommendations",
    "reviews",
    "user-profile",
    "auth-gateway",
    "shipping-quotes",
    "tax-engine",
    "loyalty",
    "promotions",
    "order-history",
    "address-validator",
    "feature-flags",
    "audit-log",
    "webhooks",
    "geo-ip",
    "currency-rates",
    "wishlist",
    "returns",
    "support-chat",
    "sitemap-builder",
    "ab-testing",
    "rate-limiter",
    "search-suggest",
    "email-templates",
]
_TEAMS = ["storefront", "checkout", "catalog", "customer", "platform"]


def _app(
    ns: str, name: str, replicas: int, cpu: int, mem: int, kind: str = "Deployment", **kw: object
) -> Workload:
    """A one-container application workload with the team's image and memory limit = 1.5 x request."""
    ctr = Ctr(
        name,
        f"{_APPS}/{ns}/{name}:1.{len(name) % 9}.{replicas}",
        cpu,
        mem,
        mem_limit_mi=mem * 3 // 2,
        port=8080,
    )
    return Workload(ns, name, kind, replicas, [ctr], **kw)  # type: ignore[arg-type]


def _daemonsets() -> list[Workload]:
    return [
        Workload(
            "kube-system",
            "aws-node",
            "DaemonSet",
            0,
            [
                Ctr("aws-node", f"{_ECR}/amazon-k8s-cni:v1.18.5-eksbuild.1", 25, 0),
                Ctr("aws-eks-nodeagent", f"{_ECR}/amazon/aws-network-policy-agent:v1.1.3-eksbuild.1", 25, 0),
            ],
            init=[Ctr("aws-vpc-cni-init", f"{_ECR}/amazon-k8s-cni-init:v1.18.5-eksbuild.1", 25, 0)],
            tolerations=_ALL,
            priority_class="system-node-critical",
            host_network=True,
            selector={"k8s-app": "aws-node"},
        ),
        Workload(
            "kube-system",
            "kube-proxy",
            "DaemonSet",
            0,
            [Ctr("kube-proxy", f"{_ECR}/eks/kube-proxy:v1.30.3-minimal-eksbuild.5", 100, 0)],
            tolerations=_ALL,
            priority_class="system-node-critical",
            host_network=True,
            selector={"k8s-app": "kube-proxy"},
        ),
        Workload(
            "kube-system",
            "ebs-csi-node",
            "DaemonSet",
            0,
            [
                Ctr("ebs-plugin", f"{_ECR}/eks/aws-ebs-csi-driver:v1.35.0", 10, 40, mem_limit_mi=256),
                Ctr(
                    "node-driver-registrar",
                    f"{_ECR}/eks/csi-node-driver-registrar:v2.11.1-eks-1-31-3",
                    10,
                    40,
                    mem_limit_mi=256,
                ),
                Ctr(
                    "liveness-probe", f"{_ECR}/eks/livenessprobe:v2.13.1-eks-1-31-3", 10, 40, mem_limit_mi=256
                ),
            ],
            tolerations=_ALL,
            priority_class="system-node-critical",
            selector={"app": "ebs-csi-node"},
        ),
        Workload(
            "amazon-cloudwatch",
            "fluent-bit",
            "DaemonSet",
            0,
            [
                Ctr(
                    "fluent-bit",
                    "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
                    100,
                    128,
                    mem_limit_mi=250,
                )
            ],
            tolerations=_ALL,
            priority_class="system-node-critical",
            selector={"k8s-app": "fluent-bit"},
        ),
    ]


def _platform() -> list[Workload]:
    critical = [{"key": "CriticalAddonsOnly", "operator": "Exists"}]
    return [
        Workload(
            "kube-system",
            "coredns",
            "Deployment",
            2,
            [Ctr("coredns", f"{_ECR}/eks/coredns:v1.11.3-eksbuild.1", 100, 70, mem_limit_mi=170, port=53)],
            tolerations=[*critical, {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}],
            priority_class="system-cluster-critical",
            selector={"k8s-app": "kube-dns"},
        ),
        Workload(
            "kube-system",
            "ebs-csi-controller",
            "Deployment",
            2,
            [
                Ctr(n, f"{_ECR}/eks/{n}:v1", 10, 40, mem_limit_mi=256)
                for n in (
                    "ebs-plugin",
                    "csi-provisioner",
                    "csi-attacher",
                    "csi-snapshotter",
                    "csi-resizer",
                    "liveness-probe",
                )
            ],
            tolerations=critical,
            priority_class="system-cluster-critical",
        ),
        _app("kube-system", "metrics-server", 1, 100, 200, priority_class="system-cluster-critical"),
        _app("kube-system", "cluster-autoscaler", 1, 100, 600, node_selector={"workload-type": "system"}),
        _app("kube-system", "aws-load-balancer-controller", 2, 100, 200),
        _app("cert-manager", "cert-manager", 1, 50, 128),
        _app("cert-manager", "cert-manager-cainjector", 1, 50, 256),
        _app("cert-manager", "cert-manager-webhook", 1, 20, 64),
        _app("ingress-nginx", "ingress-nginx-controller", 3, 500, 512, anti_affinity=True),
        Workload(
            "monitoring",
            "prometheus",
            "StatefulSet",
            2,
            [
                Ctr(
                    "prometheus",
                    "quay.io/prometheus/prometheus:v2.54.1",
                    1000,
                    6144,
                    mem_limit_mi=8192,
                    port=9090,
                ),
                Ctr(
                    "config-reloader",
                    "quay.io/prometheus-operator/prometheus-config-reloader:v0.77.1",
                    10,
                    50,
                    mem_limit_mi=50,
                ),
            ],
            init=[
                Ctr(
                    "init-config-reloader",
                    "quay.io/prometheus-operator/prometheus-config-reloader:v0.77.1",
                    10,
                    50,
                )
            ],
            node_selector={"workload-type": "memory"},
            tolerations=[_MEMORY],
            anti_affinity=True,
        ),
        _app("monitoring", "alertmanager", 2, 100, 256, kind="StatefulSet"),
        Workload(
            "monitoring",
            "grafana",
            "Deployment",
            1,
            [Ctr("grafana", "docker.io/grafana/grafana:11.2.2", 250, 512, mem_limit_mi=1024, port=3000)],
            init=[Ctr("init-chown-data", "docker.io/library/busybox:1.31.1", 10, 16)],
            empty_dir=True,
        ),
        _app("monitoring", "kube-state-metrics", 1, 100, 256),
        _app("monitoring", "prometheus-operator", 1, 100, 128),
    ]


def _business() -> list[Workload]:
    envoy = Ctr("envoy", "docker.io/envoyproxy/envoy:v1.31.2", 100, 128, mem_limit_mi=256, sidecar=True)
    migrate = Ctr("db-migrate", f"{_APPS}/catalog/catalog-migrations:4.2.0", 500, 512)
    wait_db = Ctr("wait-for-db", "docker.io/library/busybox:1.36", 10, 16)
    return [
        _app("storefront", "web", 12, 250, 512, zone_spread=True),
        _app("storefront", "bff", 6, 300, 768),
        _app("checkout", "checkout-api", 6, 500, 1024, anti_affinity=True),
        _app("checkout", "cart", 4, 200, 512),
        Workload(
            "catalog",
            "catalog-api",
            "Deployment",
            8,
            [
                Ctr(
                    "catalog-api",
                    f"{_APPS}/catalog/catalog-api:4.2.0",
                    400,
                    1024,
                    mem_limit_mi=1536,
                    port=8080,
                )
            ],
            init=[wait_db, migrate],
        ),
        _app(
            "catalog",
            "image-resizer",
            4,
            1000,
            1024,
            node_selector={"workload-type": "compute"},
            empty_dir=True,
        ),
        _app("search", "search-api", 6, 500, 1536),
        Workload(
            "search",
            "elasticsearch",
            "StatefulSet",
            3,
            [
                Ctr(
                    "elasticsearch",
                    "docker.elastic.co/elasticsearch/elasticsearch:8.15.3",
                    1500,
                    8192,
                    mem_limit_mi=8192,
                    port=9200,
                )
            ],
            init=[Ctr("sysctl", "docker.io/library/busybox:1.36", 10, 16)],
            node_selector={"workload-type": "memory"},
            tolerations=[_MEMORY],
            anti_affinity=True,
        ),
        Workload(
            "payments",
            "payments-api",
            "Deployment",
            4,
            [
                Ctr(
                    "payments-api",
                    f"{_APPS}/payments/payments-api:7.0.3",
                    500,
                    1024,
                    mem_limit_mi=1536,
                    port=8080,
                )
            ],
            init=[envoy],
        ),
        _app("payments", "fraud-scorer", 3, 1000, 2048, node_selector={"workload-type": "compute"}),
        _app("notifications", "notifier", 3, 100, 256),
        _app("notifications", "email-worker", 4, 200, 256),
        _app("data", "kafka", 3, 1000, 4096, kind="StatefulSet", anti_affinity=True),
        _app("data", "zookeeper", 3, 250, 1024, kind="StatefulSet", anti_affinity=True),
        _app("data", "postgres", 2, 1000, 4096, kind="StatefulSet"),
        _app("data", "redis", 1, 200, 1024, kind="StatefulSet"),
        # more replicas than memory nodes and one per node: two stay Pending
        _app(
            "data",
            "session-cache",
            6,
            500,
            6144,
            anti_affinity=True,
            node_selector={"workload-type": "memory"},
            tolerations=[_MEMORY],
        ),
        _app("ml", "model-server", 4, 750, 3072, node_selector={"workload-type": "compute"}),
        _app(
            "batch",
            "report-worker",
            6,
            500,
            1024,
            node_selector={"workload-type": "batch"},
            tolerations=[_SPOT],
        ),
        _app(
            "batch", "db-backup-29878020", 1, 100, 256, kind="Job", succeeded=1, selector={"app": "db-backup"}
        ),
        _app(
            "batch", "db-backup-29879460", 1, 100, 256, kind="Job", succeeded=1, selector={"app": "db-backup"}
        ),
        _app(
            "batch",
            "etl-nightly-29879580",
            1,
            1000,
            2048,
            kind="Job",
            node_selector={"workload-type": "batch"},
            tolerations=[_SPOT],
            empty_dir=True,
            selector={"app": "etl-nightly"},
        ),
        # 40 GiB fits no node of the cluster (the largest allocatable is ~30 GiB): Pending
        _app(
            "ml",
            "feature-backfill-29879600",
            1,
            4000,
            40960,
            kind="Job",
            selector={"app": "feature-backfill"},
        ),
        Workload(
            "default",
            "netshoot-debug",
            "Pod",
            1,
            [Ctr("netshoot", "docker.io/nicolaka/netshoot:v0.13", 0, 0)],
        ),
    ]


def _filler(rng: random.Random) -> list[Workload]:
    """The long tail of small team services every real cluster has."""
    out = []
    for i, name in enumerate(_FILLER):
        out.append(
            _app(
                _TEAMS[i % len(_TEAMS)],
                name,
                rng.randint(2, 4),
                rng.choice([50, 100, 100, 150, 200, 250]),
                rng.choice([128, 256, 384, 512, 768, 1024]),
                empty_dir=rng.random() < 0.2,
            )
        )
    return out


def workloads(rng: random.Random) -> list[Workload]:
    """Everything, in the order it was created (DaemonSets first: they are on every node)."""
    return _daemonsets() + _platform() + _business() + _filler(rng)
