import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/api/openapi.js";
import { freePort } from "../support/ports.js";
import { REPO_ROOT } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";

const PROXY = "https://smee.io/hitl-test-channel";

describe("the OpenAPI document and the home page in Probot's setup mode (no APP_ID yet)", () => {
  it("are served beside the setup page, with no token", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hitl-setup-"));
    const port = await freePort();
    let output = "";
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", PORT: String(port), HOST: "127.0.0.1", HITL_DATA_DIR: dir, NO_SMEE_SETUP: "true", LOG_LEVEL: "warn", REDIS_URL: "", WEBHOOK_PROXY_URL: PROXY },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      const response = await waitFor(
        "the setup server to answer",
        async () => {
          if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${output}`);
          return (await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`).catch(() => null)) ?? undefined;
        },
        60_000,
        200,
      );
      expect(response.status, output).toBe(200);
      expect(await response.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
      // It is the setup mode: Probot's page is there, and the agent API is not.
      expect((await fetch(`http://127.0.0.1:${port}/probot`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/requests`)).status).toBe(404);
      // GET / is hitl's page, not Probot's redirect: it says the app is not registered yet and links to the setup.
      const home = await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
      expect(home.status).toBe(200);
      const html = await home.text();
      expect(html).toContain('Not registered yet: <a href="/probot">register the GitHub App</a>');
      expect(html).toContain("None: set <code>HITL_AGENT_TOKENS</code>");
      expect(html).toContain("0 requests wait for a decision.");
      expect(html).toContain('<a href="/api/v1/openapi.json">');
      expect(html).toContain("Through the webhook proxy in <code>WEBHOOK_PROXY_URL</code>.");
      expect(html).not.toContain(PROXY);
      // The app Probot registers from app.yml sends its webhooks to the proxy's channel, with every event hitl handles.
      const setup = await (await fetch(`http://127.0.0.1:${port}/probot`)).text();
      const manifest = JSON.parse(/value='([^']+)'/.exec(setup)![1]!) as { hook_attributes: { url: string }; default_events: string[]; public: boolean };
      expect(manifest.hook_attributes).toEqual({ url: PROXY });
      expect(manifest.default_events).toEqual(["check_run", "deployment_protection_rule", "issue_comment", "issues", "pull_request", "pull_request_review", "push"]);
      expect(manifest.public).toBe(false);
    } finally {
      process.kill(-child.pid!, "SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
