"""Effective pod requests: must equal the kube-scheduler's resource.PodRequests (1.29+ sidecars)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from model_k8s_objects import container, load_pod, pod_obj

from kubewise.model import Resources
from kubewise.model.kubectl_pods import aggregate_container_requests

GI = 1024**3
MI = 1024**2


def cpu_of(obj: dict) -> int:
    return load_pod(obj).requests["cpu"]


def test_app_containers_are_summed_and_every_pod_takes_one_pod_slot() -> None:
    pod = load_pod(pod_obj(containers=[container("a", cpu="100m", memory="1Gi"), container("b", cpu="250m")]))
    assert pod.requests == Resources({"cpu": 350, "memory": GI, "pods": 1})


def test_pod_without_any_requests_is_valid_and_takes_only_a_pod_slot() -> None:
    obj = pod_obj(containers=[{"name": "app", "image": "x"}])
    assert load_pod(obj).requests == Resources({"pods": 1})


def test_classic_init_containers_take_the_max() -> None:
    # app: 100+200+300 = 600m; init containers run one at a time: max(1000, 400) = 1000m
    # effective = max(600, 1000) = 1000m
    obj = pod_obj(
        containers=[container("a", cpu="100m"), container("b", cpu="200m"), container("c", cpu="300m")],
        init=[container("i1", cpu="1"), container("i2", cpu="400m")],
    )
    assert cpu_of(obj) == 1000


def test_sidecars_add_to_app_and_to_later_init_containers() -> None:
    # app 100m. init order: sidecar 50m, init 1000m, sidecar 200m, init 300m
    #   running sum: 100 + 50 + 200 = 350m
    #   init 1000m starts after sidecar 50m  -> needs 1050m
    #   init 300m starts after both sidecars -> needs 300 + 250 = 550m
    # effective = max(350, 1050, 550) = 1050m
    obj = pod_obj(
        containers=[container("app", cpu="100m")],
        init=[
            container("proxy", cpu="50m", restart_policy="Always"),
            container("migrate", cpu="1"),
            container("logs", cpu="200m", restart_policy="Always"),
            container("warm", cpu="300m"),
        ],
    )
    assert cpu_of(obj) == 1050


def test_sidecar_started_after_an_init_container_does_not_count_for_it() -> None:
    # init 400m runs first (no sidecar yet) -> 400m; then sidecar 700m joins app 100m -> 800m
    # effective = max(800, 400) = 800m
    before = pod_obj(
        containers=[container(cpu="100m")],
        init=[container("init", cpu="400m"), container("side", cpu="700m", restart_policy="Always")],
    )
    assert cpu_of(before) == 800
    # same containers, sidecar first: init needs 400 + 700 = 1100m > 800m
    after = pod_obj(
        containers=[container(cpu="100m")],
        init=[container("side", cpu="700m", restart_policy="Always"), container("init", cpu="400m")],
    )
    assert cpu_of(after) == 1100


def test_large_app_dominates_small_init() -> None:
    # app 2000m + sidecar 300m = 2300m; init 500m ran before the sidecar -> 500m; effective 2300m
    obj = pod_obj(
        containers=[container(cpu="2")],
        init=[container("init", cpu="500m"), container("side", cpu="300m", restart_policy="Always")],
    )
    assert cpu_of(obj) == 2300


def test_max_is_taken_per_resource() -> None:
    # cpu: max(100m, 500m) = 500m; memory: max(1Gi, 100Mi) = 1Gi
    obj = pod_obj(
        containers=[container(cpu="100m", memory="1Gi")], init=[container("i", cpu="500m", memory="100Mi")]
    )
    assert load_pod(obj).requests == Resources({"cpu": 500, "memory": GI, "pods": 1})


def test_restart_policy_other_than_always_is_a_regular_init_container() -> None:
    obj = pod_obj(
        containers=[container(cpu="100m")], init=[container("i", cpu="300m", restart_policy="Never")]
    )
    assert cpu_of(obj) == 300  # max(100, 300), not 100 + 300


def test_overhead_is_added_after_the_max() -> None:
    # max(app 100m, init 1000m) = 1000m, + overhead 250m = 1250m; memory 64Mi + 120Mi
    obj = pod_obj(
        containers=[container(cpu="100m", memory="64Mi")],
        init=[container("i", cpu="1")],
        spec={"overhead": {"cpu": "250m", "memory": "120Mi"}},
    )
    assert load_pod(obj).requests == Resources({"cpu": 1250, "memory": 184 * MI, "pods": 1})


def test_limits_only_default_requests_per_resource() -> None:
    # requests.cpu is set (100m); memory only has a limit -> request 2Gi; cpu limit is ignored
    mixed = container(cpu="100m", limits={"cpu": "1", "memory": "2Gi"})
    assert load_pod(pod_obj(containers=[mixed])).requests == Resources(
        {"cpu": 100, "memory": 2 * GI, "pods": 1}
    )
    limits_only = container(limits={"cpu": "1", "memory": "2Gi"})
    assert load_pod(pod_obj(containers=[limits_only])).requests == Resources(
        {"cpu": 1000, "memory": 2 * GI, "pods": 1}
    )


def test_limits_only_init_container_is_defaulted_too() -> None:
    obj = pod_obj(containers=[container(cpu="100m")], init=[container("i", limits={"cpu": "2"})])
    assert cpu_of(obj) == 2000


def test_explicit_zero_request_is_not_replaced_by_the_limit() -> None:
    obj = pod_obj(containers=[container(cpu="0", limits={"cpu": "1"})])
    assert cpu_of(obj) == 0


def test_extended_hugepages_and_ephemeral_storage() -> None:
    gpu = container(
        cpu="1",
        ephemeral_storage="10Gi",
        limits={"nvidia.com/gpu": "2", "hugepages-2Mi": "1Gi", "example.com/fpga": 3},
    )
    sidecar = container("side", restart_policy="Always", limits={"nvidia.com/gpu": 1})
    requests = load_pod(pod_obj(containers=[gpu], init=[sidecar])).requests
    assert requests == Resources(
        {
            "cpu": 1000,
            "ephemeral-storage": 10 * GI,
            "nvidia.com/gpu": 3,
            "hugepages-2Mi": GI,
            "example.com/fpga": 3,
            "pods": 1,
        }
    )


def test_quantity_spellings() -> None:
    obj = pod_obj(containers=[container(cpu=0.5, memory="1e3"), container("b", cpu="1500u", memory="1.5Ki")])
    # 0.5 cpu (YAML float) = 500m; 1500u = 1.5m -> 2m (rounded up like MilliValue)
    assert load_pod(obj).requests == Resources({"cpu": 502, "memory": 1000 + 1536, "pods": 1})


def test_float_quantity_is_read_as_decimal_not_binary_float() -> None:
    assert cpu_of(pod_obj(containers=[container(cpu=0.1)])) == 100  # not 101


def test_pod_level_requests_replace_container_aggregate_for_cpu_and_memory() -> None:
    # containers: cpu 100m + 100m, memory 1Gi; pod-level requests cpu 2 -> cpu 2000m, memory stays 1Gi
    obj = pod_obj(
        containers=[container(cpu="100m", memory="1Gi"), container("b", cpu="100m")],
        spec={"resources": {"requests": {"cpu": "2"}}},
    )
    assert load_pod(obj).requests == Resources({"cpu": 2000, "memory": GI, "pods": 1})


def test_pod_level_limits_default_requests_only_when_containers_do_not_request() -> None:
    # cpu: no container requests it -> pod-level request defaults to the 4 cpu limit
    # memory: containers request 1Gi -> defaulted from the aggregate, the 8Gi limit does not apply
    obj = pod_obj(
        containers=[container(memory="1Gi")],
        spec={"resources": {"limits": {"cpu": "4", "memory": "8Gi"}}},
    )
    assert load_pod(obj).requests == Resources({"cpu": 4000, "memory": GI, "pods": 1})


def test_aggregate_function_keeps_declared_zero_keys() -> None:
    assert aggregate_container_requests([{"cpu": 0}], []) == {"cpu": 0}


requests_st = st.fixed_dictionaries({"cpu": st.integers(0, 64_000), "memory": st.integers(0, 2**36)})


@settings(max_examples=200, deadline=None)
@given(
    app=st.lists(requests_st, min_size=1, max_size=5),
    init=st.lists(st.tuples(requests_st, st.booleans()), max_size=5),
)
def test_effective_request_bounds(app: list[dict[str, int]], init: list[tuple[dict[str, int], bool]]) -> None:
    containers = [container(f"a{i}", cpu=f"{r['cpu']}m", memory=str(r["memory"])) for i, r in enumerate(app)]
    inits = [
        container(
            f"i{i}", cpu=f"{r['cpu']}m", memory=str(r["memory"]), restart_policy="Always" if side else None
        )
        for i, (r, side) in enumerate(init)
    ]
    effective = load_pod(pod_obj(containers=containers, init=inits)).requests
    for resource in ("cpu", "memory"):
        app_sum = sum(r[resource] for r in app)
        sidecar_sum = sum(r[resource] for r, side in init if side)
        assert effective[resource] >= app_sum + sidecar_sum
        for r in [*app, *(r for r, _ in init)]:
            assert effective[resource] >= r[resource]
        # and it is exactly one of the candidates the scheduler takes the max of
        peaks = [app_sum + sidecar_sum]
        running = 0
        for r, side in init:
            running += r[resource] if side else 0
            peaks.append(running if side else r[resource] + running)
        assert effective[resource] == max(peaks)
    assert effective["pods"] == 1
