import type { IncomingMessage, ServerResponse } from "node:http";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import type { ApprovalRequest } from "../../core/types.js";
import { HitlError } from "../../engine/errors.js";
import type { Logger } from "../../engine/ports.js";
import type { Store } from "../../store/store.js";
import { sendError, sendJson } from "../../api/http.js";
import type { DecideFromChannel } from "../decide-port.js";
import { readReply, replyBinding, sameSecret } from "../links/link-token.js";
import { readBody } from "../../api/http.js";
import type { Person } from "../../config/schema.js";
import { readReplyCommand } from "./reply-command.js";

export const INBOUND_EMAIL_PATH = "/api/v1/inbound/email";

export interface InboundEmailDeps {
  /** `HITL_INBOUND_EMAIL_SECRET`: the provider sends it as `Authorization: Bearer …` or `X-Hitl-Inbound-Secret`. */
  secret: string;
  /** The domain of the reply addresses hitl hands out. */
  replyDomain: string;
  key: Buffer;
  store: Pick<Store, "get">;
  decide: DecideFromChannel;
  /** The person `people:` maps `login` to for the request's repository, or null. */
  contactOf: (request: ApprovalRequest, login: string) => Promise<Person | null>;
  log: Logger;
  clock: () => Date;
  maxBodyBytes: number;
}

const REPLY_ADDRESS = /^reply\+([^@\s]+)@([^@\s]+)$/i;

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return (Array.isArray(field) ? field : field ? [field] : []).flatMap((group) => group.value.flatMap((entry) => [entry.address ?? "", ...(entry.group ?? []).map((member) => member.address ?? "")]));
}

/** The reply token, from the recipient headers only (never From): To and Cc as written, then the envelope's. */
function replyToken(mail: ParsedMail, domain: string): string | null {
  const header = (name: string) => {
    const value = mail.headers.get(name);
    if (value === undefined) return [];
    if (typeof value === "string") return value.split(",").map((part) => (/<([^<>]+)>/.exec(part)?.[1] ?? part).trim());
    return addresses(value as AddressObject);
  };
  const candidates = [...addresses(mail.to), ...addresses(mail.cc), ...header("delivered-to"), ...header("x-original-to")];
  for (const address of candidates) {
    const match = REPLY_ADDRESS.exec(address);
    if (match && match[2]!.toLowerCase() === domain) return match[1]!;
  }
  return null;
}

/**
 * `POST /api/v1/inbound/email`: a raw RFC 822 reply from an inbound-mail provider. The reply
 * address's signed token says which request and whose decision; From must be that person's
 * address in `people:` (and alone never authenticates); the first line says what they decided.
 */
export function createInboundEmailHandler(deps: InboundEmailDeps) {
  const domain = deps.replyDomain.toLowerCase();

  function authorized(req: IncomingMessage): boolean {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const header = req.headers["x-hitl-inbound-secret"];
    const given = bearer ?? (Array.isArray(header) ? header[0] : header);
    return given !== undefined && sameSecret(given, deps.secret);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return sendError(res, 405, "method_not_allowed", `${req.method} is not allowed on ${INBOUND_EMAIL_PATH}.`);
    }
    if (!authorized(req)) {
      res.setHeader("www-authenticate", 'Bearer realm="hitl inbound email"');
      return sendError(res, 401, "unauthorized", "The inbound email secret is required: Authorization: Bearer <HITL_INBOUND_EMAIL_SECRET> or X-Hitl-Inbound-Secret.");
    }
    const raw = await readBody(req, deps.maxBodyBytes);
    let mail: ParsedMail;
    try {
      mail = await simpleParser(raw, { skipImageLinks: true, skipHtmlToText: false, skipTextLinks: true });
    } catch {
      return sendError(res, 400, "invalid_message", "The body is not an RFC 822 message.");
    }
    const token = replyToken(mail, domain);
    if (!token) return sendError(res, 400, "no_reply_address", `No recipient is a reply address (reply+<token>@${domain}): To, Cc, Delivered-To and X-Original-To were read.`);
    const read = readReply(deps.key, token, deps.clock());
    if (!read.ok) {
      if (read.reason === "expired") return sendError(res, 410, "reply_token_expired", "The reply address has expired (at the request's deadline, or 24 hours after the email); nothing was decided.");
      deps.log.warn({ reason: read.reason }, "inbound email refused: reply token not valid");
      return sendError(res, 400, "invalid_reply_token", "The reply address's token is not valid; nothing was decided.");
    }
    const { requestId, login } = read.claims;
    const request = await deps.store.get(requestId);
    if (!request) return sendError(res, 404, "not_found", `No request ${requestId}.`);
    const from = mail.from?.value[0]?.address?.toLowerCase() ?? "";
    const contact = await deps.contactOf(request, login);
    if (!contact?.email) return sendError(res, 403, "unknown_recipient", `${login} has no email address in people: for ${request.repo}; nothing was decided.`);
    if ((mail.from?.value.length ?? 0) !== 1 || from !== contact.email.toLowerCase()) {
      deps.log.warn({ requestId, login }, "inbound email refused: From is not the address the reply token was sent to");
      return sendError(res, 403, "from_mismatch", `The reply must come from the address the email was sent to (${login}'s); nothing was decided.`);
    }
    if (replyBinding(request) !== read.claims.binding && request.status === "pending") {
      return sendError(res, 409, "stale", `Request ${requestId} changed since the email was sent (new commits); nothing was decided.`);
    }
    const command = readReplyCommand(mail.text ?? "");
    if (!command.ok) return sendError(res, 422, "no_command", `Nothing was decided: ${command.problem}.`);
    const outcome = await deps.decide({ requestId, login, action: command.action, justification: command.justification, contextHash: request.contextHash, ...(request.surfaceRef?.headSha ? { headSha: request.surfaceRef.headSha } : {}), via: "email" });
    deps.log.info({ requestId, login, action: command.action, outcome: outcome.type }, "email reply applied");
    if (outcome.type === "not_found") return sendError(res, 404, "not_found", `No request ${requestId}.`);
    const shown = { outcome: outcome.type, request_id: requestId, status: outcome.request.status, login, action: command.action };
    switch (outcome.type) {
      case "decided":
      case "voted":
        return sendJson(res, 200, shown);
      case "already_decided":
        return sendJson(res, 409, { ...shown, error: { code: "already_decided", message: `Request ${requestId} is already ${outcome.request.status}; nothing more was decided.` } });
      case "refused":
        return sendJson(res, 403, { ...shown, error: { code: "not_allowed", message: `${login} may not decide request ${requestId} (${outcome.reason.replace(/_/g, " ")}); nothing was decided.` } });
      case "vote_refused":
        return sendJson(res, 403, { ...shown, error: { code: "vote_refused", message: `${login} cannot vote on request ${requestId} now (${outcome.reason.replace(/_/g, " ")}).` } });
      case "unknown_action":
        return sendJson(res, 422, { ...shown, error: { code: "unknown_action", message: `Request ${requestId} offers no action ${command.action}; nothing was decided.` } });
      case "past_deadline":
        return sendJson(res, 410, { ...shown, error: { code: "past_deadline", message: `Request ${requestId}'s deadline has passed; its fallback applies.` } });
      case "stale":
        return sendJson(res, 409, { ...shown, error: { code: "stale", message: `Request ${requestId} changed since the email was sent; nothing was decided.` } });
      case "old_head":
        return sendJson(res, 409, { ...shown, error: { code: "stale", message: `Request ${requestId}'s pull request has new commits; nothing was decided.` } });
      case "needs_input":
        return sendJson(res, 422, { ...shown, error: { code: "needs_input", message: outcome.problem.type === "edits" ? `The changes were not applied, and neither was the decision: ${outcome.problem.problems.join("; ")}.` : outcome.problem.missing === "reason_code" ? `Rejecting needs a reason code first: ${outcome.problem.policy.reasons.join(", ")}.` : `A justification of at least ${outcome.problem.policy.minLength} characters is needed.` } });
    }
  }

  return async function inboundEmailHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== INBOUND_EMAIL_PATH) return false;
    try {
      await handle(req, res);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else if (error instanceof HitlError) {
        if (error.status === 413) res.setHeader("connection", "close");
        sendError(res, error.status, error.code, error.message);
      } else {
        deps.log.error({ err: error }, "inbound email failed");
        sendError(res, 500, "internal_error", "Something went wrong on our side; nothing was decided. Retry shortly.");
      }
    }
    return true;
  };
}
