"""The hitl agent API over urllib: ask, wait across the server's long-poll cap, retry safely."""
import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .errors import DecisionDrifted, DecisionTimeout, NotPending, Unavailable, error_from_response

#: The agent's current decision_data for `resume: validated`, or a function returning it.
Current = Union[Dict[str, Any], Callable[[], Dict[str, Any]], None]

#: The longest `wait` the server accepts on `GET /requests/:id/decision`.
SERVER_WAIT_CAP = 60.0
_RETRY_STATUSES = {429, 500, 502, 503, 504}


class Decision:
    """How a request ended, integrated as its `resume` asks. `approved` is true only for status `approved`.

    `guidance` (`resume: guided`) and `constraints` (`fresh_start`) are the person's word:
    `{"action", "edited_fields", "reason_code", "justification"}`; `validation` (`validated`
    approvals) is the answer of `validate` that found the approval still holds. Else None.
    """

    def __init__(self, request_id: str, status: str, decision: Dict[str, Any], poll: Optional[Dict[str, Any]] = None) -> None:
        poll = poll or {}
        self.request_id = request_id
        self.status = status
        self.raw = decision
        self.action: str = decision.get("action", "")
        self.decided_by: Dict[str, Any] = decision.get("decided_by") or {}
        self.justification: Optional[str] = decision.get("justification")
        self.decided_at: Optional[str] = decision.get("decided_at")
        self.via: Optional[str] = decision.get("via")
        self.fallback: Optional[Dict[str, Any]] = decision.get("fallback")
        self.edited_fields: Dict[str, Any] = decision.get("edited_fields") or {}
        self.reason_code: Optional[str] = decision.get("reason_code")
        self.workflow_id: Optional[str] = poll.get("workflow_id")
        self.checkpoint: Any = poll.get("checkpoint")
        self.resume: str = poll.get("resume") or "immediate"
        self.superseded_by: Optional[str] = poll.get("superseded_by")
        said = {"action": self.action, "edited_fields": dict(self.edited_fields),
                "reason_code": self.reason_code, "justification": self.justification}
        self.guidance: Optional[Dict[str, Any]] = said if self.resume == "guided" else None
        self.constraints: Optional[Dict[str, Any]] = said if self.resume == "fresh_start" else None
        self.validation: Optional[Dict[str, Any]] = None

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    def __repr__(self) -> str:
        return "Decision(request_id={!r}, status={!r}, action={!r}, justification={!r})".format(
            self.request_id, self.status, self.action, self.justification)


class ApprovalRequest:
    """A request as the API shows it (`data`), with the calls that act on it."""

    def __init__(self, client: "Hitl", data: Dict[str, Any], created: bool = False) -> None:
        self._client = client
        self.data = data
        #: False when the server returned an earlier request for the same Idempotency-Key.
        self.created = created

    id = property(lambda self: self.data["id"])
    status = property(lambda self: self.data["status"])
    surface_url = property(lambda self: self.data.get("surface_url"))

    def decision(self, timeout: Optional[float] = None, poll_seconds: float = SERVER_WAIT_CAP, current: Current = None,
                 pull_request_head: Optional[str] = None, re_ask: bool = False) -> Decision:
        """Waits for the decision, `timeout` seconds at most (None: until decided); raises DecisionTimeout.

        `resume: validated`: an approval is re-checked with `validate` against `current` (the
        agent's decision_data now, or a function returning it; default: unchanged) and raises
        DecisionDrifted when it no longer holds (with `re_ask`, carrying the follow-up request).
        No `current`: unchanged since it asked (the approver's edits count as approved, not as drift).
        """
        return self._client.wait(self.id, timeout=timeout, poll_seconds=poll_seconds, current=current,
                                 pull_request_head=pull_request_head, re_ask=re_ask)

    def refresh(self) -> "ApprovalRequest":
        self.data = self._client.get(self.id).data
        return self

    def cancel(self, reason: Optional[str] = None) -> "ApprovalRequest":
        self.data = self._client.cancel(self.id, reason).data
        return self

    def __repr__(self) -> str:
        return "ApprovalRequest(id={!r}, status={!r})".format(self.data.get("id"), self.data.get("status"))


class Hitl:
    """A client for one agent token. `retries` transient failures (5xx, no connection) per call."""

    def __init__(self, url: str, token: str, retries: int = 8, backoff: float = 0.5, timeout: float = 30.0) -> None:
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout

    def ask(self, repo: str, task_description: str, approval_reason: str,
            decision_data: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None,
            **fields: Any) -> ApprovalRequest:
        """Opens a request (`POST /requests`); `fields` are the API's other keys (approvers, deadline, …).

        Every retry sends the same body with the same Idempotency-Key (one is made when none is
        given), so a request is created once however often the network fails.
        """
        body = dict(fields, repo=repo, task_description=task_description, approval_reason=approval_reason)
        if decision_data is not None:
            body["decision_data"] = decision_data
        key = idempotency_key or "hitl-py-" + uuid.uuid4().hex
        status, data = self._call("POST", "/requests", body, headers={"Idempotency-Key": key})
        return ApprovalRequest(self, data, created=status == 201)

    def ask_many(self, requests: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Opens up to 100 requests in one call (`POST /requests/batch`), each a body as `ask` sends.

        Each item keeps its own `idempotency_key` (one is made for an item without one), so the whole
        call is safe to retry. Returns the `results`, item by item in order: `{index, status,
        request}` (201 opened, 200 opened before with that key) or `{index, status, error}`.
        """
        items = [dict(item, idempotency_key=item.get("idempotency_key") or "hitl-py-" + uuid.uuid4().hex) for item in requests]
        return self._call("POST", "/requests/batch", {"requests": items})[1]["results"]

    def get(self, request_id: str) -> ApprovalRequest:
        return ApprovalRequest(self, self._call("GET", "/requests/" + _segment(request_id))[1])

    def context(self, request_id: str) -> Dict[str, Any]:
        """`GET /requests/:id/context`: the context layers (`summary`, `detail`, `full` as sent)."""
        return self._call("GET", "/requests/{}/context".format(_segment(request_id)))[1]

    def list(self, **query: Any) -> List[ApprovalRequest]:
        """`repo`, `status`, `request_type`, `limit`: the agent's own requests (all with `read-all`)."""
        data = self._call("GET", "/requests" + _query(query))[1]
        return [ApprovalRequest(self, item) for item in data["requests"]]

    def cancel(self, request_id: str, reason: Optional[str] = None) -> ApprovalRequest:
        body = {} if reason is None else {"reason": reason}
        try:
            return ApprovalRequest(self, self._call("POST", "/requests/{}/cancel".format(_segment(request_id)), body)[1])
        except NotPending:
            # A retry after a cancel whose answer was lost: the request is cancelled all the same.
            request = self.get(request_id)
            if request.status == "cancelled":
                return request
            raise

    def validate(self, request_id: str, decision_data: Optional[Dict[str, Any]] = None,
                 pull_request_head: Optional[str] = None, re_ask: bool = False) -> Dict[str, Any]:
        """`POST /requests/:id/validate`: whether the decision still holds for the agent's current context."""
        body: Dict[str, Any] = {"re_ask": re_ask}
        if decision_data is not None:
            body["decision_data"] = decision_data
        if pull_request_head is not None:
            body["pull_request_head"] = pull_request_head
        return self._call("POST", "/requests/{}/validate".format(_segment(request_id)), body)[1]

    def wait(self, request_id: str, timeout: Optional[float] = None, poll_seconds: float = SERVER_WAIT_CAP,
             current: Current = None, pull_request_head: Optional[str] = None, re_ask: bool = False) -> Decision:
        """Long-polls in rounds of `poll_seconds` (1 to the server's 60) until decided or `timeout`,
        then integrates the decision as its `resume` asks (see `ApprovalRequest.decision`)."""
        poll = max(1.0, min(poll_seconds, SERVER_WAIT_CAP))
        until = None if timeout is None else time.monotonic() + timeout
        path = "/requests/{}/decision".format(_segment(request_id))
        while True:
            wait = poll if until is None else max(0.0, min(poll, until - time.monotonic()))
            data = self._call("GET", path + _query({"wait": round(wait, 3)}), timeout=wait + self.timeout)[1]
            if data["status"] != "pending":
                decision = Decision(data["id"], data["status"], data.get("decision") or {}, data)
                if decision.resume == "validated" and decision.approved:
                    context = current() if callable(current) else current
                    validation = self.validate(request_id, context, pull_request_head, re_ask)
                    if not validation.get("valid"):
                        raise DecisionDrifted(decision, validation)
                    decision.validation = validation
                return decision
            if until is not None and time.monotonic() >= until:
                raise DecisionTimeout(request_id, timeout if timeout is not None else 0.0)

    def _call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None,
              headers: Optional[Dict[str, str]] = None, timeout: Optional[float] = None) -> Tuple[int, Any]:
        payload = None if body is None else json.dumps(body).encode("utf-8")
        all_headers = {"Authorization": "Bearer " + self.token, "Accept": "application/json", "User-Agent": "hitl-python"}
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        attempt = 0
        while True:
            request = urllib.request.Request(self.base + path, data=payload, headers=all_headers, method=method)
            try:
                status, text, retry_after = _send(request, timeout or self.timeout)
            except _TRANSIENT as error:
                if attempt >= self.retries:
                    raise Unavailable("{} {} failed: {}".format(method, path, error), code="connection_failed") from error
                retry_after = None
                status, text = 0, ""
            parsed = _json(text)
            if 200 <= status < 300:
                return status, parsed
            if status and (status not in _RETRY_STATUSES or attempt >= self.retries):
                raise error_from_response(status, parsed)
            time.sleep(_delay(self.backoff, attempt, retry_after))
            attempt += 1


_TRANSIENT = (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout, TimeoutError)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The API never redirects; following one would send the token to wherever it points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _send(request: urllib.request.Request, timeout: float) -> Tuple[int, str, Optional[str]]:
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8"), None
    except urllib.error.HTTPError as error:
        try:
            text = error.read().decode("utf-8", "replace")
        except Exception:  # an error answer without a readable body
            text = ""
        finally:
            error.close()
        return error.code, text, error.headers.get("Retry-After") if error.headers else None


def _delay(backoff: float, attempt: int, retry_after: Optional[str]) -> float:
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), 30.0)
    return min(backoff * (2 ** attempt), 10.0) * random.uniform(0.5, 1.0)


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _segment(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")


def _query(values: Dict[str, Any]) -> str:
    present = {k: v for k, v in values.items() if v is not None}
    return "?" + urllib.parse.urlencode(present) if present else ""

