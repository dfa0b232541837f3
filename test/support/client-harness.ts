import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WEBHOOK_SECRET } from "./app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";
import { waitFor } from "./wait.js";
import { deliver, issueCommentPayload } from "./webhooks.js";

export const CLIENT_REPO = "octo-org/payments";

/** The real server process and the GitHub stand-in, for clients and documented snippets to run against. */
export interface ClientHarness {
  github: GitHubStandIn;
  server: ServerProcess;
  token: string;
  /** GET on the agent API with the harness's token. */
  api(path: string): Promise<Record<string, unknown>>;
  /** `login` comments `body` on the request's issue, and GitHub delivers the `issue_comment` webhook. */
  personComments(requestId: string, body: string, login?: string): Promise<{ status: number }>;
  close(): Promise<void>;
}

/** alice has write access to octo-org/payments (no `.hitl.yml`, so she may decide its requests). */
export async function startClientHarness(agent: string): Promise<ClientHarness> {
  const token = `${agent}-token-0123456789`;
  const github = await startGitHubStandIn({ repos: { [CLIENT_REPO]: { collaborators: { alice: "write" } } } });
  const dataDir = await mkdtemp(join(tmpdir(), "hitl-client-"));
  const server = await startServerProcess({ githubHost: github.host, env: { HITL_AGENT_TOKENS: `${agent}:${token}`, HITL_DATA_DIR: dataDir } }).catch(async (error: unknown) => {
    await github.close();
    throw error;
  });
  const api = async (path: string) => {
    const response = await fetch(`${server.base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as Record<string, unknown>;
  };
  return {
    github,
    server,
    token,
    api,
    async personComments(requestId, body, login = "alice") {
      const issue = await waitFor("the request's issue", async () => ((await api(`/requests/${encodeURIComponent(requestId)}`)).surface_number as number | null) ?? undefined, 15_000);
      const posted = github.comment(CLIENT_REPO, issue, { login, body });
      const delivery = await deliver(`${server.base}/api/github/webhooks`, {
        event: "issue_comment",
        payload: issueCommentPayload({ repo: CLIENT_REPO, issueNumber: issue, commentId: posted.id, body, login }),
        secret: WEBHOOK_SECRET,
      });
      return { status: delivery.status };
    },
    async close() {
      await server.stop();
      await github.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
