import { afterEach, describe, expect, it } from "vitest";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { SECONDARY_LIMIT_MESSAGE } from "./github-stand-in/secondary-limit.js";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln";
const T0 = Date.parse("2026-12-01T10:00:00.000Z");

let standIn: GitHubStandIn;
let nowMs = T0;

afterEach(async () => {
  await standIn.close();
});

async function call(method: string, path: string, auth: string, body?: unknown): Promise<{ status: number; retryAfter: string | null; message: unknown }> {
  const response = await fetch(`${standIn.url}${path}`, {
    method,
    headers: { authorization: auth, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, retryAfter: response.headers.get("retry-after"), message: text ? (JSON.parse(text) as { message?: unknown }).message : undefined };
}

async function installationToken(id: number): Promise<string> {
  const response = await fetch(`${standIn.url}/app/installations/${id}/access_tokens`, { method: "POST", headers: { authorization: `Bearer ${JWT}` } });
  return `token ${((await response.json()) as { token: string }).token}`;
}

describe("GitHub stand-in: secondary rate limit on writes", () => {
  it("lets a burst of writes through, then answers 403 with retry-after until the bucket refills", async () => {
    nowMs = T0;
    standIn = await startGitHubStandIn({
      repos: { "octo-org/payments": { issues: [{ number: 1, title: "one" }] } },
      now: () => new Date(nowMs),
      secondaryLimit: { writesPerSecond: 1, burst: 2, retryAfterSeconds: 30 },
    });
    const token = await installationToken(1);
    const label = () => call("POST", "/repos/octo-org/payments/issues/1/labels", token, { labels: ["hitl"] });

    expect((await label()).status).toBe(200);
    expect((await label()).status).toBe(200);
    expect(await label()).toEqual({ status: 403, retryAfter: "30", message: SECONDARY_LIMIT_MESSAGE });
    nowMs += 999;
    expect((await label()).status).toBe(403);
    nowMs += 1;
    expect((await label()).status).toBe(200);
    expect((await label()).status).toBe(403);
    // Reads are not limited, and a token the stand-in did not issue is not counted.
    expect((await call("GET", "/repos/octo-org/payments/issues/1", token)).status).toBe(200);
    expect((await call("POST", "/repos/octo-org/payments/issues/1/labels", "token other-app", { labels: ["x"] })).status).toBe(200);

    expect(standIn.writes.map((w) => [w.installationId, w.at - T0, w.limited])).toEqual([
      [1, 0, false],
      [1, 0, false],
      [1, 0, true],
      [1, 999, true],
      [1, 1000, false],
      [1, 1000, true],
      [undefined, 1000, false],
    ]);
  });

  it("limits writes that notify people more tightly, per installation", async () => {
    nowMs = T0;
    standIn = await startGitHubStandIn({
      repos: { "octo-org/payments": {}, "elsewhere/tools": {} },
      installations: [
        { id: 1, account: "octo-org" },
        { id: 2, account: "elsewhere" },
      ],
      now: () => new Date(nowMs),
      secondaryLimit: { writesPerSecond: 10, notifyingPerSecond: 0.5, burst: 1 },
    });
    const one = await installationToken(1);
    const two = await installationToken(2);
    const issue = (token: string, repo: string) => call("POST", `/repos/${repo}/issues`, token, { title: "Approve" });

    expect((await issue(one, "octo-org/payments")).status).toBe(201);
    expect((await issue(two, "elsewhere/tools")).status).toBe(201);
    nowMs += 1000;
    expect((await issue(one, "octo-org/payments")).status).toBe(403);
    expect((await call("PATCH", "/repos/octo-org/payments/issues/1", one, { state: "closed" })).status).toBe(200);
    nowMs += 1000;
    expect((await issue(one, "octo-org/payments")).status).toBe(201);
    expect(standIn.writes.map((w) => `${w.installationId} ${w.method} ${w.path} ${w.notifying ? "notifying" : "quiet"} ${w.limited ? "403" : "ok"}`)).toEqual([
      "1 POST /repos/octo-org/payments/issues notifying ok",
      "2 POST /repos/elsewhere/tools/issues notifying ok",
      "1 POST /repos/octo-org/payments/issues notifying 403",
      "1 PATCH /repos/octo-org/payments/issues/1 quiet ok",
      "1 POST /repos/octo-org/payments/issues notifying ok",
    ]);
  });
});
