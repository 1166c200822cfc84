"""The controller's calls to the platform: its cluster's pending actions, their results, capacity.

Network errors and 5xx are retried with backoff and jitter; a 401 (the key was revoked or is wrong)
ends the controller cleanly with one line, as waiting cannot fix it.
"""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from kubewise import __version__
from kubewise.controller.kube import ControllerFatal

__all__ = ["ControllerPlatform"]


class _Retry(Exception):
    pass


class ControllerPlatform:
    def __init__(
        self,
        api_url: str,
        api_key: str,
        cluster_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
        attempts: int = 8,
        max_wait: float = 30.0,
    ) -> None:
        if not api_key:
            raise ControllerFatal("controller failed: no API key: set API_KEY (the cluster's agent key)")
        self._base = f"/v1/controller/clusters/{cluster_id}"
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            # the platform shows the controller's version in the cluster view (doctor compares it)
            headers={"X-API-Key": api_key, "X-Kubewise-Version": __version__},
            timeout=30.0,
            transport=transport,
        )
        self._retrying = Retrying(
            retry=retry_if_exception_type(_Retry),
            wait=wait_random_exponential(multiplier=0.5, max=max_wait),
            stop=stop_after_attempt(attempts),
            reraise=True,
        )

    def _once(self, method: str, path: str, body: Any) -> Any:
        try:
            r = self._http.request(method, self._base + path, json=body)
        except httpx.TransportError as exc:
            raise _Retry(f"cannot reach the platform ({type(exc).__name__})") from None
        if r.status_code >= 500:
            raise _Retry(f"the platform answered {r.status_code}")
        if r.status_code == 401:
            raise ControllerFatal(
                "controller failed: the platform rejected the API key (401): it was revoked or is wrong "
                "-- set API_KEY to the cluster's current agent key; the controller stops"
            )
        if r.status_code >= 400:
            message = r.json().get("message", "") if r.content else ""
            raise ControllerFatal(
                f"controller failed: the platform refused {method} {path} ({r.status_code}): {message}"
            )
        return r.json()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self._retrying(self._once, method, path, body)
        except _Retry as exc:
            raise ControllerFatal(f"controller failed: {exc} -- check API_URL and the network") from None

    def pending(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/actions")["items"])

    def result(self, action_id: str, status: str, message: str) -> None:
        self._call("POST", f"/actions/{action_id}/result", {"status": status, "message": message[:2000]})

    def capacity(self, offerings: list[tuple[str, str]], seconds: int = 1800) -> None:
        items = [{"instanceType": t, "capacityType": c} for t, c in offerings]
        self._call("POST", "/capacity", {"unavailable": items, "seconds": seconds})

    def spot_prices(self, prices: dict[str, float]) -> None:
        self._call("POST", "/spot-prices", {"prices": prices})

    def close(self) -> None:
        self._http.close()
