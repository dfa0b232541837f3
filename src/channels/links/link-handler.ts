import { unsealRequest } from "../../sensitive/seal-request.js";
import type { SealingKeys } from "../../sensitive/sealing.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { actionKind } from "../../core/decide.js";
import { checkEdits } from "../../core/edited-fields.js";
import { checkFeedback } from "../../core/feedback.js";
import { offeredActions } from "../../core/render/request-markdown.js";
import type { ApprovalRequest, EditableField } from "../../core/types.js";
import { HitlError } from "../../engine/errors.js";
import type { Logger } from "../../engine/ports.js";
import type { Store } from "../../store/store.js";
import type { DecideFromChannel } from "../decide-port.js";
import { readBody } from "../../api/http.js";
import { describeOutcome, inert } from "../request-facts.js";
import { confirmPage, donePage, refusalPage, renderDocument, type ConfirmInput, type Page } from "./link-pages.js";
import { csrfTokenFor, linkBinding, linkUseKey, readLink, sameSecret, type LinkClaims } from "./link-token.js";

/** Where one-click links live: `<HITL_PUBLIC_URL>/l/<token>`. */
export const LINK_PATH = "/l/";

const LINK_USE_MARGIN_MS = 3_600_000;

export interface LinkHandlerDeps {
  store: Pick<Store, "get" | "takeUse" | "uses">;
  decide: DecideFromChannel;
  key: Buffer;
  /** `HITL_PUBLIC_URL`: its path prefixes the cookie's, and `https` makes the cookie `Secure`. */
  publicUrl: string;
  clock: () => Date;
  log: Logger;
  maxBodyBytes: number;
  /** `HITL_ENCRYPTION_KEYS`: the page is where an approver sees sensitive values. */
  sealingKeys?: SealingKeys | null;
}

const CSRF_COOKIE = "hitl_csrf";

const SECURITY_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // The token is in the URL: never send it on as a referrer.
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

/** The link pages: a GET shows the confirmation page and never decides; only its form's POST does. */
export function createLinkHandler(deps: LinkHandlerDeps) {
  const publicUrl = new URL(deps.publicUrl);
  const cookiePath = (token: string) => `${publicUrl.pathname.replace(/\/$/, "")}${LINK_PATH}${token}`;
  const secure = publicUrl.protocol === "https:";

  /** Only a notified approver reaches this page, so it shows sensitive values, opened for this page alone. */
  const revealed = (request: ApprovalRequest): ApprovalRequest => unsealRequest(deps.sealingKeys ?? null, request);

  function send(res: ServerResponse, page: Page, headers: Record<string, string> = {}): void {
    res.writeHead(page.status, { ...SECURITY_HEADERS, ...headers });
    res.end(renderDocument(page));
  }

  /** The request a link may still act on, or the page saying why not. */
  async function usable(token: string, now: Date): Promise<{ claims: LinkClaims; request: ApprovalRequest } | Page> {
    const read = readLink(deps.key, token, now);
    if (!read.ok) return refusalPage(read.reason === "expired" ? "expired" : "invalid");
    const { claims } = read;
    const request = await deps.store.get(claims.requestId);
    if (!request) return refusalPage("gone");
    if (request.status !== "pending") return refusalPage("decided", describeOutcome(request));
    if (linkBinding(request) !== claims.binding) return refusalPage("stale");
    if (claims.action !== null && !offeredActions(request).some((action) => action.id === claims.action)) return refusalPage("unknown_action");
    return { claims, request };
  }

  async function show(res: ServerResponse, token: string): Promise<void> {
    const now = deps.clock();
    const found = await usable(token, now);
    if ("status" in found) return send(res, found);
    const { claims, request } = found;
    if ((await deps.store.uses(linkUseKey(claims))) > 0) return send(res, refusalPage("used"));
    const csrf = csrfTokenFor(deps.key, token);
    const maxAge = Math.max(0, Math.floor((claims.expiresAt - now.getTime()) / 1000));
    const cookie = `${CSRF_COOKIE}=${csrf}; Path=${cookiePath(token)}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
    send(res, confirmPage({ request: revealed(request), action: claims.action, login: claims.login, csrf, expiresAt: claims.expiresAt, now }), { "set-cookie": cookie });
  }

  async function confirm(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const form = new URLSearchParams((await readBody(req, deps.maxBodyBytes)).toString("utf8"));
    const now = deps.clock();
    const found = await usable(token, now);
    if ("status" in found) return send(res, found);
    const { claims, request } = found;
    // Double submit: the form's token and the cookie the page set must both be this link's.
    const expected = csrfTokenFor(deps.key, token);
    if (!sameSecret(form.get("csrf") ?? "", expected) || !sameSecret(cookieValue(req, CSRF_COOKIE) ?? "", expected)) {
      deps.log.warn({ requestId: claims.requestId, login: claims.login }, "link confirmation refused: CSRF token missing or wrong");
      return send(res, refusalPage("csrf"));
    }
    const action = claims.action ?? form.get("action") ?? "";
    if (form.get("action") !== null && form.get("action") !== action) return send(res, refusalPage("unknown_action"));
    const given = {
      justification: (form.get("justification") ?? "").trim().slice(0, 2_000),
      reasonCode: form.get("reason_code") ?? "",
      fields: Object.fromEntries([...form.entries()].filter(([name, value]) => name.startsWith("field:") && value.trim() !== "").map(([name, value]) => [name.slice(6), value.trim()])),
    };
    const again = (problem: string): Page => ({ ...confirmPage({ request: revealed(request), action: claims.action, login: claims.login, csrf: expected, expiresAt: claims.expiresAt, now, problem, given } satisfies ConfirmInput), status: 422 });
    // What can be checked without the engine is checked before the link's one use is taken,
    // so a typo does not spend it.
    if (action === "") return send(res, again("Pick one of the actions."));
    const kind = actionKind({ availableActions: offeredActions(request) }, action);
    if (kind === null) return send(res, refusalPage("unknown_action"));
    let editedFields: Record<string, unknown> | undefined;
    if (Object.keys(given.fields).length > 0) {
      if (kind === "reject") return send(res, again("Changes apply only to an approval."));
      const typed = typeFields(given.fields, request.editableFields ?? {});
      const checked = "problems" in typed ? typed : checkEdits(typed.fields, request.editableFields ?? {}, request.decisionData);
      if ("problems" in checked && checked.problems.length > 0) return send(res, again(`${checked.problems.map((p) => inert(p, 300)).join("; ")}.`));
      if ("edited" in checked && Object.keys(checked.edited).length > 0) editedFields = checked.edited;
    }
    const composed = [kind === "reject" ? given.reasonCode : "", given.justification].filter(Boolean).join(" ");
    const feedback = checkFeedback(request.feedback, kind, composed === "" ? null : composed);
    if (!feedback.ok) {
      return send(res, again(feedback.missing === "reason_code" ? "Rejecting needs a reason code." : `A justification of at least ${feedback.policy.minLength} characters is needed.`));
    }

    // The use is needed only while the link could still open: until it expires, plus an hour for clock skew.
    const ttlMs = claims.expiresAt - now.getTime() + LINK_USE_MARGIN_MS;
    if ((await deps.store.takeUse(linkUseKey(claims), 1, { ttlMs })) === null) return send(res, refusalPage("used"));
    const outcome = await deps.decide({
      requestId: request.id,
      login: claims.login,
      action,
      justification: feedback.justification,
      ...(feedback.reasonCode ? { reasonCode: feedback.reasonCode } : {}),
      ...(editedFields ? { editedFields } : {}),
      // What this page showed: a request that changed in between is refused by the engine too.
      contextHash: request.contextHash,
      ...(request.surfaceRef?.headSha ? { headSha: request.surfaceRef.headSha } : {}),
      via: claims.via,
    });
    deps.log.info({ requestId: request.id, login: claims.login, action, outcome: outcome.type }, "one-click link confirmed");
    switch (outcome.type) {
      case "decided":
        return send(res, donePage(outcome.request, action, claims.login, false));
      case "voted":
        return send(res, donePage(outcome.request, action, claims.login, true));
      case "already_decided":
        return send(res, refusalPage("decided", describeOutcome(outcome.request)));
      case "refused":
        return send(res, outcome.reason === "requester" || outcome.reason === "bot" ? refusalPage("requester") : refusalPage("not_allowed", allowedSentence(claims.login, outcome.allowed)));
      case "vote_refused":
        return send(res, refusalPage("not_allowed", `${claims.login} cannot vote on it now (${outcome.reason.replace(/_/g, " ")}).`));
      case "past_deadline":
        return send(res, refusalPage("past_deadline"));
      case "old_head":
      case "stale":
        return send(res, refusalPage("stale"));
      case "not_found":
        return send(res, refusalPage("gone"));
      case "unknown_action":
        return send(res, refusalPage("unknown_action"));
      case "needs_input":
        return send(res, refusalPage("not_allowed", "What came with the decision was not enough; decide on GitHub."));
    }
  }

  return async function linkHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (!path.startsWith(LINK_PATH)) return false;
    const token = path.slice(LINK_PATH.length);
    // The token is a credential: the HTTP access log (written when the answer is done) gets the path without it.
    req.url = `${LINK_PATH}[redacted]`;
    try {
      if (req.method === "GET" || req.method === "HEAD") await show(res, token);
      else if (req.method === "POST") await confirm(req, res, token);
      else {
        res.writeHead(405, { allow: "GET, POST", "content-type": "text/plain; charset=utf-8" }).end("Only GET and POST.\n");
      }
    } catch (error) {
      if (res.headersSent) res.destroy();
      else if (error instanceof HitlError && error.status === 413) send(res, { status: 413, title: "Too large", body: refusalPage("invalid").body }, { connection: "close" });
      else {
        deps.log.error({ err: error }, "link page failed");
        res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).end("Something went wrong on our side; nothing was decided. Try the link again shortly.\n");
      }
    }
    return true;
  };
}

/** The form's text fields typed as the request declares them (numbers and booleans from text). */
export function typeFields(values: Record<string, string>, editable: Record<string, EditableField>): { fields: Record<string, unknown> } | { problems: string[] } {
  const fields: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, text] of Object.entries(values)) {
    const spec = Object.hasOwn(editable, name) ? editable[name] : undefined;
    if (spec?.type === "number") {
      const value = Number(text);
      if (Number.isFinite(value)) fields[name] = value;
      else problems.push(`${name} must be a number`);
    } else if (spec?.type === "boolean") {
      if (text === "true" || text === "false") fields[name] = text === "true";
      else problems.push(`${name} must be true or false`);
    } else fields[name] = text;
  }
  return problems.length > 0 ? { problems } : { fields };
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return null;
}

function allowedSentence(login: string, allowed: string[]): string {
  return allowed.length > 0 ? `${login} is not among those who may: ${allowed.map((who) => inert(who, 100)).join(", ")}.` : `${login} does not have write access to the repository.`;
}
