"""`require_approval`: a tool function that asks a person before it runs."""
import asyncio
import functools
import json
import inspect
from typing import Any, Callable, Dict, Optional, TypeVar, Union

from .client import Decision, Hitl
from .errors import Rejected

F = TypeVar("F", bound=Callable[..., Any])
Describe = Union[str, Callable[[Dict[str, Any]], str]]


def require_approval(hitl: Hitl, repo: str, approval_reason: str, task_description: Optional[Describe] = None,
                     timeout: Optional[float] = None, **fields: Any) -> Callable[[F], F]:
    """Wraps a tool: each call opens a request with the call's arguments as `decision_data`,
    waits for the decision, and runs the tool only if it was approved, with any `edited_fields`
    the approver changed in place of the arguments. Otherwise raises Rejected (carrying the
    decision: status, action, justification); DecisionTimeout when `timeout` passes first.

    `task_description` is a string or a function of the arguments (default `name(args)`);
    `fields` are passed on to `Hitl.ask` (approvers, priority, deadline, fallback_action, …).
    An `async def` tool gets an `async` wrapper that waits on a thread, not on the event loop.
    """

    def wrap(tool: F) -> F:
        signature = inspect.signature(tool)

        def approved_call(args: Any, kwargs: Any) -> inspect.BoundArguments:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}
            if callable(task_description):
                title = task_description(arguments)
            else:
                title = task_description or _call_text(tool.__name__, arguments)
            # Values JSON cannot hold are shown to the approver as their repr.
            data = json.loads(json.dumps(arguments, default=repr))
            decision = hitl.ask(repo, title, approval_reason, decision_data=data, **fields).decision(timeout=timeout)
            if not decision.approved:
                raise Rejected(decision)
            return _edited(bound, decision, signature)

        if inspect.iscoroutinefunction(tool):
            @functools.wraps(tool)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                # The wait blocks a thread, not the event loop.
                call = await asyncio.to_thread(approved_call, args, kwargs)
                return await tool(*call.args, **call.kwargs)

            return guarded_async  # type: ignore[return-value]

        @functools.wraps(tool)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            call = approved_call(args, kwargs)
            return tool(*call.args, **call.kwargs)

        return guarded  # type: ignore[return-value]

    return wrap


def _edited(bound: inspect.BoundArguments, decision: Decision, signature: inspect.Signature) -> inspect.BoundArguments:
    """The call's arguments with the approver's edits applied; an edit the tool cannot take refuses the call."""
    if not decision.edited_fields:
        return bound
    unknown = sorted(name for name in decision.edited_fields if name not in signature.parameters or name in ("self", "cls"))
    if unknown:
        raise Rejected(decision, "Request {} was approved with edits to {}, which the tool does not take: not run".format(
            decision.request_id, ", ".join(unknown)))
    arguments = dict(bound.arguments, **decision.edited_fields)
    edited = signature.bind_partial()
    edited.arguments.update(arguments)
    return edited


def _call_text(name: str, arguments: Dict[str, Any]) -> str:
    text = "{}({})".format(name, ", ".join("{}={!r}".format(k, v) for k, v in arguments.items()))
    return text if len(text) <= 500 else text[:497] + "..."
