"""`resume`: each mode against a real hitl server (see tests/support.py), decided on GitHub."""
import unittest
import uuid

from hitl_client import DecisionDrifted, Rejected, require_approval

from .support import REPO, client, comment, eventually, later, live


def unique(text: str) -> str:
    return "{} {}".format(text, uuid.uuid4().hex[:8])


REFUND = {"approvers": ["alice"]}


@live
class Resume(unittest.TestCase):
    def test_immediate_returns_the_decision_with_the_workflow_id_and_checkpoint(self) -> None:
        asked = client().ask(REPO, unique("Refund order P-1"), "Refunds need a human", {"amount": 10},
                             workflow_id="run-py-1", checkpoint={"step": 3, "cart": ["a"]}, **REFUND)
        self.assertEqual((asked.data["workflow_id"], asked.data["checkpoint"]), ("run-py-1", {"step": 3, "cart": ["a"]}))
        comment(asked.id, "/approve fine")
        decision = asked.decision(timeout=20)
        self.assertTrue(decision.approved)
        self.assertEqual((decision.resume, decision.workflow_id, decision.checkpoint, decision.superseded_by),
                         ("immediate", "run-py-1", {"step": 3, "cart": ["a"]}, None))
        self.assertEqual((decision.guidance, decision.constraints, decision.validation), (None, None, None))

    def test_validated_returns_an_approval_that_still_holds_with_its_validation(self) -> None:
        asked = client().ask(REPO, unique("Refund order P-2"), "Refunds need a human", {"amount": 120}, resume="validated", **REFUND)
        comment(asked.id, "/approve ok")
        decision = asked.decision(timeout=20)
        self.assertTrue(decision.approved)
        assert decision.validation is not None
        self.assertEqual((decision.validation["valid"], decision.validation["reasons"]), (True, []))

    def test_validated_raises_decision_drifted_when_the_data_changed_and_re_asks(self) -> None:
        hitl = client()
        asked = hitl.ask(REPO, unique("Refund order P-3"), "Refunds need a human", {"amount": 120, "order": "P-3"},
                         resume="validated", workflow_id="run-py-3", **REFUND)
        comment(asked.id, "/approve ok")
        calls = []

        def current():  # the cart changed while a person looked
            calls.append(1)
            return {"amount": 150, "order": "P-3"}

        with self.assertRaises(DecisionDrifted) as raised:
            asked.decision(timeout=20, current=current, re_ask=True)
        drifted = raised.exception
        self.assertIsInstance(drifted, Rejected)
        self.assertEqual(len(calls), 1)
        self.assertEqual((drifted.request_id, drifted.reasons), (asked.id, ["drifted"]))
        self.assertEqual(drifted.drifted_fields, [{"field": "amount", "approved": 120, "current": 150}])
        assert drifted.follow_up is not None
        self.assertEqual((drifted.follow_up["status"], drifted.follow_up["workflow_id"], drifted.follow_up["decision_data"]),
                         ("pending", "run-py-3", {"amount": 150, "order": "P-3"}))
        self.assertEqual((asked.refresh().status, asked.data["superseded_by"]), ("superseded", drifted.follow_up["id"]))
        hitl.cancel(drifted.follow_up["id"], "test done")

    def test_validated_require_approval_runs_the_tool_with_the_approvers_edits_which_are_not_drift(self) -> None:
        hitl = client()
        task = unique("Refund order V-2")
        ran = []

        @require_approval(hitl, REPO, "Refunds need a human", task_description=task, timeout=20, resume="validated",
                          editable_fields={"amount": {"type": "number", "minimum": 0, "maximum": 500}}, **REFUND)
        def refund(order: str, amount: int) -> None:
            ran.append((order, amount))

        def approve() -> None:
            request = eventually(lambda: next((r for r in hitl.list(status="pending") if r.data["task_description"] == task), None))
            comment(request.id, "/approve less\n```yaml\namount: 80\n```")

        approving = later(0.5, approve)
        refund("V-2", 120)
        approving.join()
        self.assertEqual(ran, [("V-2", 80)])

    def test_guided_returns_the_approvers_edits_and_justification_as_guidance(self) -> None:
        asked = client().ask(REPO, unique("Refund order P-4"), "Refunds need a human", {"amount": 120}, resume="guided",
                             editable_fields={"amount": {"type": "number", "minimum": 0, "maximum": 500}}, **REFUND)
        comment(asked.id, "/approve the customer agreed to less\n```yaml\namount: 80\n```")
        decision = asked.decision(timeout=20)
        self.assertTrue(decision.approved)
        self.assertEqual(decision.guidance, {"action": "approve", "edited_fields": {"amount": 80}, "reason_code": None,
                                             "justification": "the customer agreed to less"})
        self.assertIsNone(decision.constraints)

    def test_fresh_start_returns_a_rejections_reason_code_and_justification_as_constraints(self) -> None:
        asked = client().ask(REPO, unique("Refund order P-5"), "Refunds need a human", {"amount": 900}, resume="fresh_start",
                             feedback={"reasons": ["too_high", "fraud"]}, **REFUND)
        comment(asked.id, "/reject too_high the cap is $100")
        decision = asked.decision(timeout=20)
        self.assertFalse(decision.approved)
        self.assertEqual(decision.constraints, {"action": "reject", "edited_fields": {}, "reason_code": "too_high",
                                                "justification": "the cap is $100"})
        self.assertIsNone(decision.guidance)
