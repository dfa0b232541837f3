"""Exceptions, one per error code the hitl API answers with."""
from typing import Any, Dict, List, NamedTuple, Optional


class FieldIssue(NamedTuple):
    """One field of a refused request: `path` names it (`decision_data.amount`), `message` says why."""

    path: str
    message: str


class HitlError(Exception):
    """An error from the hitl API: `code` is its stable error code, `status` the HTTP status."""

    def __init__(self, message: str, code: str = "error", status: Optional[int] = None,
                 issues: Optional[List[FieldIssue]] = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.issues = list(issues or [])
        self.body = body


class InvalidRequest(HitlError):
    """400: the body or query is not valid; `issues` names each field at fault."""


class Unauthorized(HitlError):
    """401: the token is missing or unknown."""


class Forbidden(HitlError):
    """403: the repository's .hitl.yml does not let this agent open requests there."""


class NotFound(HitlError):
    """404: no such request, or one another agent opened."""


class NotPending(HitlError):
    """409: the request was already decided, so it cannot be cancelled."""


class PayloadTooLarge(HitlError):
    """413: the body is larger than the server accepts."""


class IdempotencyKeyReused(HitlError):
    """422: the Idempotency-Key was used before with a different body."""


class AppNotInstalled(HitlError):
    """422: the GitHub App is not installed on the repository."""


class Unavailable(HitlError):
    """5xx or no connection, still failing after the client's retries. Safe to retry later."""


class DecisionTimeout(HitlError, TimeoutError):
    """`decision(timeout=...)` passed with the request still pending; it stays open on GitHub."""

    def __init__(self, request_id: str, timeout: float) -> None:
        super().__init__("Request {} is still pending after {:g} s.".format(request_id, timeout), code="timeout")
        self.request_id = request_id
        self.timeout = timeout


class Rejected(HitlError):
    """Raised by `require_approval` when the request ended any way but approved."""

    def __init__(self, decision: Any, message: Optional[str] = None) -> None:
        text = message or "Request {} was {} ({}){}".format(
            decision.request_id, decision.status, decision.action,
            ": " + decision.justification if decision.justification else "")
        super().__init__(text, code=decision.status)
        self.decision = decision
        self.request_id = decision.request_id
        self.action = decision.action
        self.justification = decision.justification


class DecisionDrifted(Rejected):
    """`resume: validated`: the request was approved, but the approval no longer holds for the
    agent's current context (`reasons`: drifted, too_old, head_moved); act as if not approved.
    With `re_ask`, `follow_up` is the linked request that asks again (else None)."""

    def __init__(self, decision: Any, validation: Dict[str, Any]) -> None:
        self.validation = validation
        self.reasons: List[str] = list(validation.get("reasons") or [])
        self.drifted_fields: List[Dict[str, Any]] = list(validation.get("drifted_fields") or [])
        self.follow_up: Optional[Dict[str, Any]] = validation.get("follow_up")
        text = "Request {} was approved, but the approval no longer holds ({}){}".format(
            decision.request_id, ", ".join(self.reasons),
            "; asked again as " + self.follow_up["id"] if self.follow_up else "")
        super().__init__(decision, text)
        self.code = "drifted"


class InvalidSignature(ValueError):
    """A callback whose signature is missing or does not match its body."""


class StaleCallback(ValueError):
    """A callback signed too long ago (or in the future): possibly a replay."""


_BY_CODE = {
    "invalid_request": InvalidRequest,
    "invalid_json": InvalidRequest,
    "unauthorized": Unauthorized,
    "agent_not_allowed": Forbidden,
    "not_found": NotFound,
    "not_pending": NotPending,
    "payload_too_large": PayloadTooLarge,
    "idempotency_key_reused": IdempotencyKeyReused,
    "app_not_installed": AppNotInstalled,
}


def error_from_response(status: int, body: Any) -> HitlError:
    """The exception for an error answer `{"error": {"code", "message", "issues"?}}`."""
    error: Dict[str, Any] = body.get("error", {}) if isinstance(body, dict) else {}
    code = str(error.get("code") or "http_{}".format(status))
    message = str(error.get("message") or "HTTP {}".format(status))
    issues = [FieldIssue(str(i.get("path", "")), str(i.get("message", ""))) for i in error.get("issues") or [] if isinstance(i, dict)]
    cls = _BY_CODE.get(code) or (Unavailable if status >= 500 else HitlError)
    return cls(message, code=code, status=status, issues=issues, body=body)
