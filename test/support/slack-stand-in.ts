import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in of Slack's Web API on 127.0.0.1 that checks what Slack checks, with Slack's own
 * error codes: the bot token (`Authorization: Bearer xoxb-…`), the channel, the Block Kit
 * structure and its documented limits (api.slack.com/reference/block-kit), `ts` for updates. It
 * answers as Slack does (HTTP 200, `{ok: false, error}`) and records every call.
 */

export interface SlackCallRecord {
  method: string;
  body: Record<string, unknown>;
  /** What the stand-in answered. */
  answer: Record<string, unknown>;
}

export interface SlackStandIn {
  /** Point `HITL_SLACK_API_URL` here. */
  apiUrl: string;
  token: string;
  calls: SlackCallRecord[];
  /** Calls of one method that Slack accepted. */
  accepted(method: string): Record<string, unknown>[];
  /** The next `count` calls of `method` answer `{ok: false, error}` (default a server error, retried). */
  failNext(method: string, count: number, error?: string): void;
  close(): Promise<void>;
}

const LIMITS = { blocks: 50, header: 150, section: 3000, fields: 10, field: 2000, button: 75, actions: 25, context: 10, value: 2000, actionId: 255, blockId: 255, title: 24, label: 2000, metadata: 3000, text: 40_000 };

type Problem = string | null;
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function textObject(value: unknown, max: number, plainOnly: boolean): Problem {
  if (!isRecord(value)) return "a text object is required";
  if (value.type !== "plain_text" && (plainOnly || value.type !== "mrkdwn")) return `text type must be ${plainOnly ? "plain_text" : "plain_text or mrkdwn"}`;
  if (typeof value.text !== "string" || value.text.length === 0) return "text must be a non-empty string";
  if (value.text.length > max) return `text must be at most ${max} characters (is ${value.text.length})`;
  return null;
}

function element(value: unknown, actionIds: Set<string>): Problem {
  if (!isRecord(value)) return "an element must be an object";
  if (typeof value.action_id === "string") {
    if (value.action_id.length > LIMITS.actionId) return "action_id too long";
    if (actionIds.has(value.action_id)) return `action_id ${value.action_id} is not unique`;
    actionIds.add(value.action_id);
  }
  switch (value.type) {
    case "button":
      if (value.style !== undefined && value.style !== "primary" && value.style !== "danger") return "button style must be primary or danger";
      if (typeof value.value === "string" && value.value.length > LIMITS.value) return "button value must be at most 2000 characters";
      return textObject(value.text, LIMITS.button, true);
    case "plain_text_input":
      return null;
    case "static_select":
      if (!Array.isArray(value.options) || value.options.length === 0 || value.options.length > 100) return "static_select needs 1 to 100 options";
      return null;
    default:
      return `unsupported element type ${String(value.type)}`;
  }
}

/** Why Slack would refuse `blocks` (`invalid_blocks`), or null. */
export function blocksProblem(blocks: unknown, surface: "message" | "modal"): Problem {
  if (!Array.isArray(blocks)) return "blocks must be an array";
  if (blocks.length > LIMITS.blocks) return `at most ${LIMITS.blocks} blocks`;
  const blockIds = new Set<string>();
  for (const [index, block] of blocks.entries()) {
    // Slack: an action_id is unique among the action_ids of its block.
    const actionIds = new Set<string>();
    const at = `blocks[${index}]`;
    if (!isRecord(block)) return `${at} must be an object`;
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== "string" || block.block_id.length > LIMITS.blockId) return `${at}.block_id invalid`;
      if (blockIds.has(block.block_id)) return `${at}.block_id is not unique`;
      blockIds.add(block.block_id);
    }
    let problem: Problem = null;
    switch (block.type) {
      case "header":
        problem = textObject(block.text, LIMITS.header, true);
        break;
      case "section":
        if (block.text === undefined && block.fields === undefined) problem = "a section needs text or fields";
        else if (block.text !== undefined) problem = textObject(block.text, LIMITS.section, false);
        if (!problem && block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > LIMITS.fields) problem = `fields must hold 1 to ${LIMITS.fields} items`;
          else for (const field of block.fields) problem ??= textObject(field, LIMITS.field, false);
        }
        break;
      case "actions":
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > LIMITS.actions) problem = `elements must hold 1 to ${LIMITS.actions} items`;
        else for (const item of block.elements) problem ??= element(item, actionIds);
        break;
      case "context":
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > LIMITS.context) problem = `elements must hold 1 to ${LIMITS.context} items`;
        else for (const item of block.elements) problem ??= textObject(item, LIMITS.section, false);
        break;
      case "divider":
        break;
      case "input":
        if (surface !== "modal") problem = "input blocks belong in modals";
        else problem = textObject(block.label, LIMITS.label, true) ?? element(block.element, actionIds);
        break;
      default:
        problem = `unsupported block type ${String(block.type)}`;
    }
    if (problem) return `${at}: ${problem}`;
  }
  return null;
}

export async function startSlackStandIn(options: { token?: string } = {}): Promise<SlackStandIn> {
  const token = options.token ?? "xoxb-1-test-token";
  const calls: SlackCallRecord[] = [];
  const failures = new Map<string, { count: number; error: string }>();
  const messages = new Map<string, Set<string>>();
  let sequence = 100;

  const handle = (method: string, auth: string | undefined, body: Record<string, unknown>): Record<string, unknown> => {
    if (!auth) return { ok: false, error: "not_authed" };
    if (auth !== `Bearer ${token}`) return { ok: false, error: "invalid_auth" };
    const failure = failures.get(method);
    if (failure && failure.count > 0) {
      failure.count -= 1;
      return { ok: false, error: failure.error };
    }
    const channelOf = (value: unknown) => (typeof value === "string" && /^U/.test(value) ? `D${value.slice(1)}` : value);
    switch (method) {
      case "chat.postMessage":
      case "chat.update": {
        if (typeof body.channel !== "string" || !/^[CDGU][A-Z0-9]+$/.test(body.channel)) return { ok: false, error: "channel_not_found" };
        if (body.blocks === undefined && (typeof body.text !== "string" || body.text === "")) return { ok: false, error: "no_text" };
        if (typeof body.text === "string" && body.text.length > LIMITS.text) return { ok: false, error: "msg_too_long" };
        if (body.blocks !== undefined) {
          const problem = blocksProblem(body.blocks, "message");
          if (problem) return { ok: false, error: "invalid_blocks", errors: [problem] };
        }
        const channel = channelOf(body.channel) as string;
        if (method === "chat.update") {
          if (typeof body.ts !== "string" || !messages.get(channel)?.has(body.ts)) return { ok: false, error: "message_not_found" };
          return { ok: true, channel, ts: body.ts };
        }
        if (body.thread_ts !== undefined && (typeof body.thread_ts !== "string" || !messages.get(channel)?.has(body.thread_ts))) return { ok: false, error: "thread_not_found" };
        const ts = `1700000000.000${sequence++}`;
        messages.set(channel, (messages.get(channel) ?? new Set()).add(ts));
        return { ok: true, channel, ts };
      }
      case "chat.postEphemeral":
        if (typeof body.channel !== "string" || !/^[CDGU][A-Z0-9]+$/.test(body.channel)) return { ok: false, error: "channel_not_found" };
        if (typeof body.user !== "string" || !/^[UW][A-Z0-9]+$/.test(body.user)) return { ok: false, error: "user_not_found" };
        if (typeof body.text !== "string" || body.text === "") return { ok: false, error: "no_text" };
        return { ok: true, message_ts: `1700000000.000${sequence++}` };
      case "views.open": {
        if (typeof body.trigger_id !== "string" || body.trigger_id === "") return { ok: false, error: "invalid_trigger_id" };
        const view = body.view;
        if (!isRecord(view) || view.type !== "modal") return { ok: false, error: "invalid_arguments" };
        const problem =
          textObject(view.title, LIMITS.title, true) ??
          (view.submit !== undefined ? textObject(view.submit, LIMITS.title, true) : null) ??
          (typeof view.private_metadata === "string" && view.private_metadata.length > LIMITS.metadata ? "private_metadata too long" : null) ??
          blocksProblem(view.blocks, "modal");
        if (problem) return { ok: false, error: "invalid_arguments", errors: [problem] };
        return { ok: true, view: { id: `V${sequence++}` } };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const method = (req.url ?? "").replace(/^\/api\//, "");
      let body: Record<string, unknown> = {};
      let answer: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        answer = /^application\/json/.test(req.headers["content-type"] ?? "") ? handle(method, req.headers.authorization, body) : { ok: false, error: "invalid_form_data" };
      } catch {
        answer = { ok: false, error: "invalid_json" };
      }
      calls.push({ method, body, answer });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api`,
    token,
    calls,
    accepted: (method) => calls.filter((call) => call.method === method && call.answer.ok === true).map((call) => call.body),
    failNext(method, count, error = "internal_error") {
      failures.set(method, { count, error });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
