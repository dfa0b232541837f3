import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };

const request = (task: string) => ({
  repo: REPO,
  task_description: task,
  approval_reason: "Needs a human",
  approvers: ["alice"],
  deadline: "2099-12-01T12:00:00Z",
});

describe("what an agent may read", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let mine: { id: string };
  let theirs: { id: string };

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    app = await startApp({ githubUrl: github.url, agents: [AGENT, OTHER_AGENT, AUDITOR] });
    mine = (await api(app, "POST", "/requests", request("Refund order 1"))).json;
    theirs = (await api(app, "POST", "/requests", request("Deploy v2"), { token: OTHER_AGENT.token })).json;
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const as = (token: string, method: string, path: string) => api(app, method, path, undefined, { token });
  const auditIds = async (token: string) =>
    (await as(token, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").filter(Boolean).map((line) => [JSON.parse(line).request_id, JSON.parse(line).requested_by]);

  it("another agent's request is not found, exactly as an unknown one", async () => {
    const unknown = await as(AGENT.token, "GET", "/requests/req_unknown");
    for (const path of [`/requests/${theirs.id}`, `/requests/${theirs.id}/decision`, `/requests/${theirs.id}/decision?wait=1`]) {
      const response = await as(AGENT.token, "GET", path);
      expect(response.status).toBe(404);
      expect(response.json).toEqual({ error: { ...unknown.json.error, message: `No request with id ${theirs.id}.` } });
    }
    expect((await as(AGENT.token, "GET", `/requests/${mine.id}`)).json).toMatchObject({ id: mine.id, requested_by: AGENT.name });
    expect((await as(AGENT.token, "GET", `/requests/${mine.id}/decision`)).json).toMatchObject({ id: mine.id, status: "pending" });
  });

  it("lists only the agent's own requests, whatever the filters", async () => {
    for (const query of ["", `?repo=${REPO}`, "?status=pending", `?repo=${REPO}&status=pending`]) {
      const listed = await as(AGENT.token, "GET", `/requests${query}`);
      expect(listed.json.requests.map((r: { id: string }) => r.id)).toEqual([mine.id]);
      const other = await as(OTHER_AGENT.token, "GET", `/requests${query}`);
      expect(other.json.requests.map((r: { id: string }) => r.id)).toEqual([theirs.id]);
    }
  });

  it("shows only the audit entries of the agent's own requests", async () => {
    expect(await auditIds(AGENT.token)).toEqual([
      [mine.id, AGENT.name],
      [mine.id, AGENT.name],
    ]);
    expect(await auditIds(OTHER_AGENT.token)).toEqual([
      [theirs.id, OTHER_AGENT.name],
      [theirs.id, OTHER_AGENT.name],
    ]);
  });

  it("an agent whose token has read-all reads every request and the whole trail", async () => {
    expect((await as(AUDITOR.token, "GET", `/requests/${theirs.id}`)).json).toMatchObject({ id: theirs.id, requested_by: OTHER_AGENT.name });
    expect((await as(AUDITOR.token, "GET", `/requests/${mine.id}/decision`)).json).toMatchObject({ id: mine.id });
    const listed = await as(AUDITOR.token, "GET", "/requests");
    expect(listed.json.requests.map((r: { id: string }) => r.id)).toEqual([theirs.id, mine.id]);
    expect((await auditIds(AUDITOR.token)).map(([id]) => id)).toEqual([mine.id, mine.id, theirs.id, theirs.id]);
    // Reading is all it may do with another agent's request.
    expect((await api(app, "POST", `/requests/${mine.id}/cancel`, {}, { token: AUDITOR.token })).status).toBe(404);
  });
});
