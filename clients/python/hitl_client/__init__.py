"""A client for hitl, asynchronous human approval for AI agents on GitHub. Standard library only."""
from .callback import SIGNATURE_HEADER, sign, verify_callback
from .client import SERVER_WAIT_CAP, ApprovalRequest, Decision, Hitl
from .decorator import require_approval
from .errors import (AppNotInstalled, DecisionDrifted, DecisionTimeout, FieldIssue, Forbidden, HitlError, IdempotencyKeyReused,
                     InvalidRequest, InvalidSignature, NotFound, NotPending, PayloadTooLarge, Rejected,
                     StaleCallback, Unauthorized, Unavailable)

__all__ = [
    "Hitl", "ApprovalRequest", "Decision", "SERVER_WAIT_CAP", "require_approval",
    "verify_callback", "sign", "SIGNATURE_HEADER",
    "HitlError", "InvalidRequest", "FieldIssue", "Unauthorized", "Forbidden", "NotFound", "NotPending",
    "PayloadTooLarge", "IdempotencyKeyReused", "AppNotInstalled", "Unavailable", "DecisionTimeout", "DecisionDrifted",
    "Rejected", "InvalidSignature", "StaleCallback",
]
__version__ = "0.1.0"
