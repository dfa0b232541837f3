import { apiError, DecisionDrifted, DecisionTimeoutError, UnavailableError } from "./errors.js";
import type { ApprovalRequest, AuditEntry, ContextLayers, AuditExportQuery, BatchResult, AuditPage, AuditQuery, AuditVerification, ComplianceReport, Decision, Stats, SuggestionList, SuggestionPullRequest, Guidance, ListQuery, NewRequest, Outcome, Resolution, ValidateBody, Validation } from "./types.js";
import type { ReceiptKeySet } from "./verify-receipt.js";

/** Which requests a compliance report covers: opened in [since, until), of one repository or all. */
export interface ReportQuery {
  repo?: string;
  since?: string;
  until?: string;
}

export interface HitlOptions {
  /** The hitl server, e.g. `https://hitl.example.com`. */
  url: string;
  /** The agent's token (one of the server's HITL_AGENT_TOKENS). */
  token: string;
  /** Tries per call on network failures and 5xx answers (default 5), with the same idempotency key. */
  retries?: number;
  /** First backoff between tries (default 500 ms, doubling, at most 10 s). */
  backoffMs?: number;
  /** How long each long-poll asks the server to hold (default 50 s; the server holds at most 60). */
  pollSeconds?: number;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

export interface WaitOptions {
  /** Give up after this long (default: wait until the request is decided, or its deadline passes). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Data = Record<string, unknown>;

/** How `decision()` integrates a decision; only `resume: validated` reads these. */
export interface ResolveOptions extends WaitOptions {
  /**
   * The decision data the agent would act on now, or a function giving it when the decision comes.
   * Absent: unchanged since it asked (the approver's edits count as approved, not as drift).
   */
  current?: Data | (() => Data | Promise<Data>);
  /** Pull requests: the head commit the agent is about to act on. */
  pullRequestHead?: string;
  /** An approval that no longer holds opens a linked follow-up request (`DecisionDrifted.followUp`). */
  reAsk?: boolean;
}

/** What `hitl.ask()` returns at once: the request is being opened; wait for it, or for its decision. */
export interface Ask {
  /** The key the request is opened with: reuse it to retry the same ask safely. */
  readonly idempotencyKey: string;
  /** The request as opened (or as first opened with this key). */
  request(): Promise<ApprovalRequest>;
  /**
   * Its decision, integrated as the request's `resume` asks: long-polls until it is decided, or
   * `timeoutMs` passes (then `DecisionTimeoutError`); `validated` approvals that no longer hold
   * throw `DecisionDrifted`.
   */
  decision(options?: ResolveOptions): Promise<Resolution>;
}

/** The server holds a long-poll at most 60 s; asking for less keeps clear of proxies' idle limits. */
const POLL_SECONDS = 50;

/** The agent API over `fetch` alone, so it runs on Node, Bun, Deno and edge runtimes. */
export class Hitl {
  readonly #origin: string;
  readonly #base: string;
  readonly #token: string;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #fetch: typeof fetch;
  readonly #pollSeconds: number;

  constructor(options: HitlOptions) {
    if (!options.url) throw new TypeError("Hitl: url is required");
    if (!options.token) throw new TypeError("Hitl: token is required");
    this.#origin = options.url.replace(/\/+$/, "");
    this.#base = this.#origin + "/api/v1";
    this.#token = options.token;
    this.#retries = Math.max(1, options.retries ?? 5);
    this.#backoffMs = options.backoffMs ?? 500;
    this.#pollSeconds = Math.min(60, Math.max(1, options.pollSeconds ?? POLL_SECONDS));
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Opens a request (retried with one idempotency key, generated unless given) and hands back its handle. */
  ask(body: NewRequest, options: { idempotencyKey?: string } = {}): Ask {
    const idempotencyKey = options.idempotencyKey ?? body.idempotency_key ?? globalThis.crypto.randomUUID();
    const opened = this.create(body, idempotencyKey);
    // Not yet awaited by the caller: keep an early failure from being reported as unhandled.
    opened.catch(() => undefined);
    return {
      idempotencyKey,
      request: () => opened,
      decision: async (options = {}) => this.resolve(await this.waitForDecision((await opened).id, options), options),
    };
  }

  /** `POST /requests`. */
  async create(body: NewRequest, idempotencyKey: string = globalThis.crypto.randomUUID()): Promise<ApprovalRequest> {
    return (await this.#call("POST", "/requests", { body, headers: { "idempotency-key": idempotencyKey } })) as ApprovalRequest;
  }

  /**
   * `POST /requests/batch`: opens up to 100 requests in one call, each with its own idempotency key
   * (generated where an item has none), answered item by item: retry only the items that failed.
   */
  createMany(bodies: NewRequest[]): Promise<BatchResult> {
    const requests = bodies.map((body) => ({ ...body, idempotency_key: body.idempotency_key ?? globalThis.crypto.randomUUID() }));
    return this.#call("POST", "/requests/batch", { body: { requests } }) as Promise<BatchResult>;
  }

  get(id: string): Promise<ApprovalRequest> {
    return this.#call("GET", `/requests/${encodeURIComponent(id)}`) as Promise<ApprovalRequest>;
  }

  /** `GET /requests/:id/context`: the context layers, the `full` one as the agent sent it. */
  context(id: string): Promise<ContextLayers> {
    return this.#call("GET", `/requests/${encodeURIComponent(id)}/context`) as Promise<ContextLayers>;
  }

  async list(query: ListQuery = {}): Promise<ApprovalRequest[]> {
    const search = new URLSearchParams(Object.entries(query).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])));
    const answer = (await this.#call("GET", `/requests${search.size ? `?${search}` : ""}`)) as { requests: ApprovalRequest[] };
    return answer.requests;
  }

  cancel(id: string, reason?: string): Promise<ApprovalRequest> {
    return this.#call("POST", `/requests/${encodeURIComponent(id)}/cancel`, { body: reason === undefined ? {} : { reason } }) as Promise<ApprovalRequest>;
  }

  /** The first page of a repository's audit, oldest first (`auditEntries` walks every page). */
  async audit(repo: string, limit?: number): Promise<AuditEntry[]> {
    return (await this.auditPage({ repo, limit })).entries;
  }

  /** `GET /audit`: a page of the audit; pass its `next_cursor` as `cursor` for the next one. */
  auditPage(query: AuditQuery = {}): Promise<AuditPage> {
    return this.#call("GET", `/audit${searchOf(query)}`) as Promise<AuditPage>;
  }

  /** Every entry of the audit the token may read in the range, page after page, oldest first. */
  async *auditEntries(query: Omit<AuditQuery, "cursor"> = {}): AsyncGenerator<AuditEntry> {
    let cursor: string | undefined;
    do {
      const page = await this.auditPage({ ...query, cursor });
      yield* page.entries;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** `GET /audit/verify`: the server walks the repository's hash chain (needs a read-all token). */
  verifyAudit(repo: string): Promise<AuditVerification> {
    return this.#call("GET", `/audit/verify${searchOf({ repo })}`) as Promise<AuditVerification>;
  }

  /** `GET /audit/export`: the audit as a gzip JSON lines file, as a stream of its bytes (save it as it is). */
  async exportAudit(query: AuditExportQuery = {}, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = (await this.#call("GET", `/audit/export${searchOf(query)}`, { raw: true, signal, timeoutMs: 24 * 3_600_000 })) as Response;
    return response.body!;
  }

  /** `GET /reports/compliance`: the whole report as JSON. */
  complianceReport(query: ReportQuery = {}): Promise<ComplianceReport> {
    return this.#call("GET", `/reports/compliance?${reportSearch(query, "json")}`) as Promise<ComplianceReport>;
  }

  /** The compliance report as CSV (RFC 4180) or markdown, as the server writes it. */
  complianceReportText(format: "csv" | "md", query: ReportQuery = {}): Promise<string> {
    return this.#call("GET", `/reports/compliance?${reportSearch(query, format)}`, { text: true }) as Promise<string>;
  }

  /**
   * The server's published receipt keys (`/.well-known/jwks.json`). Keep a copy where you trust it:
   * verifying against keys fetched at the time proves only what the server says now.
   */
  async jwks(): Promise<ReceiptKeySet> {
    const response = await this.#fetch(`${this.#origin}/.well-known/jwks.json`, { headers: { accept: "application/jwk-set+json" } });
    if (!response.ok) throw new UnavailableError(response.status, "jwks_unavailable", `${this.#origin}/.well-known/jwks.json answered HTTP ${response.status}.`);
    return (await response.json()) as ReceiptKeySet;
  }

  /**
   * `GET /stats`: per request type and per approver, the median and p90 time to decision, the
   * approval, deadline and fallback rates and the share decided automatically, for the requests
   * created since `since` (default: the last 30 days). Without `read-all`, the agent's own.
   */
  stats(repo: string, since?: Date | string): Promise<Stats> {
    const search = new URLSearchParams({ repo, ...(since === undefined ? {} : { since: since instanceof Date ? since.toISOString() : since }) });
    return this.#call("GET", `/stats?${search}`) as Promise<Stats>;
  }

  /** `GET /suggestions`: delegation rules the repository's history supports, with their evidence. Needs `read-all`. */
  suggestions(repo: string): Promise<SuggestionList> {
    return this.#call("GET", `/suggestions?${new URLSearchParams({ repo })}`) as Promise<SuggestionList>;
  }

  /** `POST /suggestions/{id}/pull-request`: opens (or answers again) the pull request adding suggestion `id` to `.hitl.yml`. Needs `read-all`. */
  openSuggestionPullRequest(id: string, repo: string): Promise<SuggestionPullRequest> {
    return this.#call("POST", `/suggestions/${encodeURIComponent(id)}/pull-request`, { body: { repo } }) as Promise<SuggestionPullRequest>;
  }

  /** `POST /requests/{id}/validate`: whether the decision still holds for the agent's current context. */
  validate(id: string, body: ValidateBody = {}): Promise<Validation> {
    return this.#call("POST", `/requests/${encodeURIComponent(id)}/validate`, { body }) as Promise<Validation>;
  }

  /**
   * Integrates a decision as its `resume` asks: `immediate` as it is; `validated` re-checks an
   * approval with `validate` (the agent's `current` data) and throws `DecisionDrifted` when it no
   * longer holds; `guided` adds the person's edits, reason code and justification as `guidance`;
   * `fresh_start` adds the same as `constraints` for a new plan.
   */
  async resolve(outcome: Outcome, options: Omit<ResolveOptions, keyof WaitOptions> = {}): Promise<Resolution> {
    const said: Guidance = {
      action: outcome.decision.action,
      edited_fields: outcome.decision.edited_fields ?? {},
      reason_code: outcome.decision.reason_code ?? null,
      justification: outcome.decision.justification,
    };
    const resolution: Resolution = { ...outcome, guidance: null, constraints: null, validation: null };
    if (outcome.resume === "guided") return { ...resolution, guidance: said };
    if (outcome.resume === "fresh_start") return { ...resolution, constraints: said };
    if (outcome.resume !== "validated" || !outcome.approved) return resolution;
    const current = typeof options.current === "function" ? await options.current() : options.current;
    const validation = await this.validate(outcome.id, { decision_data: current, pull_request_head: options.pullRequestHead, re_ask: options.reAsk ?? false });
    if (!validation.valid) {
      throw new DecisionDrifted(outcome.id, validation.reasons, validation.drifted_fields, validation, (validation.follow_up as { id: string } | null) ?? null);
    }
    return { ...resolution, validation };
  }

  /** Long-polls `GET /requests/{id}/decision` past the server's cap until the request is decided. */
  async waitForDecision(id: string, options: WaitOptions = {}): Promise<Outcome> {
    const until = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const left = until - Date.now();
      const wait = Math.max(0, Math.min(this.#pollSeconds, Math.floor(left / 1000)));
      const poll = (await this.#call("GET", `/requests/${encodeURIComponent(id)}/decision?wait=${wait}`, { signal: options.signal, timeoutMs: (wait + 30) * 1000 })) as Omit<Outcome, "approved" | "status" | "decision"> & {
        status: ApprovalRequest["status"];
        decision: Decision | null;
      };
      if (poll.status !== "pending" && poll.decision) {
        const { id: polled, status, decision, workflow_id, checkpoint, resume, superseded_by } = poll;
        return { id: polled, status, approved: status === "approved", decision, workflow_id, checkpoint, resume, superseded_by };
      }
      if (Date.now() >= until || wait === 0) throw new DecisionTimeoutError(id);
    }
  }

  async #call(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; text?: boolean; raw?: boolean; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<unknown> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < this.#retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(10_000, this.#backoffMs * 2 ** (attempt - 1)), options.signal);
      const signals = [options.signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)].filter((s): s is AbortSignal => s !== undefined);
      let response: Response;
      try {
        response = await this.#fetch(this.#base + path, {
          method,
          headers: { authorization: `Bearer ${this.#token}`, accept: "application/json", ...(options.body === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.any(signals),
        });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        lastError = new UnavailableError(0, "network_error", `No answer from ${this.#base}: ${(error as Error).message}`);
        continue;
      }
      if (response.ok && options.raw) return response;
      const text = await response.text();
      if (response.ok) return options.text ? text : JSON.parse(text);
      const error = apiError(response.status, parseJson(text));
      // 5xx and 429 are worth another try; the same idempotency key makes a retried POST safe.
      if (response.status >= 500 || response.status === 429) {
        lastError = error;
        continue;
      }
      throw error;
    }
    throw lastError!;
  }
}

function reportSearch(query: ReportQuery, format: string): URLSearchParams {
  return new URLSearchParams({ ...Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined)), format });
}

/** `?a=1&b=2` of the defined values, or "". */
function searchOf(query: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams(Object.entries(query).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])));
  return search.size ? `?${search}` : "";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
