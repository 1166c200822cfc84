"""`kubewise savings` inputs: FILE (JSON, YAML, .gz), DIR, --example, --context, and every way they fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from cli_cluster import (
    as_list,
    check_current,
    check_plans,
    cluster_objects,
    failure,
    run,
    run_json,
    snapshot_of,
    write_dump,
)

from fake_kube_api import NODES, PDBS, PODS, FakeApi, serve, write_kubeconfig
from kubewise.cli.inputs import input_bytes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def from_json_file(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = write_dump(tmp_path_factory.mktemp("dump") / "cluster.json", cluster_objects())
    return run_json("savings", path)  # type: ignore[no-any-return]


def test_json_file(from_json_file: dict) -> None:
    assert (from_json_file["provider"], from_json_file["region"]) == ("aws", "us-east-1")
    assert len(from_json_file["current"]["nodes"]) == 3
    check_plans(from_json_file, snapshot_of(cluster_objects()))
    check_current(from_json_file)


@pytest.mark.parametrize("name", ["cluster.yaml", "cluster.yml", "cluster.json.gz", "cluster.yaml.gz"])
def test_yaml_and_gzip_files_give_the_same_report(tmp_path: Path, name: str, from_json_file: dict) -> None:
    assert run_json("savings", write_dump(tmp_path / name, cluster_objects())) == from_json_file


def test_directory_of_dumps(tmp_path: Path, from_json_file: dict) -> None:
    objects = cluster_objects()
    nodes = [o for o in objects if o["kind"] == "Node"]
    write_dump(tmp_path / "nodes.json", nodes)
    write_dump(tmp_path / "rest.yaml.gz", [o for o in objects if o["kind"] != "Node"])
    (tmp_path / "notes.txt").write_text("not a dump")
    assert run_json("savings", tmp_path) == from_json_file


def test_example_is_the_committed_example_file() -> None:
    packaged = resources.files("kubewise.examples") / "eks-us-east-1.json"
    assert packaged.read_bytes() == (EXAMPLES / "eks-us-east-1.json").read_bytes()


def test_example_runs_without_any_cluster() -> None:
    doc = run_json("savings", "--example", "--no-spot")
    assert (doc["provider"], doc["region"], len(doc["current"]["nodes"])) == ("aws", "us-east-1", 25)
    assert doc["current"]["complete"] and doc["current"]["hourly_cost"] > 0
    check_plans(doc, snapshot_of(json.loads((EXAMPLES / "eks-us-east-1.json").read_text())["items"]))


@pytest.fixture
def kube_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeApi, Path]]:
    objects = cluster_objects()
    fake = FakeApi(
        {
            NODES: [o for o in objects if o["kind"] == "Node"],
            PODS: [o for o in objects if o["kind"] == "Pod"],
            PDBS: [o for o in objects if o["kind"] == "PodDisruptionBudget"],
        }
    )
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with serve(fake) as url:
        yield fake, write_kubeconfig(tmp_path / "kubeconfig", url)


def test_live_context_reads_only_and_plans_like_the_dump(
    kube_api: tuple[FakeApi, Path], from_json_file: dict
) -> None:
    fake, kubeconfig = kube_api
    assert run_json("savings", "--context", "fake", "--kubeconfig", kubeconfig) == from_json_file
    assert {method for method, _, _ in fake.requests} == {"GET"}


def test_context_from_kubeconfig_env(
    kube_api: tuple[FakeApi, Path], monkeypatch: pytest.MonkeyPatch, from_json_file: dict
) -> None:
    _, kubeconfig = kube_api
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert run_json("savings", "--context", "fake") == from_json_file


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ("dead", "cannot list nodes: cannot reach the API server at http://127.0.0.1:"),
        ("stale", "cannot list nodes: unauthorized (401)"),
        ("prod", "cannot load context 'prod' from kubeconfig "),
    ],
)
def test_context_errors(kube_api: tuple[FakeApi, Path], context: str, expected: str) -> None:
    _, kubeconfig = kube_api
    assert failure("savings", "--context", context, "--kubeconfig", kubeconfig, code=1).startswith(expected)


def test_missing_kubeconfig(tmp_path: Path) -> None:
    message = failure("savings", "--context", "x", "--kubeconfig", tmp_path / "none", code=1)
    assert message.startswith(f"cannot load kubeconfig: no file at {tmp_path / 'none'}")


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        ((), 2, "give exactly one input: a FILE or DIR, --context NAME, or --example"),
        (("x.json", "--example"), 2, "give exactly one input"),
        (("--example", "--context", "c"), 2, "give exactly one input"),
        (("--example", "--kubeconfig", "k"), 2, "--kubeconfig is only used with --context"),
    ],
)
def test_exactly_one_input(args: tuple[str, ...], code: int, expected: str) -> None:
    assert failure("savings", *args, code=code).startswith(expected)


def test_missing_file(tmp_path: Path) -> None:
    assert (
        failure("savings", tmp_path / "nope.json", code=1)
        == f"{tmp_path / 'nope.json'}: no such file or directory"
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.json", b'{"kind": "List", "items": [}', "invalid JSON at line 1, column 28"),
        ("bad.yaml", b"items:\n  - kind: Pod\n   bad: [", "invalid YAML at line 3"),
        ("bad.json.gz", b"not gzip at all", "cannot read file: "),
        ("empty.json", b"  \n", "file is empty: no Kubernetes objects found"),
        ("other.json", b'{"kind": "ConfigMap", "metadata": {"name": "x"}}', "no Kubernetes objects found"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    message = failure("savings", path, code=1)
    assert message.startswith(f"{path}: {expected}"), message


def test_empty_directory(tmp_path: Path) -> None:
    assert "no *.json, *.yaml or *.yml files" in failure("savings", tmp_path, code=1)


def test_malformed_object_names_the_object_and_the_field(tmp_path: Path) -> None:
    objects = cluster_objects()
    pod = next(o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"] == "api-1")
    pod["spec"]["containers"][0]["resources"]["requests"]["memory"] = "lots"
    path = write_dump(tmp_path / "cluster.json", objects)
    assert failure("savings", path, code=1) == (
        f"{path}: Pod shop/api-1: spec.containers[0].resources.requests.memory: invalid quantity 'lots'"
    )


def test_malformed_node_and_markup_like_text_are_printed_verbatim(tmp_path: Path) -> None:
    objects = cluster_objects()
    objects[0]["spec"]["taints"] = [{"key": "[bold]x", "effect": "Sometimes"}]
    path = write_dump(tmp_path / "[red]cluster.json", objects)
    message = failure("savings", path, code=1)
    assert message == (
        f"{path}: Node ip-10-0-1-10.ec2.internal: spec.taints[0].effect: unknown value 'Sometimes' "
        "(expected one of NoExecute, NoSchedule, PreferNoSchedule)"
    )


def test_duplicate_objects_across_files(tmp_path: Path) -> None:
    objects = cluster_objects()
    write_dump(tmp_path / "a.json", objects)
    write_dump(tmp_path / "b.json", objects[:1])
    message = failure("savings", tmp_path, code=1)
    assert message.startswith("Node ip-10-0-1-10.ec2.internal: duplicate object: defined in both ")


def test_a_list_with_a_non_object_item(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(as_list([*cluster_objects(), 42])))
    assert "expected a Kubernetes object (a mapping), got int" in failure("savings", path, code=1)


def test_no_command_prints_the_help() -> None:
    result = run()
    assert result.exit_code == 2  # no_args_is_help: help on stdout, usage exit code
    assert "Usage: kubewise" in result.stdout and "savings" in result.stdout


def test_reading_a_live_cluster_shows_a_spinner_on_a_terminal(kube_api: tuple[FakeApi, Path]) -> None:
    _, kubeconfig = kube_api
    args = ("savings", "--context", "fake", "--kubeconfig", kubeconfig, "-o", "json")
    assert "reading cluster (context fake)" in run(*args, env={"FORCE_COLOR": "1"}).stderr
    assert run(*args).stderr == ""


def test_input_size_decides_the_reading_spinner(tmp_path: Path) -> None:
    objects = cluster_objects()
    single = write_dump(tmp_path / "one.json", objects)
    folder = tmp_path / "dir"
    folder.mkdir()
    write_dump(folder / "a.json", objects[:3])
    write_dump(folder / "b.json", objects[3:])
    (folder / "ignored.txt").write_text("x" * 10_000)
    assert input_bytes(single) == single.stat().st_size
    assert input_bytes(folder) == sum(p.stat().st_size for p in folder.glob("*.json"))
    assert input_bytes(tmp_path / "missing.json") == 0
