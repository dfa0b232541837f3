import { createWriteStream, readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ChainPoint } from "../core/audit-chain.js";
import { parseRecordedHead, verifyAuditFile } from "./verify-file.js";
import { parseArgs } from "node:util";
import { DecisionTimeoutError, Hitl, HitlApiError } from "../client/index.js";
import type { ApprovalRequest, NewRequest, Outcome, Stats, SuggestionList } from "../client/index.js";
import { describeClaims, ReceiptInputError, verifyReceiptCommand } from "./receipt-command.js";

/** Exit codes: a shell step or CI job branches on these. */
export const EXIT = { approved: 0, rejected: 1, ended: 2, error: 3 } as const;

export const USAGE = `hitl: ask people on GitHub for approval, from a shell.

  hitl request --repo OWNER/NAME --task TEXT --reason TEXT [--data JSON] [--approver LOGIN]...
               [--priority low|normal|high|critical] [--deadline ISO|"in 48h"] [--callback-url URL]
               [--idempotency-key KEY] [--body JSON|@FILE] [--wait [--timeout 30m]]
  hitl status ID
  hitl wait ID [--timeout 30m]
  hitl cancel ID [--reason TEXT]
  hitl list [--repo OWNER/NAME] [--status STATUS] [--limit N]
  hitl audit [--repo OWNER/NAME] [--since ISO] [--until ISO] [--limit N]
  hitl audit verify FILE [--head OWNER/NAME@SEQ:HASH]...
                               check an export's hash chains offline (and that each reaches a
                               head recorded elsewhere): exit 0 verified, 1 not
  hitl audit verify --repo OWNER/NAME    the server walks the chain (a read-all token)
  hitl audit export [--repo OWNER/NAME] [--since ISO] [--until ISO] --out FILE.jsonl.gz
  hitl receipt verify RECEIPT|@FILE [--jwks FILE|URL] [--issuer ISS] [--request ID]
                               check a decision receipt; offline with --jwks FILE
                               (exit 0 valid, 1 invalid, 3 an error)
  hitl report compliance [--repo OWNER/NAME] [--since ISO] [--until ISO] [--format json|csv|md]
  hitl stats --repo OWNER/NAME [--since ISO]
                               time to decision and rates, per request type and per approver
  hitl suggestions --repo OWNER/NAME
                               delegation rules the history supports, as YAML with their
                               evidence (a read-all token)
  hitl suggestions open ID --repo OWNER/NAME
                               open a pull request adding suggestion ID to .hitl.yml
  hitl mcp                     the hitl tools for a model, as an MCP server on stdin and stdout

Every command takes --json (print the API's JSON), --url and --token (default: HITL_URL, HITL_TOKEN).
Exit status of request --wait and wait: 0 approved, 1 rejected, 2 expired or cancelled,
3 an error or still pending when --timeout ran out. Other commands: 0 done, 3 an error.`;

const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  repo: { type: "string" },
  task: { type: "string" },
  reason: { type: "string" },
  data: { type: "string" },
  approver: { type: "string", multiple: true },
  priority: { type: "string" },
  deadline: { type: "string" },
  "callback-url": { type: "string" },
  "idempotency-key": { type: "string" },
  body: { type: "string" },
  wait: { type: "boolean" },
  timeout: { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
  jwks: { type: "string" },
  issuer: { type: "string" },
  request: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  head: { type: "string", multiple: true },
} as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
}

class UsageError extends Error {}

/** `30s`, `15m`, `4h`, `2d`, or plain seconds. */
function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--timeout ${text}: give a duration such as 90s, 30m or 2h`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? "s") as "s"] * 1000;
}

function jsonArgument(name: string, text: string): unknown {
  const source = text.startsWith("@") ? readFileSync(text.slice(1), "utf8") : text;
  try {
    return JSON.parse(source);
  } catch {
    throw new UsageError(`--${name}: not valid JSON`);
  }
}

const exitFor = (status: Outcome["status"]) => (status === "approved" ? EXIT.approved : status === "rejected" ? EXIT.rejected : EXIT.ended);

function describeOutcome(outcome: Outcome): string {
  const by = outcome.decision.decided_by;
  const who = by.type === "human" ? by.login : by.type === "rule" ? `rule ${by.id}` : by.type === "agent" ? `agent ${by.name}` : by.type === "prediction" ? `prediction (${by.id})` : by.type;
  return `${outcome.id} ${outcome.status} (${outcome.decision.action}) by ${who}${outcome.decision.justification ? `: ${outcome.decision.justification}` : ""}`;
}

/** `45s`, `10m`, `2h 5m`, `3d 4h`: a time to decision at a glance. */
export function shortDuration(seconds: number | null): string {
  if (seconds === null) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  const [big, bigUnit, small, smallUnit] = s < 86_400 ? [Math.floor(s / 3600), "h", Math.round((s % 3600) / 60), "m"] : [Math.floor(s / 86_400), "d", Math.round((s % 86_400) / 3600), "h"];
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`;
}

const percent = (rate: number | null) => (rate === null ? "-" : `${Math.round(rate * 1000) / 10}%`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}

/** The stats as two tables: per request type, per approver. */
export function describeStats(stats: Stats): string {
  const head = `${stats.repo}: ${stats.count} ended request${stats.count === 1 ? "" : "s"} created since ${stats.since}${stats.scope === "own" ? " (this agent's own)" : ""}${stats.truncated ? "; more than one answer reads, narrow --since" : ""}`;
  if (stats.count === 0) return head;
  const figures = (group: Stats["overall"]) => [String(group.count), shortDuration(group.median_seconds), shortDuration(group.p90_seconds), percent(group.approval_rate)];
  const types = table([
    ["type", "count", "median", "p90", "approved", "expired", "fallback", "automatic"],
    ...stats.by_type.map((group) => [group.request_type ?? "(none)", ...figures(group), percent(group.expired_rate), percent(group.fallback_rate), percent(group.automatic_share)]),
    ["all", ...figures(stats.overall), percent(stats.overall.expired_rate), percent(stats.overall.fallback_rate), percent(stats.overall.automatic_share)],
  ]);
  const approvers = stats.by_approver.length === 0 ? "no decisions by people" : table([["approver", "count", "median", "p90", "approved"], ...stats.by_approver.map((group) => [group.approver, ...figures(group)])]);
  const shadow =
    stats.shadow_rules.length === 0
      ? ""
      : `\n\n${table([["shadow rule", "matched", "decided by people", "agreed", "agreement"], ...stats.shadow_rules.map((rule) => [rule.rule_id, String(rule.matched), String(rule.decided_by_people), String(rule.agreed), percent(rule.agreement_rate)])])}`;
  return `${head}\n\n${types}\n\n${approvers}${shadow}`;
}

const describeRequest = (request: ApprovalRequest) => `${request.id} ${request.status} ${request.repo} ${request.surface_url ?? "(surface not posted yet)"} ${request.task_description}`;

/** Runs one command; resolves with the process's exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof UsageError) io.err(`${error.message}\n\n${USAGE}`);
    else if (error instanceof HitlApiError) io.err(`hitl: ${error.message}${error.issues.map((issue) => `\n  ${issue.path}: ${issue.message}`).join("")} (HTTP ${error.status} ${error.code})`);
    else io.err(`hitl: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.error;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, id, ...extra] = positionals;
  if (values.help || command === undefined || command === "help") {
    io.out(USAGE);
    return command === undefined && !values.help ? EXIT.error : 0;
  }
  if (command === "receipt") {
    if (id !== "verify" || extra.length !== 1) throw new UsageError("hitl receipt verify takes one receipt (or @FILE holding it)");
    try {
      const verdict = await verifyReceiptCommand({ receipt: extra[0]!, jwks: values.jwks, hitlUrl: values.url ?? io.env.HITL_URL, issuer: values.issuer, requestId: values.request });
      if (values.json) io.out(JSON.stringify(verdict, null, 2));
      else if (verdict.valid) io.out(describeClaims(verdict.claims));
      else io.out(`invalid: ${verdict.reason}`);
      return verdict.valid ? 0 : EXIT.rejected;
    } catch (error) {
      if (error instanceof ReceiptInputError) throw new UsageError(error.message);
      throw error;
    }
  }

  // Offline: nothing but the file.
  if (command === "audit" && id === "verify" && values.repo === undefined) {
    const [file, ...more] = extra;
    if (!file || more.length) throw new UsageError("hitl audit verify takes one file (or --repo OWNER/NAME to ask the server)");
    const recorded = new Map<string, ChainPoint>();
    for (const text of values.head ?? []) {
      const head = parseRecordedHead(text);
      if (!head) throw new UsageError(`--head ${text}: give OWNER/NAME@SEQ:HASH, e.g. octo-org/payments@120:<64 hex characters>`);
      recorded.set(head.repo, head.point);
    }
    const { verdict, message } = await verifyAuditFile(file, recorded).catch((error: Error & { code?: string }) => {
      throw new Error(error.code === "ENOENT" ? `no file ${file}` : `could not read ${file}: ${error.message}`);
    });
    if (verdict.ok) {
      io.out(values.json ? JSON.stringify(verdict, null, 2) : message);
      return 0;
    }
    const where = verdict.fault?.line === undefined ? "" : ` (line ${verdict.fault.line})`;
    if (values.json) io.out(JSON.stringify(verdict, null, 2));
    io.err(`hitl: the audit in ${file} does not verify${where}: ${message}`);
    return 1;
  }
  const url = values.url ?? io.env.HITL_URL;
  const token = values.token ?? io.env.HITL_TOKEN;
  if (!url || !token) throw new UsageError("Set HITL_URL and HITL_TOKEN (or pass --url and --token).");
  const hitl = new Hitl({ url, token });
  const print = (value: unknown, text: string) => io.out(values.json ? JSON.stringify(value, null, 2) : text);
  const needId = () => {
    if (!id || extra.length) throw new UsageError(`hitl ${command} takes one request id`);
    return id;
  };
  const timeoutMs = values.timeout === undefined ? undefined : duration(values.timeout);
  const wait = async (requestId: string) => {
    try {
      const outcome = await hitl.waitForDecision(requestId, { timeoutMs });
      print(outcome, describeOutcome(outcome));
      return exitFor(outcome.status);
    } catch (error) {
      if (!(error instanceof DecisionTimeoutError)) throw error;
      print({ id: requestId, status: "pending", decision: null }, `${requestId} still pending after ${values.timeout}`);
      return EXIT.error;
    }
  };

  switch (command) {
    case "request": {
      if (positionals.length > 1) throw new UsageError("hitl request takes options only");
      const base = (values.body === undefined ? {} : jsonArgument("body", values.body)) as Partial<NewRequest>;
      const body = {
        ...base,
        ...(values.repo === undefined ? {} : { repo: values.repo }),
        ...(values.task === undefined ? {} : { task_description: values.task }),
        ...(values.reason === undefined ? {} : { approval_reason: values.reason }),
        ...(values.data === undefined ? {} : { decision_data: jsonArgument("data", values.data) as Record<string, unknown> }),
        ...(values.approver === undefined ? {} : { approvers: values.approver }),
        ...(values.priority === undefined ? {} : { priority: values.priority as NewRequest["priority"] }),
        ...(values.deadline === undefined ? {} : { deadline: values.deadline }),
        ...(values["callback-url"] === undefined ? {} : { callback_url: values["callback-url"] }),
      } as NewRequest;
      const request = await hitl.create(body, values["idempotency-key"] ?? body.idempotency_key ?? globalThis.crypto.randomUUID());
      if (!values.wait) {
        print(request, describeRequest(request));
        return 0;
      }
      if (!values.json) io.err(describeRequest(request));
      return wait(request.id);
    }
    case "mcp": {
      // Loaded only here: the other commands need no MCP SDK.
      const { serveMcpStdio } = await import("../mcp/stdio.js");
      await serveMcpStdio(hitl);
      return 0;
    }
    case "status": {
      const request = await hitl.get(needId());
      print(request, describeRequest(request));
      return 0;
    }
    case "wait":
      return wait(needId());
    case "cancel": {
      const request = await hitl.cancel(needId(), values.reason);
      print(request, describeRequest(request));
      return 0;
    }
    case "list": {
      if (id) throw new UsageError("hitl list takes options only");
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      const requests = await hitl.list({ repo: values.repo, status: values.status as ApprovalRequest["status"] | undefined, limit });
      print(requests, requests.map(describeRequest).join("\n") || "no requests");
      return 0;
    }
    case "audit": {
      const range = { repo: values.repo, since: values.since, until: values.until };
      if (id === "verify") {
        if (extra.length) throw new UsageError("hitl audit verify takes one file, or --repo OWNER/NAME");
        const result = await hitl.verifyAudit(values.repo!);
        if (values.json) io.out(JSON.stringify(result, null, 2));
        else if (result.ok) io.out(result.message);
        if (!result.ok) io.err(`hitl: the audit of ${result.repo} does not verify: ${result.message}`);
        return result.ok ? 0 : 1;
      }
      if (id === "export") {
        if (extra.length || !values.out) throw new UsageError("hitl audit export needs --out FILE.jsonl.gz");
        const body = await hitl.exportAudit(range);
        await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(values.out));
        io.out(`wrote ${values.out}; check it with: hitl audit verify ${values.out}`);
        return 0;
      }
      if (id) throw new UsageError(`unknown command hitl audit ${id}`);
      const limit = values.limit === undefined ? Infinity : Number(values.limit);
      let printed = 0;
      // JSON lines, as the API gives them: one entry per line either way, every page.
      for await (const entry of hitl.auditEntries({ ...range, limit: Math.min(limit, 10_000) })) {
        if (printed >= limit) break;
        io.out(values.json ? JSON.stringify(entry) : `${entry.at} ${entry.repo} #${entry.seq} ${entry.request_id} ${entry.event} ${entry.status}${entry.justification ? `: ${entry.justification}` : ""}`);
        printed += 1;
      }
      return 0;
    }
    case "report": {
      if (id !== "compliance" || extra.length) throw new UsageError("hitl report takes one report name: compliance");
      const format = values.format ?? "json";
      if (format !== "json" && format !== "csv" && format !== "md") throw new UsageError(`--format ${format}: give json, csv or md`);
      const query = { repo: values.repo, since: values.since, until: values.until };
      // JSON pretty-printed; CSV and markdown as the server wrote them.
      if (format === "json") io.out(JSON.stringify(await hitl.complianceReport(query), null, 2));
      else io.out((await hitl.complianceReportText(format, query)).replace(/\r?\n$/, ""));
      return 0;
    }
    case "stats": {
      if (!values.repo || id) throw new UsageError("hitl stats needs --repo OWNER/NAME (and takes no other argument)");
      const stats = await hitl.stats(values.repo, values.since);
      print(stats, describeStats(stats));
      return 0;
    }
    case "suggestions": {
      if (!values.repo) throw new UsageError("hitl suggestions needs --repo OWNER/NAME");
      if (id === undefined) {
        const list = await hitl.suggestions(values.repo);
        print(list, describeSuggestions(list));
        return 0;
      }
      if (id !== "open" || extra.length !== 1) throw new UsageError("hitl suggestions takes --repo alone, or open ID --repo OWNER/NAME");
      const opened = await hitl.openSuggestionPullRequest(extra[0]!, values.repo);
      print(opened, `${opened.pull_request.created ? "opened" : "already opened"} pull request #${opened.pull_request.number} ${opened.pull_request.url}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** Each suggestion: its id, its evidence in a line, and the rule as YAML to paste under `rules:`. */
export function describeSuggestions(list: SuggestionList): string {
  const head = `${list.repo}: ${list.suggestions.length === 0 ? "no rule to suggest" : `${list.suggestions.length} suggested rule${list.suggestions.length === 1 ? "" : "s"}`}${list.truncated ? " (from the most recent decisions only)" : ""}`;
  const blocks = list.suggestions.map((suggestion) => {
    const { evidence } = suggestion;
    const nearest = evidence.counter_examples[0];
    const against = nearest ? `; closest decided otherwise: ${nearest.request_id} (${JSON.stringify(nearest.value)}, ${nearest.action})` : "";
    return [
      `${suggestion.id}  ${suggestion.request_type}: ${evidence.support} approved as asked, none decided otherwise${against}`,
      `  open it: hitl suggestions open ${suggestion.id} --repo ${list.repo}`,
      ...suggestion.yaml.replace(/\n$/, "").split("\n").map((line) => `  ${line}`),
    ].join("\n");
  });
  return [head, ...blocks].join("\n\n");
}
