"""The client against a real hitl server (see tests/support.py); each request is decided on GitHub."""
import http.server
import json
import queue
import socket
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List

from hitl_client import (DecisionTimeout, Hitl, IdempotencyKeyReused, InvalidRequest, InvalidSignature, NotFound,
                         NotPending, Rejected, StaleCallback, Unauthorized, Unavailable, require_approval,
                         verify_callback)
from hitl_client.callback import _timestamp

from .support import REPO, TOKEN, URL, client, comment, eventually, later, live


def unique(text: str) -> str:
    return "{} {}".format(text, uuid.uuid4().hex[:8])


@live
class AskAndWait(unittest.TestCase):
    def test_an_approval_on_github_is_the_decision_across_several_long_polls(self) -> None:
        hitl = client()
        asked = hitl.ask(REPO, unique("Refund order 1234"), "Refunds over $50 need a human", {"amount": 120})
        self.assertTrue(asked.created)
        self.assertEqual(asked.status, "pending")
        self.assertEqual(asked.data["decision_data"], {"amount": 120})
        # Polls of 1 s, decided after 2.5 s: only a client that polls again sees it.
        approving = later(2.5, lambda: comment(asked.id, "/approve go ahead"))
        started = time.monotonic()
        decision = asked.decision(timeout=30, poll_seconds=1)
        approving.join()
        self.assertGreater(time.monotonic() - started, 2.0)
        self.assertTrue(decision.approved)
        self.assertEqual((decision.request_id, decision.status, decision.action), (asked.id, "approved", "approve"))
        self.assertEqual(decision.decided_by, {"type": "human", "login": "alice"})
        self.assertEqual((decision.justification, decision.via), ("go ahead", "comment"))
        self.assertEqual(asked.refresh().status, "approved")

    def test_the_full_context_layer_comes_back_on_demand(self) -> None:
        layers = {"summary": "Refund $120 to Ann", "detail": "The parcel arrived broken.", "full": {"transcript": ["broken", "sorry"]}}
        asked = client().ask(REPO, unique("Refund order 1234"), "Refunds over $50 need a human", {"amount": 120}, context=layers)
        self.assertEqual(asked.data["context"]["summary"], "Refund $120 to Ann")
        got = client().context(asked.id)
        self.assertEqual((got["summary"], got["detail"], got["full"]), (layers["summary"], layers["detail"], layers["full"]))
        self.assertEqual(got["context_hash"], asked.data["context_hash"])
        asked.cancel("test done")

    def test_a_rejection_is_a_decision_that_is_not_approved(self) -> None:
        asked = client().ask(REPO, unique("Delete the staging database"), "Deletes need a human")
        comment(asked.id, "/reject not during the freeze")
        decision = asked.decision(timeout=20)
        self.assertFalse(decision.approved)
        self.assertEqual((decision.status, decision.action, decision.justification), ("rejected", "reject", "not during the freeze"))

    def test_the_agents_own_timeout_raises_and_leaves_the_request_pending(self) -> None:
        asked = client().ask(REPO, unique("Rotate the signing key"), "Key changes need a human")
        started = time.monotonic()
        with self.assertRaises(DecisionTimeout) as raised:
            asked.decision(timeout=1.5, poll_seconds=1)
        self.assertTrue(1.4 <= time.monotonic() - started < 10, time.monotonic() - started)
        self.assertEqual(raised.exception.request_id, asked.id)
        self.assertEqual(asked.refresh().status, "pending")
        asked.cancel("test done")
        self.assertEqual(asked.status, "cancelled")
        self.assertEqual(asked.decision(timeout=5).status, "cancelled")
        # Cancelling again (a retry whose first answer was lost) finds it cancelled.
        self.assertEqual(client().cancel(asked.id).status, "cancelled")

    def test_the_readme_example_as_written(self) -> None:
        with open("README.md", encoding="utf-8") as readme:
            text = readme.read()
        start = text.index("```python\n", text.index("<!-- ask-and-wait")) + len("```python\n")
        example = text[start:text.index("```", start)]
        self.assertLessEqual(len([line for line in example.splitlines() if line.strip()]), 5, example)
        # docs/agents.md shows the same example.
        with open("../../docs/agents.md", encoding="utf-8") as agents:
            self.assertIn("```python\n" + example + "```", agents.read())
        hitl = client()
        marker = "Refund order 1234"

        def approve_it() -> None:
            request = eventually(lambda: next((r for r in hitl.list(status="pending") if r.data["task_description"] == marker), None))
            comment(request.id, "/approve ok")

        approving = later(0.2, approve_it)
        scope: Dict[str, Any] = {"token": TOKEN, "refund": lambda: scope.setdefault("refunded", True)}
        exec(example.replace("http://localhost:3000", URL), scope)
        approving.join()
        self.assertTrue(scope["decision"].approved)
        self.assertTrue(scope.get("refunded"))


@live
class RequireApproval(unittest.TestCase):
    def setUp(self) -> None:
        self.calls: List[Dict[str, Any]] = []

    def tool(self, decide: str):
        calls = self.calls
        task = unique("Refund")

        @require_approval(client(), REPO, "Refunds over $50 need a human", task_description=lambda args: task, timeout=20)
        def refund(order_id: int, amount: float, currency: str = "USD") -> str:
            calls.append({"order_id": order_id, "amount": amount, "currency": currency})
            return "refunded {} {}".format(amount, currency)

        def decide_it() -> None:
            request = eventually(lambda: next((r for r in client().list(status="pending") if r.data["task_description"] == task), None))
            self.asked = request
            comment(request.id, decide)

        return refund, later(0.2, decide_it)

    def test_an_approved_call_runs_with_its_arguments_shown_as_decision_data(self) -> None:
        refund, deciding = self.tool("/approve fine")
        self.assertEqual(refund(1234, amount=120), "refunded 120 USD")
        deciding.join()
        self.assertEqual(self.calls, [{"order_id": 1234, "amount": 120, "currency": "USD"}])
        self.assertEqual(client().get(self.asked.id).data["decision_data"], {"order_id": 1234, "amount": 120, "currency": "USD"})
        self.assertEqual(refund.__name__, "refund")

    def test_a_rejected_call_raises_with_the_justification_and_does_not_run(self) -> None:
        refund, deciding = self.tool("/reject too much")
        with self.assertRaises(Rejected) as raised:
            refund(1234, 5000)
        deciding.join()
        self.assertEqual(self.calls, [])
        self.assertEqual((raised.exception.action, raised.exception.justification), ("reject", "too much"))
        self.assertEqual(raised.exception.request_id, self.asked.id)
        self.assertEqual(raised.exception.decision.status, "rejected")


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: "queue.Queue[Any]" = queue.Queue()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.put((raw, self.headers))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@live
class Callbacks(unittest.TestCase):
    def test_verify_callback_accepts_the_real_callback_and_refuses_it_tampered_or_stale(self) -> None:
        receiver = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        self.addCleanup(receiver.server_close)
        self.addCleanup(receiver.shutdown)
        url = "http://127.0.0.1:{}/hooks/hitl".format(receiver.server_address[1])
        asked = client().ask(REPO, unique("Deploy v2"), "Deploys need a human", callback_url=url)
        comment(asked.id, "/approve ship it")
        raw, headers = _Receiver.received.get(timeout=20)

        event = verify_callback(raw, headers, TOKEN)
        self.assertEqual((event["event"], event["request"]["id"], event["request"]["status"]), ("request.approved", asked.id, "approved"))
        self.assertTrue(event["delivery_id"].startswith("dlv_"))
        self.assertEqual(headers["X-Hitl-Delivery"], event["delivery_id"])
        plain = {key.lower(): value for key, value in headers.items()}
        self.assertEqual(verify_callback(raw.decode("utf-8"), plain, TOKEN)["delivery_id"], event["delivery_id"])

        tampered = raw.replace(b'"approved"', b'"rejected"', 1)
        self.assertNotEqual(tampered, raw)
        for body, token in ((tampered, TOKEN), (raw, TOKEN + "x"), (raw + b" ", TOKEN)):
            with self.assertRaises(InvalidSignature):
                verify_callback(body, headers, token)
        with self.assertRaises(InvalidSignature):
            verify_callback(raw, {"Content-Type": "application/json"}, TOKEN)

        sent = _timestamp(event["sent_at"])
        self.assertIsNotNone(sent)
        self.assertEqual(verify_callback(raw, headers, TOKEN, now=sent + 299)["delivery_id"], event["delivery_id"])
        for now, tolerance in ((sent + 301, 300), (sent - 301, 300), (sent + 11, 10)):
            with self.assertRaises(StaleCallback):
                verify_callback(raw, headers, TOKEN, tolerance_seconds=tolerance, now=now)


class _FlakyProxy(http.server.BaseHTTPRequestHandler):
    """In front of the server: the first POST reaches it but its answer is lost (the connection
    drops), the second gets a 503 without reaching it, the rest pass."""

    protocol_version = "HTTP/1.1"
    posts: List[Dict[str, Any]] = []

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else None
        if self.command == "POST":
            self.posts.append({"key": self.headers.get("Idempotency-Key"), "body": body})
        attempt = len(self.posts) if self.command == "POST" else 0
        if attempt == 2:
            payload = json.dumps({"error": {"code": "store_unavailable", "message": "retry"}}).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream = urllib.request.Request(URL + self.path, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(upstream, timeout=30) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        if attempt == 1:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _forward

    def log_message(self, *args: Any) -> None:
        pass


@live
class Retries(unittest.TestCase):
    def test_a_lost_answer_and_a_503_are_retried_with_the_same_key_and_create_one_request(self) -> None:
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyProxy)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        self.addCleanup(proxy.server_close)
        self.addCleanup(proxy.shutdown)
        task = unique("Refund order 77")
        hitl = Hitl("http://127.0.0.1:{}".format(proxy.server_address[1]), TOKEN, backoff=0.05)
        asked = hitl.ask(REPO, task, "Refunds over $50 need a human", {"amount": 77})

        self.assertEqual(len(_FlakyProxy.posts), 3)
        keys = {post["key"] for post in _FlakyProxy.posts}
        self.assertEqual(len(keys), 1)
        self.assertTrue(next(iter(keys)).startswith("hitl-py-"))
        self.assertEqual(len({post["body"] for post in _FlakyProxy.posts}), 1)
        # The first try created it; the third got it back (200, not 201).
        self.assertFalse(asked.created)
        self.assertEqual(asked.data["idempotency_key"], next(iter(keys)))
        same = [r.id for r in client().list(limit=500) if r.data["task_description"] == task]
        self.assertEqual(same, [asked.id])

    def test_no_answer_at_all_gives_up_after_the_retries(self) -> None:
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        started = time.monotonic()
        with self.assertRaises(Unavailable) as raised:
            Hitl("http://127.0.0.1:{}".format(port), TOKEN, retries=2, backoff=0.05).get("req_x")
        self.assertEqual(raised.exception.code, "connection_failed")
        self.assertLess(time.monotonic() - started, 5)


@live
class Errors(unittest.TestCase):
    def test_each_error_code_is_its_own_exception(self) -> None:
        with self.assertRaises(Unauthorized) as unauthorized:
            Hitl(URL, "not-a-token-of-this-server").list()
        self.assertEqual((unauthorized.exception.status, unauthorized.exception.code), (401, "unauthorized"))

        with self.assertRaises(NotFound) as missing:
            client().get("req_does_not_exist")
        self.assertEqual(missing.exception.status, 404)

        with self.assertRaises(InvalidRequest) as invalid:
            client().ask(REPO, "Refund", "Refunds need a human", risk_score=2, priority="whenever")
        self.assertEqual(invalid.exception.status, 400)
        self.assertEqual(sorted(issue.path for issue in invalid.exception.issues), ["priority", "risk_score"])

        key = "key-" + uuid.uuid4().hex
        first = client().ask(REPO, "Refund order 9", "Refunds need a human", {"amount": 9}, idempotency_key=key)
        again = client().ask(REPO, "Refund order 9", "Refunds need a human", {"amount": 9}, idempotency_key=key)
        self.assertEqual((first.created, again.created, again.id), (True, False, first.id))
        with self.assertRaises(IdempotencyKeyReused) as reused:
            client().ask(REPO, "Refund order 9", "Refunds need a human", {"amount": 90}, idempotency_key=key)
        self.assertEqual(reused.exception.status, 422)

        comment(first.id, "/approve")
        self.assertTrue(first.decision(timeout=20).approved)
        with self.assertRaises(NotPending):
            first.cancel()
