import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_REPO, startClientHarness, type ClientHarness } from "../support/client-harness.js";
import { REPO_ROOT } from "../support/server-process.js";

/** `PYTHON=/path/to/python3.9 npx vitest run test/clients/python.test.ts` runs the suite on another Python. */
const PYTHON = process.env.PYTHON ?? "python3";

/**
 * The Python client's unittest suite (clients/python/tests) against the real server process and
 * the GitHub stand-in. The suite plays the agent; this side plays GitHub: the control endpoint's
 * `POST /comment {request_id, login, body}` comments on the request's issue and delivers the
 * `issue_comment` webhook, as github.com would.
 */
describe("Python client (unittest) against the real server", () => {
  let harness: ClientHarness;
  let control: Server;
  let controlUrl: string;

  beforeAll(async () => {
    harness = await startClientHarness("python-agent");
    control = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString()));
      req.on("end", () => {
        const answer = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (req.method !== "POST" || req.url !== "/comment") return answer(404, { error: "POST /comment only" });
        const input = JSON.parse(text) as { request_id: string; login: string; body: string };
        harness.personComments(input.request_id, input.body, input.login).then(
          (result) => answer(200, result),
          (error: unknown) => answer(500, { error: String(error) }),
        );
      });
    });
    await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
    controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
    await new Promise((resolve) => control?.close(resolve));
  });

  it("passes python3 -m unittest with no test skipped", async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(PYTHON, ["-m", "unittest", "-v"], {
        cwd: join(REPO_ROOT, "clients", "python"),
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          HITL_URL: harness.server.base,
          HITL_TOKEN: harness.token,
          HITL_CONTROL_URL: controlUrl,
          HITL_REPO: CLIENT_REPO,
          PYTHONDONTWRITEBYTECODE: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, output }));
    });
    expect(code, output).toBe(0);
    expect(output).toMatch(/^OK$/m);
    expect(output).not.toMatch(/skipped/);
    expect(Number(/^Ran (\d+) tests?/m.exec(output)?.[1])).toBeGreaterThanOrEqual(18);
  }, 180_000);
});
