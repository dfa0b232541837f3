"""What needs no server: callback verification on hand-signed bodies, the decorator's handling
of an approver's edits (no surface offers edits yet, so the server never sends them), and the
mapping from error answers to exceptions."""
import asyncio
import http.server
import json
import threading
import time
import unittest
from typing import Any, Dict, List

from hitl_client import (AppNotInstalled, Decision, Hitl, HitlError, InvalidRequest, InvalidSignature, NotFound, Rejected,
                         StaleCallback, Unavailable, require_approval, sign, verify_callback)
from hitl_client.errors import error_from_response

TOKEN = "agent-token-0123456789"
BODY = json.dumps({"event": "request.approved", "delivery_id": "dlv_1", "sent_at": "2026-12-01T09:30:00.000Z",
                   "request": {"id": "req_1", "status": "approved"}}).encode("utf-8")
SENT = 1796117400.0  # 2026-12-01T09:30:00Z


class VerifyCallback(unittest.TestCase):
    def test_a_body_signed_with_the_token_within_the_tolerance(self) -> None:
        headers = {"x-hitl-signature-256": sign(BODY, TOKEN)}
        self.assertEqual(verify_callback(BODY, headers, TOKEN, now=SENT + 60)["request"]["id"], "req_1")
        self.assertEqual(verify_callback(BODY, sign(BODY, TOKEN), TOKEN, now=SENT)["delivery_id"], "dlv_1")
        self.assertEqual(verify_callback(BODY, [("X-HITL-SIGNATURE-256", sign(BODY, TOKEN))], TOKEN, now=SENT)["event"], "request.approved")

    def test_refuses_other_bytes_another_key_no_signature_and_old_or_future_times(self) -> None:
        for body, headers in ((BODY + b"\n", {"X-Hitl-Signature-256": sign(BODY, TOKEN)}),
                              (BODY, {"X-Hitl-Signature-256": sign(BODY, "another-token-0123456789")}),
                              (BODY, {"X-Hitl-Signature-256": "sha256="}),
                              (BODY, {})):
            with self.assertRaises(InvalidSignature):
                verify_callback(body, headers, TOKEN, now=SENT)
        for now in (SENT + 301, SENT - 301):
            with self.assertRaises(StaleCallback):
                verify_callback(BODY, sign(BODY, TOKEN), TOKEN, now=now)
        undated = json.dumps({"event": "request.approved"}).encode()
        with self.assertRaises(StaleCallback):
            verify_callback(undated, sign(undated, TOKEN), TOKEN)

    def test_times_with_and_without_fractions_or_offsets(self) -> None:
        for sent_at in ("2026-12-01T09:30:00Z", "2026-12-01T09:30:00.000000Z", "2026-12-01T10:30:00+01:00"):
            body = json.dumps({"event": "x", "sent_at": sent_at}).encode()
            self.assertEqual(verify_callback(body, sign(body, TOKEN), TOKEN, tolerance_seconds=0.5, now=SENT)["sent_at"], sent_at)


class _Asked:
    def __init__(self, decision: Decision, delay: float) -> None:
        self._decision = decision
        self._delay = delay

    def decision(self, timeout: Any = None) -> Decision:
        time.sleep(self._delay)
        return self._decision


class _Hitl:
    """Stands in for the server where it cannot be used: it never sends `edited_fields` today."""

    def __init__(self, status: str, decision: Dict[str, Any], delay: float = 0.0) -> None:
        self.asked: List[Dict[str, Any]] = []
        self.result = Decision("req_1", status, decision)
        self.delay = delay

    def ask(self, repo: str, task_description: str, approval_reason: str, decision_data: Any = None, **fields: Any) -> _Asked:
        self.asked.append({"repo": repo, "task_description": task_description, "decision_data": decision_data, **fields})
        return _Asked(self.result, self.delay)


class Edits(unittest.TestCase):
    def tool(self, hitl: Any) -> Any:
        calls = self.calls = []  # type: List[Any]

        @require_approval(hitl, "octo-org/payments", "Refunds need a human", approvers=["alice"])
        def refund(order_id: int, amount: float, note: object = None) -> float:
            calls.append((order_id, amount))
            return amount

        return refund

    def test_an_approval_with_edits_runs_with_the_edited_values(self) -> None:
        hitl = _Hitl("approved", {"action": "approve", "edited_fields": {"amount": 50}})
        self.assertEqual(self.tool(hitl)(1234, 120), 50)
        self.assertEqual(self.calls, [(1234, 50)])
        self.assertEqual(hitl.asked[0]["task_description"], "refund(order_id=1234, amount=120, note=None)")
        self.assertEqual(hitl.asked[0]["approvers"], ["alice"])

    def test_an_edit_the_tool_cannot_take_refuses_the_call(self) -> None:
        hitl = _Hitl("approved", {"action": "approve", "edited_fields": {"currency": "EUR"}})
        with self.assertRaises(Rejected) as raised:
            self.tool(hitl)(1234, 120)
        self.assertIn("currency", str(raised.exception))
        self.assertEqual(self.calls, [])

    def test_values_json_cannot_hold_are_shown_as_their_repr(self) -> None:
        hitl = _Hitl("approved", {"action": "approve"})
        self.tool(hitl)(1, 2, note={1, 2})
        self.assertEqual(hitl.asked[0]["decision_data"], {"order_id": 1, "amount": 2, "note": "{1, 2}"})

    def test_an_expiry_that_chose_an_approving_default_does_not_run_the_tool(self) -> None:
        # Only a person's approval (status approved) runs it; a fallback ends the request as expired.
        hitl = _Hitl("expired", {"action": "approve", "justification": "nobody answered", "via": "fallback"})
        with self.assertRaises(Rejected) as raised:
            self.tool(hitl)(1, 2)
        self.assertEqual((raised.exception.code, raised.exception.justification), ("expired", "nobody answered"))
        self.assertEqual(self.calls, [])


class AsyncTools(unittest.TestCase):
    def test_an_async_tool_waits_for_the_decision_without_blocking_the_event_loop(self) -> None:
        hitl = _Hitl("approved", {"action": "approve", "edited_fields": {"amount": 5}}, delay=0.5)
        ran: List[Any] = []

        @require_approval(hitl, "octo-org/payments", "Refunds need a human")
        async def refund(order_id: int, amount: float) -> float:
            ran.append((order_id, amount, time.monotonic()))
            return amount

        async def main() -> List[float]:
            ticks: List[float] = []

            async def tick() -> None:
                for _ in range(5):
                    ticks.append(time.monotonic())
                    await asyncio.sleep(0.05)

            result, _ = await asyncio.gather(refund(7, 50), tick())
            self.assertEqual(result, 5)
            return ticks

        ticks = asyncio.run(main())
        self.assertTrue(asyncio.iscoroutinefunction(refund))
        self.assertEqual([call[:2] for call in ran], [(7, 5)])
        # The ticker ran to its end while the decision was awaited.
        self.assertLess(ticks[-1], ran[0][2])


class _Redirect(http.server.BaseHTTPRequestHandler):
    seen: List[Any] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:{}/elsewhere".format(self.server.server_address[1]))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class Redirects(unittest.TestCase):
    def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(self) -> None:
        server = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        with self.assertRaises(HitlError) as raised:
            Hitl("http://127.0.0.1:{}".format(server.server_address[1]), TOKEN).get("req_1")
        self.assertEqual((raised.exception.status, raised.exception.code), (302, "http_302"))
        self.assertEqual(_Redirect.seen, [("/api/v1/requests/req_1", "Bearer " + TOKEN)])


class _Batch(http.server.BaseHTTPRequestHandler):
    seen: List[Any] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.seen.append((self.path, body))
        answer = json.dumps({"results": [{"index": i, "status": 201, "request": {"id": "req_%d" % i}} for i in range(len(body["requests"]))]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


class AskMany(unittest.TestCase):
    def test_each_item_keeps_or_gets_its_own_idempotency_key_and_results_come_back_in_order(self) -> None:
        server = http.server.HTTPServer(("127.0.0.1", 0), _Batch)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        client = Hitl("http://127.0.0.1:{}".format(server.server_address[1]), TOKEN)
        results = client.ask_many([{"repo": "o/r", "task_description": "A", "approval_reason": "R", "idempotency_key": "mine"},
                                   {"repo": "o/r", "task_description": "B", "approval_reason": "R"}])
        self.assertEqual([(r["index"], r["status"], r["request"]["id"]) for r in results], [(0, 201, "req_0"), (1, 201, "req_1")])
        path, body = _Batch.seen[0]
        self.assertEqual(path, "/api/v1/requests/batch")
        self.assertEqual(body["requests"][0]["idempotency_key"], "mine")
        self.assertTrue(body["requests"][1]["idempotency_key"].startswith("hitl-py-"))


class ErrorAnswers(unittest.TestCase):
    def test_each_code_maps_to_its_exception_with_the_issues(self) -> None:
        invalid = error_from_response(400, {"error": {"code": "invalid_request", "message": "m", "issues": [{"path": "repo", "message": "must be owner/name"}]}})
        self.assertIsInstance(invalid, InvalidRequest)
        self.assertEqual(invalid.issues[0].path, "repo")
        self.assertIsInstance(error_from_response(404, {"error": {"code": "not_found", "message": "m"}}), NotFound)
        self.assertIsInstance(error_from_response(422, {"error": {"code": "app_not_installed", "message": "m"}}), AppNotInstalled)
        self.assertIsInstance(error_from_response(503, None), Unavailable)
        other = error_from_response(405, {"error": {"code": "method_not_allowed", "message": "no"}})
        self.assertEqual((type(other), other.code, other.status, str(other)), (HitlError, "method_not_allowed", 405, "no"))


class Python39(unittest.TestCase):
    def test_the_package_parses_as_python_3_9(self) -> None:
        # Best effort (ast's feature_version catches `match` and other newer syntax); the suite
        # itself runs on 3.9 with PYTHON=python3.9 (see test/clients/python.test.ts).
        import ast
        import pathlib
        sources = sorted(pathlib.Path(__file__).resolve().parent.parent.glob("hitl_client/*.py"))
        self.assertGreaterEqual(len(sources), 5)
        for source in sources:
            ast.parse(source.read_text(encoding="utf-8"), str(source), feature_version=(3, 9))
