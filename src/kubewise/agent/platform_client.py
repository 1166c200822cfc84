"""The agent's calls to the platform, with retries: backoff with jitter on network errors and 5xx.

Each call retries for `give_up_after` seconds (5 minutes), then raises `PlatformUnreachable`.

Failures that waiting cannot fix end the agent with one line saying what to do: an invalid API key
(401), a key without the rights (403), a payload the platform refuses (422). A 409 `resync_required`
is not an error to the caller: it asks for a full snapshot (`ResyncRequested`).
"""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import orjson
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

__all__ = ["AgentFatal", "NotServed", "PlatformClient", "PlatformUnreachable", "ResyncRequested"]


class AgentFatal(RuntimeError):
    """The agent cannot go on; the message is one line: what failed and what to do."""


class PlatformUnreachable(AgentFatal):
    """The platform stayed unreachable (or failing with 5xx) for the whole retry budget. Fatal while
    registering; once connected the agent keeps what it has not sent and tries again later."""


class NotServed(AgentFatal):
    """The platform does not serve this call (404): an older platform, or a cluster it does not know.
    Fatal like any refusal, except where the caller can do without (usage, `UsageCollector`)."""


class ResyncRequested(Exception):
    """The platform wants a full snapshot before more deltas."""


class _Retryable(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable)


class PlatformClient:
    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        max_wait: float = 60.0,
        give_up_after: float = 300.0,
        attempts: int | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        if not api_key:
            raise AgentFatal("agent failed: no API key: set API_KEY (kubewise admin create-api-key)")
        self._url = api_url.rstrip("/")
        self.give_up_after = give_up_after if attempts is None else attempts * max_wait
        self._timeout = timeout or httpx.Timeout(30.0, connect=10.0)
        self._http = httpx.Client(
            base_url=self._url, headers={"X-API-Key": api_key}, timeout=self._timeout, transport=transport
        )
        stop = stop_after_delay(give_up_after) if attempts is None else stop_after_attempt(attempts)
        self._retrying = Retrying(
            retry=retry_if_exception(_retryable),
            wait=wait_random_exponential(multiplier=0.5, max=max_wait),
            stop=stop,
            reraise=True,
        )

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, body: Any, what: str) -> Any:
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if content is not None and path.startswith("/v1/agent/"):  # the ingest calls take gzip
            content = gzip.compress(content, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.ConnectTimeout:  # httpx counts the TLS handshake as part of connecting
            raise _Retryable(
                f"{what}: the platform at {self._url} did not complete the connection within "
                f"{self._timeout.connect:g}s (TCP or TLS handshake timeout)"
            ) from None
        except httpx.TimeoutException:
            raise _Retryable(
                f"{what}: the platform at {self._url} did not answer within {self._timeout.read:g}s"
            ) from None
        except httpx.TransportError as exc:
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise _Retryable(f"{what}: cannot reach the platform at {self._url} ({detail})") from None
        if response.status_code >= 500:
            raise _Retryable(f"{what}: the platform answered {response.status_code}")
        return self._answer(response, what)

    def _answer(self, response: httpx.Response, what: str) -> Any:
        try:
            doc = response.json() if response.content else None
        except ValueError:
            doc = None
        message = doc.get("message", "") if isinstance(doc, dict) else response.reason_phrase
        if response.status_code == 401:
            raise AgentFatal(
                f"agent failed: {what}: invalid API key (401): {message} -- set API_KEY to a valid key"
            )
        if response.status_code == 403:
            raise AgentFatal(
                f"agent failed: {what}: forbidden (403): {message} -- use a 'full' or the cluster's agent key"
            )
        if response.status_code == 409 and isinstance(doc, dict) and doc.get("resync"):
            raise ResyncRequested(message)
        if response.status_code == 404:
            raise NotServed(f"agent failed: {what}: the platform refused it (404): {message}")
        if response.status_code >= 400:
            raise AgentFatal(
                f"agent failed: {what}: the platform refused it ({response.status_code}): {message}"
            )
        return doc

    def call(self, method: str, path: str, body: Any = None, *, what: str) -> Any:
        """One call, retried while the platform is unreachable or failing (backoff with jitter)."""
        try:
            return self._retrying(self._send, method, path, body, what)
        except _Retryable as exc:
            raise PlatformUnreachable(
                f"agent failed: {exc} -- check API_URL and the network to the platform"
            ) from None

    def register(self, body: dict[str, Any]) -> str:
        doc = self.call("POST", "/v1/kubernetes/external-clusters", body, what="registering cluster")
        return str(doc["id"])

    def heartbeat(
        self, cluster_id: str, agent_version: str, conditions: list[dict[str, str]] | None = None
    ) -> dict[str, Any]:
        body = {"agentVersion": agent_version, "conditions": conditions or []}
        doc = self.call("POST", f"/v1/agent/clusters/{cluster_id}/heartbeat", body, what="sending heartbeat")
        return dict(doc)

    def snapshot(
        self, cluster_id: str, sequence: int, items: list[dict[str, Any]], *, page: int = 0, last: bool = True
    ) -> None:
        """The whole snapshot (the defaults), or one page of it: pages 0, 1, ..., the final one `last`."""
        self.call(
            "POST",
            f"/v1/agent/clusters/{cluster_id}/snapshot",
            {"sequence": sequence, "items": items, "page": page, "last": last},
            what="sending snapshot",
        )

    def delta(self, cluster_id: str, sequence: int, changes: list[dict[str, Any]]) -> None:
        self.call(
            "POST",
            f"/v1/agent/clusters/{cluster_id}/deltas",
            {"sequence": sequence, "changes": changes},
            what="sending changes",
        )

    def usage(self, cluster_id: str, at: str, pods: list[dict[str, Any]]) -> int:
        """One page of containers' usage (`UsageCollector`); returns the platform's `accepted` count."""
        doc = self.call(
            "POST", f"/v1/agent/clusters/{cluster_id}/usage", {"at": at, "pods": pods}, what="sending usage"
        )
        return int(doc.get("accepted", 0)) if isinstance(doc, dict) else 0
