"""What the live tests need from the runner (test/clients/python.test.ts): a real hitl server,
an agent token, and a control endpoint that plays GitHub's side (a person comments, the
webhook arrives). Without HITL_URL the live tests are skipped and only the offline ones run."""
import json
import os
import threading
import time
import unittest
import urllib.request
from typing import Any, Callable, Dict, Optional

from hitl_client import Hitl

URL = os.environ.get("HITL_URL", "")
TOKEN = os.environ.get("HITL_TOKEN", "")
CONTROL = os.environ.get("HITL_CONTROL_URL", "")
REPO = os.environ.get("HITL_REPO", "octo-org/payments")
APPROVER = os.environ.get("HITL_APPROVER", "alice")

live = unittest.skipUnless(URL and TOKEN and CONTROL, "HITL_URL, HITL_TOKEN and HITL_CONTROL_URL name a running server")


def client(**options: Any) -> Hitl:
    return Hitl(URL, TOKEN, **options)


def comment(request_id: str, body: str, login: str = APPROVER) -> Dict[str, Any]:
    """`login` comments `body` on the request's issue, and GitHub delivers the webhook."""
    data = json.dumps({"request_id": request_id, "body": body, "login": login}).encode("utf-8")
    request = urllib.request.Request(CONTROL + "/comment", data=data, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


class later(threading.Thread):  # noqa: N801 (reads as a function at the call site)
    """Runs `action` after `seconds` on a thread; `join()` raises what it raised."""

    def __init__(self, seconds: float, action: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.seconds = seconds
        self.action = action
        self.error: Optional[BaseException] = None
        self.start()

    def run(self) -> None:
        time.sleep(self.seconds)
        try:
            self.action()
        except BaseException as error:  # handed to the test by join()
            self.error = error

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error


def eventually(probe: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    until = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > until:
            raise AssertionError("nothing after {} s".format(timeout))
        time.sleep(every)
