import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { DecisionTimeoutError, HitlApiError, type ApprovalRequest, type Hitl, type NewRequest, type Outcome } from "../client/index.js";

/** At most this long per call: MCP clients commonly give a tool call 60 s. */
export const MAX_WAIT_SECONDS = 50;

const PENDING_HINT =
  "Still pending: people have not decided yet. Do not perform the action. Carry on with other work that does not depend on it, and call wait_for_approval or get_approval with this id later.";

const waitSeconds = z.number().int().min(0).max(MAX_WAIT_SECONDS);

type ToolResult = { content: { type: "text"; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

function answer(value: Record<string, unknown>): ToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

/** What a model needs from a request: its state, where people decide it, and what to do next. */
function fromRequest(request: ApprovalRequest): Record<string, unknown> {
  return {
    id: request.id,
    status: request.status,
    surface_url: request.surface_url,
    deadline: request.deadline,
    decision: request.decision,
    ...(request.status === "pending" ? { next: PENDING_HINT } : { next: request.status === "approved" ? "Approved: go ahead, with decision_data as approved." : "Not approved: do not perform the action." }),
  };
}

function fromOutcome(outcome: Outcome): Record<string, unknown> {
  return { id: outcome.id, status: outcome.status, decision: outcome.decision, next: outcome.approved ? "Approved: go ahead." : "Not approved: do not perform the action; tell the user why (decision.justification)." };
}

async function tool(run: () => Promise<Record<string, unknown>>): Promise<ToolResult> {
  try {
    return answer(await run());
  } catch (error) {
    const message = error instanceof HitlApiError ? `${error.message}${error.issues.map((i) => `\n${i.path}: ${i.message}`).join("")} (${error.code})` : error instanceof Error ? error.message : String(error);
    return { content: [{ type: "text", text: message }], isError: true };
  }
}

/** Waits up to `seconds` for a decision; the request as it stands when they run out. */
async function settle(hitl: Hitl, id: string, seconds: number): Promise<Record<string, unknown>> {
  if (seconds > 0) {
    try {
      return fromOutcome(await hitl.waitForDecision(id, { timeoutMs: seconds * 1000 }));
    } catch (error) {
      if (!(error instanceof DecisionTimeoutError)) throw error;
    }
  }
  return fromRequest(await hitl.get(id));
}

/** The hitl tools for a model, over the agent API as the agent `hitl` is. */
export function createMcpServer(hitl: Hitl): McpServer {
  const server = new McpServer({ name: "hitl", version: "1.0.0" });

  server.registerTool(
    "request_approval",
    {
      title: "Ask a person for approval",
      description:
        "Ask people on GitHub to approve an action before you take it. Use it before anything irreversible, costly, or that touches production, money, secrets, permissions or other people's data, and whenever a policy or the user says a human must sign off. " +
        "Put in task_description what you will do (one line), in approval_reason why it needs a person, and in decision_data the exact parameters of the action (amounts, targets, commands) so the approver sees what they approve. " +
        `Returns at once with the request id and status "pending" (or waits up to wait_seconds, at most ${MAX_WAIT_SECONDS}). Pending means: do not take the action; do other work and check back with wait_for_approval or get_approval. Only "approved" allows the action.`,
      inputSchema: {
        repo: z.string().describe("owner/name of the GitHub repository whose people decide"),
        task_description: z.string().describe("What you are about to do, in one line"),
        approval_reason: z.string().describe("Why a person must approve it"),
        decision_data: z.record(z.string(), z.unknown()).optional().describe("The action's exact parameters, shown to the approver"),
        context: z
          .object({ summary: z.string().optional(), detail: z.string().optional(), full: z.unknown().optional() })
          .optional()
          .describe("More context in layers: summary (one line for chat and SMS), detail (text for the issue), full (any JSON, never posted; the approver's desk shows it)"),
        approvers: z.array(z.string()).optional().describe("GitHub logins or @org/team that should decide (the repository's .hitl.yml may require more)"),
        priority: z.enum(["low", "normal", "high", "critical"]).optional(),
        deadline: z.string().optional().describe('When the request\'s fallback applies: an ISO 8601 time, or a time from now such as "in 48h" (s, m, h, d, w)'),
        idempotency_key: z.string().optional().describe("Send the same key when retrying the same ask, so it is not asked twice"),
        wait_seconds: waitSeconds.optional().describe(`Wait this long (0-${MAX_WAIT_SECONDS} s) for a decision before returning; default 0`),
      },
    },
    ({ wait_seconds, ...body }) =>
      tool(async () => {
        const request = await hitl.create(body as NewRequest, body.idempotency_key);
        return request.status === "pending" ? settle(hitl, request.id, wait_seconds ?? 0) : fromRequest(request);
      }),
  );

  server.registerTool(
    "get_approval",
    { title: "Check an approval request", description: "The current status and decision of a request you made with request_approval. Pending means: not decided yet, do other work and check back.", inputSchema: { id: z.string() } },
    ({ id }) => tool(async () => fromRequest(await hitl.get(id))),
  );

  server.registerTool(
    "wait_for_approval",
    {
      title: "Wait for a decision",
      description: `Waits up to wait_seconds (at most ${MAX_WAIT_SECONDS}, the default) for people to decide a request, then returns its status. Still pending: do other work and call again later.`,
      inputSchema: { id: z.string(), wait_seconds: waitSeconds.optional() },
    },
    ({ id, wait_seconds }) => tool(() => settle(hitl, id, wait_seconds ?? MAX_WAIT_SECONDS)),
  );

  server.registerTool(
    "cancel_approval",
    { title: "Withdraw an approval request", description: "Withdraw a pending request you no longer need (the plan changed, or the action was dropped).", inputSchema: { id: z.string(), reason: z.string().optional() } },
    ({ id, reason }) => tool(async () => fromRequest(await hitl.cancel(id, reason))),
  );

  server.registerTool(
    "list_my_requests",
    {
      title: "List your approval requests",
      description: "Your approval requests, pending first by priority then age; filter by status or repository. Use it to find requests to check back on.",
      inputSchema: { status: z.enum(["pending", "approved", "rejected", "expired", "cancelled"]).optional(), repo: z.string().optional(), limit: z.number().int().min(1).max(500).optional() },
    },
    ({ status, repo, limit }) =>
      tool(async () => ({ requests: (await hitl.list({ status, repo, limit })).map((r) => ({ id: r.id, status: r.status, repo: r.repo, task_description: r.task_description, surface_url: r.surface_url, created_at: r.created_at })) })),
  );

  return server;
}
