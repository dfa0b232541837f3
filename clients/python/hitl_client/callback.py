"""Checking a callback hitl sent: the signature over the raw body, then its age."""
import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional, Union

from .errors import InvalidSignature, StaleCallback

SIGNATURE_HEADER = "X-Hitl-Signature-256"

Headers = Union[Mapping[str, str], Any]


def sign(raw_body: bytes, token: str) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`, keyed by the agent's token: the header's value."""
    return "sha256=" + hmac.new(token.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify_callback(raw_body: Union[bytes, str], headers: Headers, token: str,
                    tolerance_seconds: float = 300, now: Optional[float] = None) -> Dict[str, Any]:
    """The callback's event (`event`, `delivery_id`, `sent_at`, `request`) if `token` signed these
    exact bytes less than `tolerance_seconds` ago.

    `headers` is any mapping of the request's headers (any case), or the signature header's value
    itself. Raises InvalidSignature or StaleCallback (both ValueError). Act once per
    `delivery_id`: a retry repeats it, and should be answered 2xx without acting again.
    """
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    given = headers if isinstance(headers, str) else _header(headers, SIGNATURE_HEADER)
    if not given:
        raise InvalidSignature("no {} header".format(SIGNATURE_HEADER))
    if not hmac.compare_digest(sign(body, token).encode("utf-8"), given.strip().encode("utf-8")):
        raise InvalidSignature("the signature does not match the body")
    event = json.loads(body.decode("utf-8"))
    sent_at = _timestamp(event.get("sent_at") if isinstance(event, dict) else None)
    if sent_at is None:
        raise StaleCallback("the callback has no readable sent_at")
    age = (time.time() if now is None else now) - sent_at
    if abs(age) > tolerance_seconds:
        raise StaleCallback("the callback was signed {:.0f} s {} (tolerance {:g} s)".format(
            abs(age), "ago" if age > 0 else "ahead", tolerance_seconds))
    return event


def _header(headers: Any, name: str) -> Optional[str]:
    wanted = name.lower()
    items = headers.items() if hasattr(headers, "items") else headers
    for key, value in items:
        if str(key).lower() == wanted:
            return value[0] if isinstance(value, (list, tuple)) else str(value)
    return None


_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _timestamp(value: Any) -> Optional[float]:
    """Seconds since the epoch of an ISO 8601 time such as `2026-12-01T09:30:00.000Z` (3.9's fromisoformat takes no `Z`)."""
    match = _ISO.match(value) if isinstance(value, str) else None
    if not match:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    parsed = datetime.fromisoformat(match.group(1) + zone)
    fraction = float(match.group(2)) if match.group(2) else 0.0
    return parsed.astimezone(timezone.utc).timestamp() + fraction
