import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_ID, CLIENT_SECRET, DeskBrowser, readable } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { freePort } from "../support/ports.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

/** The desk as main.ts wires it from the environment: GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, HITL_PUBLIC_URL, and GHE_HOST for GitHub. */
describe("end to end: the desk turned on by the environment", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    github = await startGitHubStandIn({ repos: { "octo-org/payments": { collaborators: { alice: "write" } } }, oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } });
    dataDir = await mkdtemp(join(tmpdir(), "hitl-desk-e2e-"));
    const port = await freePort();
    server = await startServerProcess({
      port,
      githubHost: github.host,
      env: { HITL_DATA_DIR: dataDir, HITL_SWEEP_CRON: "off", GITHUB_CLIENT_ID: CLIENT_ID, GITHUB_CLIENT_SECRET: CLIENT_SECRET, HITL_PUBLIC_URL: `http://127.0.0.1:${port}` },
    });
    github.state.oauth!.callbackUrls = [`${server.base}/desk/callback`];
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("signs in through GHE_HOST's OAuth pages, and the home page links the desk", async () => {
    const browser = new DeskBrowser(server.base);
    const landed = await browser.signIn(github, "alice");
    expect(landed.headers.get("location")).toBe("/desk");
    expect(readable((await browser.get("/desk")).text)).toContain("Signed in as alice Sign out 0 requests wait for you");
    const home = await fetch(`${server.base}/`);
    expect(await home.text()).toContain("<a href=\"/desk\">The approver's desk</a>");
    expect(server.output()).not.toContain(CLIENT_SECRET);
  });
});
