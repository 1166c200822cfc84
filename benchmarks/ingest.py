"""`python -m benchmarks.ingest`: agent ingest throughput and peak memory, SQLite and PostgreSQL side by side.

A snapshot of `--nodes` nodes and `--pods` pods (the example cluster's objects, cloned and renamed, so
each object has a real size and shape) is sent gzip-compressed to the snapshot endpoint -- whole in one
call, and in pages of `--page` objects as the agent sends it, side by side -- then `--deltas` deltas
of `--changes` pod updates each. The bodies are made first and written to files; every backend
runs in a child process of its own that reads them as bytes, so the peak memory (max RSS) printed is
the server's alone (the HTTP client in that process holds only the compressed bytes). PostgreSQL is
started from the machine's initdb/pg_ctl.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import multiprocessing
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from benchmarks.memory import peak_rss_mib

HERE = Path(__file__).resolve().parent


def _objects(nodes: int, pods: int) -> list[dict[str, Any]]:
    items = json.loads((resources.files("kubewise.examples") / "eks-us-east-1.json").read_text())["items"]
    node_tpl = [o for o in items if o["kind"] == "Node"]
    pod_tpl = [o for o in items if o["kind"] == "Pod" and o["spec"].get("nodeName")]
    out: list[dict[str, Any]] = []
    for i in range(nodes):
        node = copy.deepcopy(node_tpl[i % len(node_tpl)])
        node["metadata"]["name"] = f"node-{i:05d}"
        out.append(node)
    for i in range(pods):
        pod = copy.deepcopy(pod_tpl[i % len(pod_tpl)])
        pod["metadata"]["name"] = f"{pod['metadata']['name']}-{i:06d}"
        pod["spec"]["nodeName"] = f"node-{i % nodes:05d}"
        out.append(pod)
    return out


def _write_bodies(args: argparse.Namespace, folder: Path) -> tuple[Path, list[Path], list[Path]]:
    """The gzip bodies, made once in the parent and read as bytes by each backend's child process:
    the whole snapshot, the same snapshot in pages, and the deltas."""
    objects = _objects(args.nodes, args.pods)
    snapshot = folder / "snapshot.json.gz"
    snapshot.write_bytes(
        gzip.compress(json.dumps({"sequence": 1, "items": objects}).encode(), compresslevel=1)
    )
    pages = []
    starts = range(0, len(objects), args.page)
    for page, start in enumerate(starts):
        body = {"sequence": 1, "items": objects[start : start + args.page], "page": page}
        path = folder / f"snapshot-{page:04d}.json.gz"
        path.write_bytes(gzip.compress(json.dumps({**body, "last": page == len(starts) - 1}).encode(), 1))
        pages.append(path)
    pods = [o for o in objects if o["kind"] == "Pod"]
    deltas = []
    for d in range(args.deltas):
        changes = []
        for j in range(args.changes):
            pod = pods[(d * args.changes + j) % len(pods)]
            pod["metadata"]["labels"] = {**pod["metadata"].get("labels", {}), "rev": str(d)}
            changes.append({"op": "upsert", "object": pod})
        path = folder / f"delta-{d}.json.gz"
        path.write_bytes(gzip.compress(json.dumps({"sequence": d + 2, "changes": changes}).encode(), 1))
        deltas.append(path)
    return snapshot, pages, deltas


def _run_backend(url: str, snapshot: list[Path], deltas: list[Path], queue: Any) -> None:
    from fastapi.testclient import TestClient

    from kubewise.server.app import create_app, utc_now
    from kubewise.server.db.engine import transaction
    from kubewise.server.services.identity import create_api_key, create_org
    from kubewise.server.settings import ServerSettings

    app = create_app(ServerSettings(database_url=url, max_body_bytes=2 << 30))
    with transaction(app.state.platform.sessions) as session:
        create_org(session, "bench", utc_now())
        _, key = create_api_key(session, "bench", "full", utc_now())
    headers = {"X-API-Key": key, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    with TestClient(app) as client:
        cid = client.post(
            "/v1/kubernetes/external-clusters",
            json={"eks": {"accountId": "1", "region": "us-east-1", "clusterName": "bench"}},
            headers={"X-API-Key": key},
        ).json()["id"]
        start = time.perf_counter()
        for path in snapshot:  # one file: the whole snapshot; more: its pages in order
            r = client.post(f"/v1/agent/clusters/{cid}/snapshot", content=path.read_bytes(), headers=headers)
            assert r.status_code == 200, r.text[:300]
        snapshot_s = time.perf_counter() - start
        objects = r.json()["objects"]
        start = time.perf_counter()
        for path in deltas:
            r = client.post(f"/v1/agent/clusters/{cid}/deltas", content=path.read_bytes(), headers=headers)
            assert r.status_code == 200 and r.json()["applied"], r.text[:300]
        delta_s = time.perf_counter() - start
    queue.put(
        {
            "objects": objects,
            "snapshot_mb_gzip": sum(p.stat().st_size for p in snapshot) / 1e6,
            "snapshot_s": snapshot_s,
            "delta_s": delta_s / max(len(deltas), 1),
            "peak_rss_mb": peak_rss_mib(),
        }
    )


def _measure(url: str, snapshot: list[Path], deltas: list[Path]) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_run_backend, args=(url, snapshot, deltas, queue))
    child.start()
    result = queue.get()
    child.join()
    return dict(result)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--deltas", type=int, default=10)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument(
        "--page", type=int, default=2000, help="objects per snapshot page (the agent's default)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        snapshot, pages, deltas = _write_bodies(args, Path(tmp))
        for mode, files in (("whole", [snapshot]), ("paged", pages)):
            url = f"sqlite:///{Path(tmp) / f'bench-{mode}.db'}"
            rows.append((f"sqlite {mode}", _measure(url, files, deltas)))
        if not args.no_postgres:
            sys.path.insert(0, str(HERE.parent / "tests" / "server"))
            from pg_server import PostgresServer

            pg = PostgresServer()
            pg.start()
            try:
                for mode, files in (("whole", [snapshot]), ("paged", pages)):
                    rows.append((f"postgresql {mode}", _measure(pg.new_database(), files, deltas)))
            finally:
                pg.stop()
    print(f"ingest: {args.nodes} nodes + {args.pods} pods, {args.deltas} deltas of {args.changes} changes")
    heads = ("snapshot s", "objects/s", "delta s", "changes/s", "peak MB")
    print(f"{'backend':18s} " + " ".join(f"{h:>10s}" for h in heads))
    for name, r in rows:
        print(
            f"{name:18s} {r['snapshot_s']:10.1f} {r['objects'] / r['snapshot_s']:10.0f} {r['delta_s']:10.2f} "
            f"{args.changes / r['delta_s']:10.0f} {r['peak_rss_mb']:10.0f}"
        )
    by = dict(rows)
    for backend in ("sqlite", "postgresql"):
        if f"{backend} whole" in by:
            paged, whole = by[f"{backend} paged"], by[f"{backend} whole"]
            print(
                f"paged / whole ({backend}): snapshot time {paged['snapshot_s'] / whole['snapshot_s']:.2f}, "
                f"peak memory {paged['peak_rss_mb'] / whole['peak_rss_mb']:.2f}"
            )
    if "postgresql whole" in by:
        pg_whole, sq_whole = by["postgresql whole"], by["sqlite whole"]
        print(
            f"postgresql / sqlite time: snapshot {pg_whole['snapshot_s'] / sq_whole['snapshot_s']:.2f}, "
            f"delta {pg_whole['delta_s'] / sq_whole['delta_s']:.2f}"
        )
    print(f"snapshot body: {rows[0][1]['snapshot_mb_gzip']:.1f} MB gzip, {len(pages)} pages")


if __name__ == "__main__":
    main()
