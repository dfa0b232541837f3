import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { AGENT, testPrivateKey, WEBHOOK_SECRET } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { freePort } from "../support/ports.js";
import { REPO_ROOT } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";

/**
 * The image builds from the Dockerfile and the compose stack (hitl and its Redis) answers
 * `/readyz` and a request, against the GitHub stand-in on this machine (reached from the
 * container through host.docker.internal). Needs a Docker daemon: where `docker info` fails
 * (a machine with the Docker client only), it is skipped, saying why.
 */

const run = promisify(execFile);

function dockerDaemon(): boolean {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
const hasDocker = dockerDaemon();
const REPO = "octo-org/payments";

/** Forwards a port on every interface to the stand-in on 127.0.0.1, for the container to reach. */
async function forwardToLoopback(targetPort: number): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    const upstream = connect(targetPort, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe("the container image and the compose stack", () => {
  const project = `hitl-test-${randomBytes(4).toString("hex")}`;
  let github: GitHubStandIn | undefined;
  let forward: { port: number; server: Server } | undefined;
  let dir: string | undefined;
  let composeFiles: string[] = [];

  afterAll(async () => {
    if (composeFiles.length) await run("docker", ["compose", "-p", project, ...composeFiles, "down", "--volumes", "--remove-orphans"], { cwd: REPO_ROOT }).catch(() => undefined);
    await new Promise<void>((resolve) => (forward ? forward.server.close(() => resolve()) : resolve()));
    await github?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(!hasDocker)(`builds, starts with Redis, answers /readyz and opens a request${hasDocker ? "" : " (skipped: `docker info` fails, no Docker daemon here)"}`, async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    forward = await forwardToLoopback(Number(github.host.split(":")[1]));
    const port = await freePort();
    dir = await mkdtemp(join(tmpdir(), "hitl-compose-"));
    const override = join(dir, "docker-compose.test.yml");
    const env = {
      APP_ID: "1",
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET,
      HITL_AGENT_TOKENS: `${AGENT.name}:${AGENT.token}`,
      GHE_HOST: `host.docker.internal:${forward.port}`,
      GHE_PROTOCOL: "http",
    };
    await writeFile(
      override,
      [
        "services:",
        "  hitl:",
        `    ports: !override ["${port}:3000"]`,
        '    extra_hosts: ["host.docker.internal:host-gateway"]',
        "    environment:",
        ...Object.entries(env).map(([name, value]) => `      ${name}: ${JSON.stringify(value)}`),
        "",
      ].join("\n"),
    );
    composeFiles = ["-f", join(REPO_ROOT, "docker-compose.yml"), "-f", override];
    await run("docker", ["compose", "-p", project, ...composeFiles, "up", "--detach", "--build"], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });

    const base = `http://127.0.0.1:${port}`;
    const ready = await waitFor(
      "the container to answer /readyz with 200",
      async () => {
        const response = await fetch(`${base}/readyz`).catch(() => null);
        return response?.status === 200 ? response.json() : undefined;
      },
      180_000,
      1_000,
    );
    expect(ready).toEqual({ status: "ready", checks: { store: "ok", github: "ok" } });
    expect(github.callsTo("GET", "/app").length).toBeGreaterThan(0);

    const created = await fetch(`${base}/api/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${AGENT.token}`, "content-type": "application/json" },
      body: JSON.stringify({ repo: REPO, task_description: "Refund order 77", approval_reason: "Large refund", decision_data: { amount: 900 }, approvers: ["alice"] }),
    });
    const body = (await created.json()) as { status: string; surface_number: number; requested_by: string };
    expect({ status: created.status, request: body.status, by: body.requested_by }).toEqual({ status: 201, request: "pending", by: AGENT.name });
    expect(github.callsTo("POST", `/repos/${REPO}/issues`)).toHaveLength(1);

    // It runs as the image's non-root user, on Redis, not the embedded store.
    const { stdout: user } = await run("docker", ["compose", "-p", project, ...composeFiles, "exec", "-T", "hitl", "id", "-u"], { cwd: REPO_ROOT });
    expect(user.trim()).toBe("1000");
    const { stdout: logs } = await run("docker", ["compose", "-p", project, ...composeFiles, "logs", "hitl"], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
    expect(logs).toContain("hitl store: redis");
  }, 20 * 60_000);
});
