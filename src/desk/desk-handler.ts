import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "../api/http.js";
import { actionKind } from "../core/decide.js";
import { offeredActions } from "../core/render/request-markdown.js";
import type { ApprovalRequest } from "../core/types.js";
import { HitlError } from "../engine/errors.js";
import type { GitHubGateway, Logger } from "../engine/ports.js";
import { unsealRequest } from "../sensitive/seal-request.js";
import type { SealingKeys } from "../sensitive/sealing.js";
import type { Store } from "../store/store.js";
import type { DecideFromChannel } from "../channels/decide-port.js";
import { typeFields } from "../channels/links/link-handler.js";
import { sameSecret } from "../channels/links/link-token.js";
import { DESK_CSS, DESK_JS } from "./desk-assets.js";
import { readWatch, streamChanges } from "./desk-events.js";
import { batchPage, offPage, outcomePage, problemPage, problemText, queuePage, recentPage, renderDeskDocument, requestPage, signedOutPage, signInPage, type Chrome, type DeskPage } from "./desk-pages.js";
import { createDeskService, type BatchItem } from "./desk-service.js";
import { authorizeUrl, loginFromCode, type OAuthSettings } from "./github-oauth.js";
import { createDeskAccess, type DeskAccess } from "./may-decide.js";
import { readFilter } from "./queue.js";
import { checkCsrf, cookieNames, cookieValue, csrfToken, newSession, openSession, openState, safeNext, sealSession, sealState, setCookie, SESSION_LIFETIME_MS, STATE_LIFETIME_MS, type Session } from "./session.js";

/** Where the desk lives. */
export const DESK_PATH = "/desk";
/** The store setting the session key is kept under (generated once; every replica reads the same). */
export const SESSION_KEY_SETTING = "desk_session_key";
/** The most requests one batch decides. */
export const MAX_BATCH = 200;

export interface DeskSettings {
  oauth: OAuthSettings;
  /** `HITL_PUBLIC_URL`: the callback is `<it>/desk/callback`; `https` makes the cookies `Secure` and `__Host-`. */
  publicUrl: string;
}

export interface DeskHandlerDeps {
  settings: DeskSettings;
  store: Pick<Store, "get" | "list" | "setting" | "createSetting">;
  github: Pick<GitHubGateway, "mayDecide">;
  decide: DecideFromChannel;
  /** See DeskServiceDeps.holdEdits. */
  holdEdits?: <T>(decide: () => Promise<T>) => Promise<T>;
  /** The engine's in-process emitter of requests that reached a final state. */
  decided: EventEmitter;
  agentAccounts: string[];
  clock: () => Date;
  newId: (prefix: string) => string;
  log: Logger;
  maxBodyBytes: number;
  closing: AbortSignal;
  sealingKeys?: SealingKeys | null;
  /** Tests: the HTTP client that talks to GitHub's OAuth endpoints. */
  fetcher?: typeof fetch;
  access?: DeskAccess;
  recheckMs?: number;
}

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // Not `no-referrer`: browsers then send `Origin: null` with the desk's own forms. Nothing leaves for another site.
  "referrer-policy": "same-origin",
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

/**
 * A session signed out, as a stored setting: kept on disk by the embedded store too (its cached
 * values live in memory), so a copied cookie stays dead after a restart. One short entry per sign-out.
 */
const signedOutKey = (sid: string) => `desk_signed_out:${sid}`;
const SIGNED_OUT_MARGIN_MS = 3_600_000;

const inDesk = (path: string) => path === DESK_PATH || path.startsWith(`${DESK_PATH}/`);

/** Without GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and HITL_PUBLIC_URL: every desk path says what to set. */
export function createDeskOffHandler() {
  return async function deskOffHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!inDesk(new URL(req.url ?? "/", "http://localhost").pathname)) return false;
    const page = offPage();
    res.writeHead(page.status, HEADERS).end(renderDeskDocument(page, { base: DESK_PATH, login: null, csrf: null }));
    return true;
  };
}

export function createDeskHandler(deps: DeskHandlerDeps) {
  const publicUrl = new URL(deps.settings.publicUrl);
  const origin = publicUrl.origin;
  const base = `${publicUrl.pathname.replace(/\/+$/, "")}${DESK_PATH}`;
  const redirectUri = `${deps.settings.publicUrl.replace(/\/+$/, "")}${DESK_PATH}/callback`;
  const names = cookieNames(deps.settings.publicUrl);
  const access = deps.access ?? createDeskAccess({ github: deps.github, agentAccounts: deps.agentAccounts, clock: deps.clock });
  const service = createDeskService({ store: deps.store, github: deps.github, access, decide: deps.decide, ...(deps.holdEdits ? { holdEdits: deps.holdEdits } : {}), clock: deps.clock, newId: deps.newId, log: deps.log });

  let key: Promise<Buffer> | null = null;
  const sessionKey = () =>
    (key ??= deps.store
      .createSetting(SESSION_KEY_SETTING, randomBytes(32).toString("base64url"))
      .then((stored) => Buffer.from(stored, "base64url"))
      .catch((error: unknown) => {
        key = null;
        throw error;
      }));

  function send(res: ServerResponse, page: DeskPage, chrome: Omit<Chrome, "base">, headers: Record<string, string | string[]> = {}): void {
    res.writeHead(page.status, { ...HEADERS, ...headers });
    res.end(renderDeskDocument(page, { base, ...chrome }));
  }

  const redirect = (res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(303, { location, "cache-control": "no-store", ...headers }).end();
  };

  /** A POST from a page of this desk: a browser's own word on where it came from, before the CSRF token. */
  function sameOrigin(req: IncomingMessage): boolean {
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") return false;
    const from = req.headers.origin;
    return from === undefined || from === origin;
  }

  async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
    return new URLSearchParams((await readBody(req, deps.maxBodyBytes)).toString("utf8"));
  }

  const revealed = (request: ApprovalRequest) => unsealRequest(deps.sealingKeys ?? null, request);

  async function showRequest(res: ServerResponse, session: Session, csrf: string, id: string, extra: { problem?: string; given?: { justification?: string; reasonCode?: string; fields?: Record<string, string> } } = {}): Promise<void> {
    const found = await service.requestFor(session.login, id);
    if (!found) return send(res, problemPage(404, "Request not found", "It does not exist, or it is not yours to see.", base), { login: session.login, csrf });
    // Sensitive values are opened only for a person who may decide the request, on this page alone.
    const request = found.mayDecide ? revealed(found.request) : found.request;
    const history = await service.history(found.request);
    send(res, requestPage({ base, csrf, request, mayDecide: found.mayDecide, history, now: deps.clock(), ...extra }), { login: session.login, csrf });
  }

  async function decideOne(req: IncomingMessage, res: ServerResponse, session: Session, csrf: string, id: string, form: URLSearchParams): Promise<void> {
    const found = await service.requestFor(session.login, id);
    if (!found || found.request.status !== "pending") {
      if (found) return send(res, outcomePage({ type: "already_decided", request: found.request }, session.login, "", base), { login: session.login, csrf });
      return send(res, problemPage(404, "Request not found", "It does not exist, or it is not yours to decide. Nothing was decided.", base), { login: session.login, csrf });
    }
    const request = found.request;
    const action = form.get("action") ?? "";
    const given = {
      justification: (form.get("justification") ?? "").trim().slice(0, 2_000),
      reasonCode: form.get("reason_code") ?? "",
      fields: Object.fromEntries([...form.entries()].filter(([name, value]) => name.startsWith("field:") && value.trim() !== "").map(([name, value]) => [name.slice(6), value.trim()])),
    };
    const kind = actionKind({ availableActions: offeredActions(request) }, action);
    if (kind === null) return send(res, outcomePage({ type: "unknown_action", request }, session.login, action, base), { login: session.login, csrf });
    let editedFields: Record<string, unknown> | undefined;
    if (Object.keys(given.fields).length > 0) {
      const typed = typeFields(given.fields, request.editableFields ?? {});
      if ("problems" in typed) return showRequest(res, session, csrf, id, { problem: `${typed.problems.join("; ")}.`, given });
      editedFields = typed.fields;
    }
    const outcome = await deps.decide({
      requestId: request.id,
      login: session.login,
      action,
      via: "desk",
      justification: given.justification === "" ? null : given.justification,
      ...(kind === "reject" && given.reasonCode ? { reasonCode: given.reasonCode } : {}),
      ...(editedFields ? { editedFields } : {}),
      // What the page showed: a request that changed since is `stale`, and a newer head `old_head`.
      contextHash: form.get("context_hash") ?? "",
      ...(form.get("head_sha") ? { headSha: form.get("head_sha")! } : {}),
    });
    deps.log.info({ requestId: request.id, login: session.login, action, outcome: outcome.type }, "desk decision");
    if (outcome.type === "needs_input") return showRequest(res, session, csrf, id, { problem: problemText(outcome), given });
    send(res, outcomePage(outcome, session.login, action, base), { login: session.login, csrf });
  }

  async function decideBatch(req: IncomingMessage, res: ServerResponse, session: Session, csrf: string, form: URLSearchParams, query: URLSearchParams): Promise<void> {
    const kind = form.get("action");
    if (kind !== "approve" && kind !== "reject") return send(res, problemPage(400, "Choose approve or reject", "Nothing was decided.", base), { login: session.login, csrf });
    // `id:contextHash:headSha`, as the row showed the request.
    const read = (values: string[]): BatchItem[] =>
      values.flatMap((value) => {
        const match = /^([A-Za-z0-9_-]{1,100}):([A-Za-z0-9_.-]{0,200})(?::([0-9a-f]{40,64}))?$/.exec(value);
        return match ? [{ id: match[1]!, ...(match[2] ? { contextHash: match[2] } : {}), ...(match[3] ? { headSha: match[3] } : {}) }] : [];
      });
    let items: BatchItem[];
    if (form.get("all") === "1") {
      // Those still matching among the ones the page showed: a request that came since was never seen.
      const shown = new Map(read(form.getAll("shown")).map((item) => [item.id, item]));
      const queue = await service.queue(session.login, readFilter(query));
      items = queue.rows.flatMap((row) => shown.get(row.request.id) ?? []);
    } else {
      items = read(form.getAll("item"));
    }
    items = [...new Map(items.map((item) => [item.id, item])).values()];
    if (items.length === 0) return send(res, problemPage(400, "Nothing selected", "Select at least one request, or all matching the filter. Nothing was decided.", base), { login: session.login, csrf });
    if (items.length > MAX_BATCH) return send(res, problemPage(400, "Too many at once", `One batch decides at most ${MAX_BATCH} requests. Narrow the filter. Nothing was decided.`, base), { login: session.login, csrf });
    const justification = (form.get("justification") ?? "").trim().slice(0, 2_000);
    const { batchId, results } = await service.batch(session.login, items, kind, justification);
    deps.log.info({ batchId, login: session.login, kind, requests: results.length, decided: results.filter((r) => r.result === "outcome" && r.outcome.type === "decided").length }, "desk batch");
    send(res, batchPage({ base, batchId, results, kind }), { login: session.login, csrf });
  }

  async function signIn(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const key = await sessionKey();
    const state = randomBytes(24).toString("base64url");
    const next = safeNext(url.searchParams.get("next"));
    const cookie = setCookie(names, names.state, sealState(key, { state, next, expiresAt: deps.clock().getTime() + STATE_LIFETIME_MS }), STATE_LIFETIME_MS / 1000);
    res.writeHead(302, { location: authorizeUrl(deps.settings.oauth, redirectUri, state), "cache-control": "no-store", "set-cookie": cookie }).end();
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const key = await sessionKey();
    const clearState = setCookie(names, names.state, "", 0);
    const fail = (problem: string) => send(res, signInPage(base, "/desk", problem), { login: null, csrf: null }, { "set-cookie": clearState });
    const pre = openState(key, cookieValue(req, names.state), deps.clock());
    if (!pre) return fail("The sign-in took too long, or cookies are off. Try again.");
    if (!sameSecret(url.searchParams.get("state") ?? "", pre.state)) return fail("The sign-in could not be checked: it did not start on this page. Try again.");
    if (url.searchParams.get("error")) return fail("GitHub did not let you sign in (it was refused or cancelled). Try again.");
    const code = url.searchParams.get("code");
    if (!code) return fail("GitHub sent no sign-in code. Try again.");
    let result;
    try {
      result = await loginFromCode(deps.settings.oauth, code, redirectUri, deps.fetcher);
    } catch (error) {
      deps.log.warn({ err: error }, "desk sign-in: GitHub could not be reached");
      return fail("GitHub could not be reached. Try again shortly.");
    }
    if (!result.ok) {
      deps.log.warn({ error: result.error }, "desk sign-in refused by GitHub");
      return fail(result.error === "bot_account" ? "Bot accounts do not decide requests." : "GitHub did not confirm who you are. Try again.");
    }
    const session = newSession(result.login, deps.clock());
    deps.log.info({ login: result.login }, "desk sign-in");
    redirect(res, `${publicUrl.pathname.replace(/\/+$/, "")}${pre.next}`, { "set-cookie": [clearState, setCookie(names, names.session, sealSession(key, session), SESSION_LIFETIME_MS / 1000)] });
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice(DESK_PATH.length) || "/";
    const method = req.method ?? "GET";
    if (method === "GET" && path === "/assets/desk.css") {
      res.writeHead(200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff" }).end(DESK_CSS);
      return;
    }
    if (method === "GET" && path === "/assets/desk.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff" }).end(DESK_JS);
      return;
    }
    if (method === "GET" && path === "/login") return signIn(req, res, url);
    if (method === "GET" && path === "/callback") return callback(req, res, url);

    const key = await sessionKey();
    const opened = openSession(key, cookieValue(req, names.session), deps.clock());
    // Signing out ends the session on every replica, not only in this browser.
    const session = opened && (await deps.store.setting(signedOutKey(opened.sid))) === null ? opened : null;
    if (method === "GET" || method === "HEAD") {
      if (!session) return send(res, signInPage(base, safeNext(`${DESK_PATH}${path === "/" ? "" : path}${url.search}`)), { login: null, csrf: null });
      const csrf = csrfToken(key, session);
      const chrome = { login: session.login, csrf };
      if (path === "/") {
        const filter = readFilter(url.searchParams);
        return send(res, queuePage({ base, csrf, queue: await service.queue(session.login, filter), filter, now: deps.clock() }), { ...chrome, current: "queue" });
      }
      if (path === "/recent") return send(res, recentPage({ base, requests: await service.recent(session.login) }), { ...chrome, current: "recent" });
      if (path.startsWith("/r/")) {
        const id = requestIdIn(path);
        if (id === null) return send(res, problemPage(404, "Request not found", "It does not exist, or it is not yours to see.", base), chrome);
        return showRequest(res, session, csrf, id);
      }
      if (path === "/events") {
        // Only requests the person may decide now are watched: nothing is told of any other.
        const watched = [];
        for (const w of readWatch(url.searchParams.get("watch"))) {
          const request = await deps.store.get(w.id);
          if (request && (await access.mayDecide(request, session.login))) watched.push(w);
        }
        return streamChanges(res, { store: deps.store, decided: deps.decided, closing: deps.closing, recheckMs: deps.recheckMs }, watched);
      }
      return send(res, problemPage(404, "Not found", "The desk has no such page.", base), chrome);
    }
    if (method !== "POST") {
      res.writeHead(405, { allow: "GET, POST", "content-type": "text/plain; charset=utf-8" }).end("Only GET and POST.\n");
      return;
    }
    const form = await readForm(req);
    if (!session) return send(res, problemPage(403, "Your session has ended", "Sign in again. Nothing was decided.", base), { login: null, csrf: null });
    const csrf = csrfToken(key, session);
    if (!sameOrigin(req) || !checkCsrf(key, session, form.get("csrf"))) {
      deps.log.warn({ login: session.login, path }, "desk form refused: CSRF token or origin wrong");
      return send(res, problemPage(403, "This form could not be checked", "It did not come from a page of this desk. Nothing was decided. Open the page again and use its form.", base), { login: session.login, csrf });
    }
    if (path === "/logout") {
      // Needed only while the cookie could still open: until the session's end, plus an hour for clock skew.
      const ttlMs = session.expiresAt - deps.clock().getTime() + SIGNED_OUT_MARGIN_MS;
      await deps.store.createSetting(signedOutKey(session.sid), new Date(session.expiresAt).toISOString(), { ttlMs });
      deps.log.info({ login: session.login }, "desk sign-out");
      return send(res, signedOutPage(base), { login: null, csrf: null }, { "set-cookie": setCookie(names, names.session, "", 0) });
    }
    if (path === "/batch") return decideBatch(req, res, session, csrf, form, url.searchParams);
    const id = path.startsWith("/r/") ? requestIdIn(path) : null;
    if (id !== null) return decideOne(req, res, session, csrf, id, form);
    send(res, problemPage(404, "Not found", "The desk has no such page. Nothing was decided.", base), { login: session.login, csrf });
  }

  return async function deskHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!inDesk(url.pathname)) return false;
    // The sign-in code and state are credentials: the access log gets the path without them.
    if (url.pathname === `${DESK_PATH}/callback`) req.url = `${DESK_PATH}/callback?[redacted]`;
    try {
      await route(req, res, url);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else if (error instanceof HitlError && error.status === 413) res.writeHead(413, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end("The form is too large. Nothing was decided.\n");
      else {
        deps.log.error({ err: error }, "desk page failed");
        res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).end("Something went wrong on our side; nothing was decided. Try again shortly.\n");
      }
    }
    return true;
  };
}

/** The request id of a `/r/<id>` path; null for anything an id never is (ids need no decoding). */
function requestIdIn(path: string): string | null {
  const id = path.slice("/r/".length);
  return /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : null;
}
