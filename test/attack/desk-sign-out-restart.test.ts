import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { csrfOf, DeskBrowser, oauthFor, readable } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

/**
 * A session cookie copied before its person signed out (a shared machine, a stolen cookie) must
 * stay dead: the embedded store keeps cached values in memory only, so a sign-out kept there is
 * forgotten when hitl restarts, while the cookie's signing key, a stored setting, is not.
 */
describe("a desk session signed out, then replayed after a restart", () => {
  let github: GitHubStandIn;
  let app: AppHarness | undefined;
  let store: Store | undefined;
  let dir: string;

  afterEach(async () => {
    await app?.close();
    await store?.close();
    await github.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stays signed out", async () => {
    dir = await mkdtemp(join(tmpdir(), "hitl-desk-restart-"));
    github = await startGitHubStandIn({
      repos: { "octo-org/payments": { collaborators: { alice: "write" } } },
      oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" },
    });
    const boot = async () => {
      store = await createEmbeddedStore({ dir });
      app = await startApp({ githubUrl: github.url, agents: [AGENT], desk: { oauth: oauthFor(github) }, store });
      return app;
    };
    const first = await boot();
    const alice = new DeskBrowser(first.url);
    await alice.signIn(github, "alice");
    const kept = new Map(alice.cookies);
    const out = await alice.post("/desk/logout", { csrf: csrfOf((await alice.get("/desk")).text) });
    expect(readable(out.text)).toContain("Signed out Your session on this desk has ended.");
    await first.close();
    await store!.close();
    app = undefined;

    const second = await boot();
    const replayed = new DeskBrowser(second.url);
    for (const [name, value] of kept) replayed.cookies.set(name, value);
    const page = await replayed.get("/desk");
    expect(readable(page.text)).toContain("Sign in with GitHub");
    expect(page.text).not.toContain("Signed in as alice");
  });

  it("is remembered until the session would have ended and an hour more, then the store may forget it", async () => {
    dir = await mkdtemp(join(tmpdir(), "hitl-desk-expiry-"));
    github = await startGitHubStandIn({
      repos: { "octo-org/payments": { collaborators: { alice: "write" } } },
      oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" },
    });
    const inner = await createEmbeddedStore({ dir });
    store = inner;
    const written: { name: string; ttlMs: number | undefined }[] = [];
    const recording = new Proxy(inner, {
      get(target, property, receiver) {
        if (property !== "createSetting") return Reflect.get(target, property, receiver) as unknown;
        return (name: string, value: string, options?: { ttlMs?: number }) => {
          written.push({ name, ttlMs: options?.ttlMs });
          return target.createSetting(name, value, options);
        };
      },
    });
    app = await startApp({ githubUrl: github.url, agents: [AGENT], desk: { oauth: oauthFor(github) }, store: recording, now: new Date("2026-11-24T09:00:00Z") });
    const alice = new DeskBrowser(app.url);
    await alice.signIn(github, "alice");
    app.setNow(new Date("2026-11-24T11:00:00Z"));
    await alice.post("/desk/logout", { csrf: csrfOf((await alice.get("/desk")).text) });
    const signedOut = written.filter((write) => write.name.startsWith("desk_signed_out:"));
    // The session began at 09:00 and lasts 12 h: 10 h are left at 11:00, and an hour of margin.
    expect(signedOut.map((write) => write.ttlMs)).toEqual([11 * 3_600_000]);
    // The desk's own session key stays forever.
    expect(written.filter((write) => !write.name.startsWith("desk_signed_out:")).every((write) => write.ttlMs === undefined)).toBe(true);
  });
});
