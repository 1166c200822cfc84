"""The web console on a big cluster: planning its view in the background vs serving its pages.

`python -m benchmarks.console [--nodes 5000 --pods 50000]`: the example cluster's nodes and pods
cloned (as `benchmarks.ingest` does) and sent as a paged snapshot to an in-process server on
SQLite; then the server's loop plans the cluster's view once (timed), and the console's pages are
served from it (each timed over several requests, median). Printed side by side in one run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from benchmarks.ingest import _objects
from kubewise.server.app import create_app, utc_now
from kubewise.server.db.engine import transaction
from kubewise.server.services.identity import create_api_key, create_org
from kubewise.server.settings import ServerSettings

PAGE = 2000


def _median_ms(client: TestClient, path: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text[:300]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = ServerSettings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            max_body_bytes=1 << 30,
            autoscaler_interval_seconds=0,
        )
        app = create_app(settings)
        with transaction(app.state.platform.sessions) as session:
            create_org(session, "bench", utc_now())
            _, key = create_api_key(session, "bench", "full", utc_now())
        with TestClient(app) as client:
            headers = {"X-API-Key": key}
            body = {"eks": {"accountId": "1", "region": "us-east-1", "clusterName": "bench"}}
            cid = client.post("/v1/kubernetes/external-clusters", json=body, headers=headers).json()["id"]
            items = _objects(args.nodes, args.pods)
            pages = [items[i : i + PAGE] for i in range(0, len(items), PAGE)]
            for n, page in enumerate(pages):
                part = {"sequence": 1, "items": page, "page": n, "last": n == len(pages) - 1}
                r = client.post(f"/v1/agent/clusters/{cid}/snapshot", json=part, headers=headers)
                assert r.status_code == 200, r.text[:300]
            start = time.perf_counter()
            assert app.state.autoscaler.refresh_views() == 1
            plan_s = time.perf_counter() - start
            form = client.get("/console/sign-in").text
            token = form.split('name="signin" value="', 1)[1].split('"', 1)[0]
            client.post("/console/sign-in", data={"api_key": key, "signin": token})
            cluster_ms = _median_ms(client, f"/console/clusters/{cid}", args.runs)
            last_page = -(-args.nodes // 100)
            paged_ms = _median_ms(client, f"/console/clusters/{cid}?page={last_page}", args.runs)
            list_ms = _median_ms(client, "/console/clusters", args.runs)
    print(f"console on {args.nodes:,} nodes / {args.pods:,} pods (SQLite, in-process, median of {args.runs})")
    rows = [
        ("planning the cluster's view (server loop, background)", f"{plan_s:.1f} s"),
        (f"cluster page (100 nodes of {args.nodes:,})", f"{cluster_ms:.0f} ms"),
        ("cluster page, last node page", f"{paged_ms:.0f} ms"),
        ("clusters list", f"{list_ms:.0f} ms"),
        ("cluster page / planning", f"{cluster_ms / 1000 / plan_s:.4f}"),
    ]
    for label, value in rows:
        print(f"  {label:<56}{value:>10}")


if __name__ == "__main__":
    main()
