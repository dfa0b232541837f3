import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { createGunzip, gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createChainVerifier, recordHash } from "../../src/core/audit-chain.js";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { runCli } from "../../src/cli/run-cli.js";
import { verifyAuditFile } from "../../src/cli/verify-file.js";
import { Hitl } from "../../src/client/index.js";
import { createEmbeddedStore, type EmbeddedStore } from "../../src/store/embedded-store.js";
import { openDatabase } from "../../src/store/sqlite-schema.js";
import type { Store } from "../../src/store/store.js";
import { makeAudit, makeRequest } from "../support/fixtures.js";
import { AGENT, api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };
const DAY = 86_400_000;
const T0 = Date.parse("2026-11-24T10:00:00.000Z");

const request = (task: string, repo = REPO) => ({ repo, task_description: task, approval_reason: "Needs a human", approvers: ["alice"], deadline: "2099-12-01T12:00:00Z" });
const lines = (text: string) => text.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));

describe("the audit API", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let dir: string;
  let store: EmbeddedStore;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" } }, "octo-org/other": { collaborators: { alice: "write" } } },
    });
    dir = await mkdtemp(path.join(tmpdir(), "hitl-audit-api-"));
    store = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
    app = await startApp({ githubUrl: github.url, store, now: new Date(T0), agents: [AGENT, OTHER_AGENT, AUDITOR], retention: { contextMs: 30 * DAY, auditMs: 365 * DAY } });
  });

  afterEach(async () => {
    await app.close();
    await store.close();
    await github.close();
    await rm(dir, { recursive: true, force: true });
  });

  const as = (token: string, p: string, headers: Record<string, string> = {}) => api(app, "GET", p, undefined, { token, headers });

  it("pages with a cursor, across repositories for read-all, and only the agent's own entries otherwise", async () => {
    const mine = (await api(app, "POST", "/requests", request("Refund order 1"))).json;
    const theirs = (await api(app, "POST", "/requests", request("Deploy v2", "octo-org/other"), { token: OTHER_AGENT.token })).json;

    const first = await as(AUDITOR.token, "/audit?limit=2", { accept: "application/json" });
    expect(first.status).toBe(200);
    expect(first.json.entries.map((entry: { request_id: string; seq: number }) => [entry.request_id, entry.seq])).toEqual([
      [mine.id, 1],
      [mine.id, 2],
    ]);
    expect(first.json.next_cursor).toMatch(/^\d+$/);
    expect(first.headers.get("hitl-next-cursor")).toBe(first.json.next_cursor);
    expect(first.headers.get("link")).toBe(`</api/v1/audit?limit=2&cursor=${first.json.next_cursor}>; rel="next"`);
    const second = await as(AUDITOR.token, `/audit?limit=2&cursor=${first.json.next_cursor}`);
    expect(second.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    expect(lines(second.text).map((entry) => [entry.request_id, entry.repo, entry.seq])).toEqual([
      [theirs.id, "octo-org/other", 1],
      [theirs.id, "octo-org/other", 2],
    ]);
    const last = await as(AUDITOR.token, `/audit?limit=2&cursor=${second.headers.get("hitl-next-cursor")}`, { accept: "application/json" });
    expect(last.json).toEqual({ entries: [], next_cursor: null });

    // Without read-all: the agent's own requests' entries, in every repository.
    expect(lines((await as(OTHER_AGENT.token, "/audit")).text).map((entry) => entry.request_id)).toEqual([theirs.id, theirs.id]);
    expect(lines((await as(OTHER_AGENT.token, `/audit?repo=${REPO}`)).text)).toEqual([]);
    const exported = await fetch(`${app.url}/api/v1/audit/export`, { headers: { authorization: `Bearer ${OTHER_AGENT.token}` } });
    expect(lines(gunzipSync(Buffer.from(await exported.arrayBuffer())).toString("utf8")).map((entry) => entry.request_id)).toEqual([theirs.id, theirs.id]);
    expect((await fetch(`${app.url}/api/v1/audit/export?repo=${REPO}`, { headers: { authorization: `Bearer ${OTHER_AGENT.token}` } })).headers.get("hitl-audit-head")).toBeNull();
    // Times.
    expect(lines((await as(AUDITOR.token, "/audit?since=2026-11-24T10:00:00Z&until=2026-11-24T10:00:00.001Z")).text)).toHaveLength(4);
    expect(lines((await as(AUDITOR.token, "/audit?since=2026-11-24T10:00:00.001Z")).text)).toEqual([]);
  });

  it("the client pages, verifies and exports; the CLI prints every page", async () => {
    const mine = (await api(app, "POST", "/requests", request("Refund order 1"))).json;
    await api(app, "POST", "/requests", request("Deploy v2", "octo-org/other"), { token: OTHER_AGENT.token });
    const hitl = new Hitl({ url: app.url, token: AUDITOR.token, retries: 1 });
    const seen: string[] = [];
    for await (const entry of hitl.auditEntries({ limit: 1 })) seen.push(`${entry.repo}#${entry.seq}`);
    expect(seen).toEqual(["octo-org/payments#1", "octo-org/payments#2", "octo-org/other#1", "octo-org/other#2"]);
    expect(await hitl.verifyAudit(REPO)).toMatchObject({ ok: true, entries: 2 });
    const file = path.join(dir, "client-export.jsonl.gz");
    await pipeline(Readable.fromWeb((await hitl.exportAudit({ repo: REPO })) as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(file));
    expect((await verifyAuditFile(file)).message).toBe("octo-org/payments: 2 entries verified, seq 1 to 2, from its start.");

    // The head recorded elsewhere catches a chain rewritten wholesale, hashes and all.
    const exported = await fetch(`${app.url}/api/v1/audit/export?repo=${REPO}`, { headers: { authorization: `Bearer ${AUDITOR.token}` } });
    const head = exported.headers.get("hitl-audit-head")!;
    const [first, second] = gunzipSync(Buffer.from(await exported.arrayBuffer())).toString("utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(head).toBe(`${REPO}@2:${second.hash}`);
    const forged = { ...first, actor: { type: "agent", name: "someone-else" } };
    forged.hash = recordHash(forged);
    const forgedSecond = { ...second, prev_hash: forged.hash };
    forgedSecond.hash = recordHash(forgedSecond);
    const rewritten = path.join(dir, "rewritten.jsonl");
    await writeFile(rewritten, [forged, forgedSecond].map((line) => JSON.stringify(line)).join("\n"));
    const said: string[] = [];
    const quiet = { out: (line: string) => said.push(line), err: (line: string) => said.push(line), env: {} };
    expect(await runCli(["audit", "verify", rewritten], quiet)).toBe(0);
    expect(await runCli(["audit", "verify", rewritten, "--head", head], quiet)).toBe(1);
    expect(said.at(-1)).toBe(`hitl: the audit in ${rewritten} does not verify: Entry seq 2 of ${REPO} does not match the head recorded elsewhere: the chain was rewritten.`);
    expect(await runCli(["audit", "verify", file, "--head", head], quiet)).toBe(0);
    expect(await runCli(["audit", "verify", file, "--head", "octo-org/payments@2"], quiet)).toBe(3);

    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line), env: { HITL_URL: app.url, HITL_TOKEN: AGENT.token } };
    expect(await runCli(["audit", "--limit", "5"], io)).toBe(0);
    expect(out).toEqual([
      `2026-11-24T10:00:00.000Z octo-org/payments #1 ${mine.id} created pending`,
      `2026-11-24T10:00:00.000Z octo-org/payments #2 ${mine.id} surface_opened pending`,
    ]);
    out.length = 0;
    expect(await runCli(["audit", "verify", "--repo", REPO], io)).toBe(3);
    expect(out).toEqual(["hitl: Verifying an audit chain reads every entry of the repository: it needs a token with read-all. (HTTP 403 read_all_required)"]);
  });

  it("answers 400 naming the bad query field", async () => {
    const bad = await as(AUDITOR.token, "/audit?since=yesterday&cursor=abc");
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues).toEqual([
      { path: "query.since", message: "must be an ISO 8601 time, like 2026-01-31T00:00:00Z" },
      { path: "query.cursor", message: "must be a next_cursor this endpoint answered" },
    ]);
    expect((await as(AUDITOR.token, "/audit/verify")).json.error.issues).toEqual([{ path: "query.repo", message: "Invalid input: expected string, received undefined" }]);
  });

  it("verifies a repository's chain, and names the entry changed behind the store's back", async () => {
    const opened = (await api(app, "POST", "/requests", request("Refund order 1"))).json;
    await api(app, "POST", `/requests/${opened.id}/cancel`, { reason: "not needed" });
    const ok = await as(AUDITOR.token, `/audit/verify?repo=${REPO}`);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ repo: REPO, ok: true, message: "octo-org/payments: 3 entries verified, seq 1 to 3, from its start.", entries: 3, first_seq: 1, last_seq: 3, fault: null, anchor: { seq: 0, removed_at: null } });
    expect(ok.json.head.seq).toBe(3);

    const refused = await as(AGENT.token, `/audit/verify?repo=${REPO}`);
    expect(refused.status).toBe(403);
    expect(refused.json.error).toEqual({ code: "read_all_required", message: "Verifying an audit chain reads every entry of the repository: it needs a token with read-all." });

    // Someone with the database file changes the cancellation's reason.
    const db = openDatabase(path.join(dir, "hitl.db"), { fsync: false });
    db.prepare("UPDATE audit SET body = json_set(body, '$.justification', 'approved by alice') WHERE repo = ? AND chain_seq = 3").run(REPO);
    db.close();
    const broken = await as(AUDITOR.token, `/audit/verify?repo=${REPO}`);
    expect(broken.json.ok).toBe(false);
    expect(broken.json.fault).toMatchObject({ kind: "altered", seq: 3, request_id: opened.id });
    expect(broken.json.message).toBe(broken.json.fault.message);
  });

  it("removes an ended request's context when its retention ran out, and the chain still verifies", async () => {
    github.state.repos[REPO]!.files.main = { ".hitl.yml": "retention:\n  context: 1d\n  audit: 2d\n" };
    const opened = (await api(app, "POST", "/requests", request("Refund order 1"))).json;
    const kept = (await api(app, "POST", "/requests", request("Refund order 2"))).json;
    await api(app, "POST", `/requests/${opened.id}/cancel`, { reason: "not needed" });

    app.setNow(new Date(T0 + DAY - 1));
    expect(await app.runtime.purge()).toEqual({ ran: true, contextPurged: 0, auditRemoved: 0 });
    app.setNow(new Date(T0 + DAY));
    expect(await app.runtime.purge()).toEqual({ ran: true, contextPurged: 1, auditRemoved: 0 });
    const purged = (await api(app, "GET", `/requests/${opened.id}`)).json;
    expect(purged).toMatchObject({ id: opened.id, status: "cancelled", task_description: "", approval_reason: "", decision_data: {}, context_purged_at: new Date(T0 + DAY).toISOString() });
    expect((await api(app, "GET", `/requests/${kept.id}`)).json.task_description).toBe("Refund order 2");
    const trail = lines((await as(AUDITOR.token, `/audit?repo=${REPO}`)).text);
    expect(trail.at(-1)).toMatchObject({
      request_id: opened.id,
      event: "context_purged",
      actor: { type: "system", reason: "retention" },
      details: { removed: ["task_description", "approval_reason", "decision_data", "evaluation", "decision.justification", "decision.edited_fields", "sections", "presentation", "checkpoint", "prediction"], kept_for: "1d" },
    });
    expect((await as(AUDITOR.token, `/audit/verify?repo=${REPO}`)).json.ok).toBe(true);

    // Two days after they were written, the first entries leave the chain; the last stays a day longer.
    app.setNow(new Date(T0 + 2 * DAY));
    expect(await app.runtime.purge()).toEqual({ ran: true, contextPurged: 0, auditRemoved: 5 });
    expect(lines((await as(AUDITOR.token, `/audit?repo=${REPO}`)).text).map((entry) => [entry.seq, entry.event])).toEqual([[6, "context_purged"]]);
    const verified = (await as(AUDITOR.token, `/audit/verify?repo=${REPO}`)).json;
    expect(verified).toMatchObject({ ok: true, message: "octo-org/payments: 1 entries verified, seq 6 to 6, from the retention checkpoint after seq 5.", anchor: { seq: 5, removed_at: new Date(T0 + 2 * DAY).toISOString() } });
  });

  it("exports gzip JSON lines as a stream, and the offline verifier checks the file", async () => {
    const pages: number[] = [];
    const counted: Store = Object.assign(Object.create(null), store, {
      auditPage: (query: Parameters<Store["auditPage"]>[0]) => (pages.push(pages.length + 1), store.auditPage(query)),
    });
    await app.close();
    app = await startApp({ githubUrl: github.url, store: counted, now: new Date(T0), agents: [AGENT, OTHER_AGENT, AUDITOR] });
    // 6 000 entries of about 3 kB that do not compress: the export is far larger than any socket buffer.
    const padding = () => randomBytes(1_500).toString("base64");
    for (let i = 0; i < 600; i++) {
      const stored = makeRequest({ repo: i % 2 ? REPO : "octo-org/other" });
      await store.create(stored, { audit: Array.from({ length: 10 }, () => makeAudit(stored, { details: { padding: padding() } })) });
    }

    const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) =>
      get(`${app.url}/api/v1/audit/export`, { headers: { authorization: `Bearer ${AUDITOR.token}` } }, resolve).on("error", reject),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/gzip");
    expect(response.headers["content-disposition"]).toBe('attachment; filename="hitl-audit-all-2026-11-24.jsonl.gz"');
    // Read one chunk, then stop reading: the server must stop reading the store too.
    response.pause();
    let settled = -1;
    while (settled !== pages.length) {
      settled = pages.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(pages.length).toBeLessThan(6);
    const chunks: Buffer[] = [];
    const verifier = createChainVerifier();
    let count = 0;
    const gunzip = createGunzip();
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.pipe(gunzip);
    for await (const line of createInterface({ input: gunzip })) {
      verifier.push(JSON.parse(line));
      count += 1;
    }
    expect(count).toBe(6_000);
    expect(pages.length).toBe(7);
    expect(verifier.finish()).toMatchObject({ ok: true, fault: null, repos: [{ repo: "octo-org/other", entries: 3_000 }, { repo: REPO, entries: 3_000 }] });

    // A reader that hangs up mid-way: the server stops reading the store.
    pages.length = 0;
    const abandoned = await new Promise<import("node:http").IncomingMessage>((resolve, reject) =>
      get(`${app.url}/api/v1/audit/export`, { headers: { authorization: `Bearer ${AUDITOR.token}` } }, resolve).on("error", reject),
    );
    await once(abandoned, "data");
    abandoned.destroy();
    settled = -1;
    while (settled !== pages.length) {
      settled = pages.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(pages.length).toBeLessThan(6);
    expect((await as(AUDITOR.token, "/audit?limit=1")).status).toBe(200);

    // The file, verified offline by the CLI; then the same file with one line taken out.
    const file = path.join(dir, "export.jsonl.gz");
    await writeFile(file, Buffer.concat(chunks));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: {} };
    expect(await runCli(["audit", "verify", file], io)).toBe(0);
    expect(out).toEqual(["octo-org/other: 3000 entries verified, seq 1 to 3000, from its start.\nocto-org/payments: 3000 entries verified, seq 1 to 3000, from its start."]);
    const text = gunzipSync(Buffer.concat(chunks)).toString("utf8").split("\n");
    const removed = JSON.parse(text[11]!);
    const plain = path.join(dir, "export.jsonl");
    await writeFile(plain, [...text.slice(0, 11), ...text.slice(12)].join("\n"));
    out.length = 0;
    expect(await runCli(["audit", "verify", plain], io)).toBe(1);
    expect(err).toEqual([`hitl: the audit in ${plain} does not verify (line 12): Entries of ${removed.repo}: seq ${removed.seq} is missing (removed); entry seq ${removed.seq + 1} (request ${removed.request_id}, entry ${JSON.parse(text[12]!).id}) follows seq ${removed.seq - 1}.`]);
  });
});
