import { afterEach, describe, expect, it } from "vitest";
import { startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { freePort } from "../support/ports.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { StoreUnavailableError, type Store } from "../../src/store/store.js";
import { describeGitHubFailure } from "../../src/api/health-handler.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const T0 = new Date("2026-11-24T09:00:00.000Z");
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** An embedded store whose ping fails while `down` is set, as an unreachable Redis's does. */
async function flakyStore(dir: string): Promise<{ store: Store; setDown(down: boolean): void }> {
  const real = await createEmbeddedStore({ dir });
  let down = false;
  const store: Store = {
    ...real,
    async ping() {
      if (down) throw new StoreUnavailableError("Redis at 127.0.0.1:6390 did not answer a ping");
      return real.ping();
    },
  };
  return { store, setDown: (value) => (down = value) };
}

async function get(app: AppHarness, path: string) {
  const response = await fetch(`${app.url}${path}`);
  return { status: response.status, body: await response.json(), cache: response.headers.get("cache-control") };
}

describe("/healthz and /readyz", () => {
  let github: GitHubStandIn | undefined;
  let app: AppHarness | undefined;
  let dir: string | undefined;
  let store: Store | undefined;

  afterEach(async () => {
    await app?.close();
    await store?.close();
    await github?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    app = github = dir = store = undefined;
  });

  async function start(options: { githubUrl?: string } = {}) {
    github = await startGitHubStandIn({ repos: {} });
    dir = await mkdtemp(join(tmpdir(), "hitl-health-"));
    const flaky = await flakyStore(dir);
    store = flaky.store;
    app = await startApp({ githubUrl: options.githubUrl ?? github.url, store, now: T0 });
    return { app, github, setStoreDown: flaky.setDown };
  }

  it("/healthz answers 200 while the process runs, even with the store down (liveness only)", async () => {
    const { app, github, setStoreDown } = await start();
    expect(await get(app, "/healthz")).toEqual({ status: 200, body: { status: "ok" }, cache: "no-store" });
    setStoreDown(true);
    expect(await get(app, "/healthz")).toEqual({ status: 200, body: { status: "ok" }, cache: "no-store" });
    // Liveness asks nobody: not GitHub, not the store.
    expect(github.calls).toEqual([]);
  });

  it("/readyz answers 200 when the store answers and GitHub accepts the app (GET /app with its JWT)", async () => {
    const { app, github } = await start();
    expect(await get(app, "/readyz")).toEqual({ status: 200, body: { status: "ready", checks: { store: "ok", github: "ok" } }, cache: "no-store" });
    expect(github.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual(["GET /app 200"]);
  });

  it("/readyz answers 503 naming the store when it does not answer", async () => {
    const { app, setStoreDown } = await start();
    setStoreDown(true);
    expect(await get(app, "/readyz")).toEqual({
      status: 503,
      body: { status: "unavailable", reason: "the request store cannot be reached", checks: { store: "the request store cannot be reached", github: "ok" } },
      cache: "no-store",
    });
    setStoreDown(false);
    expect((await get(app, "/readyz")).status).toBe(200);
  });

  it("/readyz answers 503 naming GitHub when it fails or refuses the app's credentials", async () => {
    const { app, github } = await start();
    github.failNext({ method: "GET", path: "/app" }, [{ status: 502 }]);
    expect(await get(app, "/readyz")).toEqual({
      status: 503,
      body: { status: "unavailable", reason: "GitHub answered HTTP 502 to GET /app", checks: { store: "ok", github: "GitHub answered HTTP 502 to GET /app" } },
      cache: "no-store",
    });
    app.setNow(later(5));
    github.failNext({ method: "GET", path: "/app" }, [{ status: 401, body: { message: "A JSON web token could not be decoded" } }]);
    const refused = "GitHub refused the app's credentials (HTTP 401 to GET /app): check APP_ID and PRIVATE_KEY";
    expect((await get(app, "/readyz")).body).toEqual({ status: "unavailable", reason: refused, checks: { store: "ok", github: refused } });
    // Asked once each time, without Octokit's retries.
    expect(github.callsTo("GET", "/app").map((call) => call.status)).toEqual([502, 401]);
  });

  it("/readyz answers 503 naming GitHub when nothing answers there, and names both when both fail", async () => {
    const port = await freePort();
    const { app, setStoreDown } = await start({ githubUrl: `http://127.0.0.1:${port}/api/v3` });
    const unreachable = "GitHub cannot be reached (ECONNREFUSED)";
    expect(await get(app, "/readyz")).toEqual({ status: 503, body: { status: "unavailable", reason: unreachable, checks: { store: "ok", github: unreachable } }, cache: "no-store" });
    setStoreDown(true);
    expect((await get(app, "/readyz")).body).toEqual({
      status: "unavailable",
      reason: `the request store cannot be reached; ${unreachable}`,
      checks: { store: "the request store cannot be reached", github: unreachable },
    });
  });

  it("keeps GitHub's answer for 30 s (a failure for 5 s), so probes do not spend the app's rate limit", async () => {
    const { app, github } = await start();
    github.failNext({ method: "GET", path: "/app" }, [{ status: 503 }]);
    expect((await get(app, "/readyz")).status).toBe(503);
    app.setNow(later(4));
    // Within 5 s of a failure: the same answer, GitHub not asked again (though it would now answer 200).
    expect((await get(app, "/readyz")).body.reason).toBe("GitHub answered HTTP 503 to GET /app");
    expect(github.callsTo("GET", "/app")).toHaveLength(1);
    app.setNow(later(5));
    expect(await get(app, "/readyz")).toMatchObject({ status: 200, body: { status: "ready" } });
    expect(github.callsTo("GET", "/app").map((call) => call.status)).toEqual([503, 200]);
    // A success is kept for 30 s.
    app.setNow(later(34));
    expect((await get(app, "/readyz")).status).toBe(200);
    expect(github.callsTo("GET", "/app")).toHaveLength(2);
    // Probes at once share one question.
    app.setNow(later(35));
    const answers = await Promise.all([get(app, "/readyz"), get(app, "/readyz"), get(app, "/readyz")]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(github.callsTo("GET", "/app")).toHaveLength(3);
  });

  it("/readyz answers 503 while the server is stopping; /healthz still 200", async () => {
    const { app, github } = await start();
    app.runtime.drain();
    expect(await get(app, "/readyz")).toEqual({ status: 503, body: { status: "unavailable", reason: "this server is stopping" }, cache: "no-store" });
    expect(await get(app, "/healthz")).toEqual({ status: 200, body: { status: "ok" }, cache: "no-store" });
    expect(github.calls).toEqual([]);
  });
});

describe("describeGitHubFailure", () => {
  const requestError = (cause: unknown) => Object.assign(new Error("request failed"), { status: 500, cause });
  it("names the kind of failure, never an address or another message", () => {
    const reset = requestError(Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("read ECONNRESET 10.0.0.5:443"), { code: "ECONNRESET" }) }));
    expect(describeGitHubFailure(reset)).toBe("GitHub cannot be reached (ECONNRESET)");
    expect(describeGitHubFailure(requestError(new DOMException("The operation was aborted due to timeout", "TimeoutError")))).toBe("GitHub cannot be reached (no answer within 5 s)");
    expect(describeGitHubFailure(requestError(new Error("getaddrinfo failed for ghe.internal.example")))).toBe("GitHub cannot be reached (network error)");
    expect(describeGitHubFailure(new Error("secretOrPrivateKey must be an asymmetric key"))).toBe("the app cannot sign in to GitHub: check APP_ID and PRIVATE_KEY");
    expect(describeGitHubFailure(Object.assign(new Error("Forbidden"), { status: 403, response: { status: 403 } }))).toBe(
      "GitHub refused the app's credentials (HTTP 403 to GET /app): check APP_ID and PRIVATE_KEY",
    );
  });
});
