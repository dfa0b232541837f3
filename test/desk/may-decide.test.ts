import { describe, expect, it } from "vitest";
import { createDeskAccess } from "../../src/desk/may-decide.js";
import type { ApprovalRequest } from "../../src/core/types.js";

const NOW = new Date("2026-11-24T09:00:00.000Z");

const request = (fields: Partial<ApprovalRequest> = {}): ApprovalRequest =>
  ({
    id: "req_1",
    version: 1,
    status: "pending",
    repo: "octo-org/payments",
    installationId: 7,
    requestedBy: "refund-agent",
    agentLogins: ["ci-user"],
    onBehalfOf: "dave",
    surfaceRef: { type: "pull_request", number: 4, url: "", author: "erin", headSha: "a".repeat(40) },
    approvers: ["@octo-org/finance"],
    escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: null },
    availableActions: [],
    decisionData: {},
    createdAt: NOW.toISOString(),
    deadline: "2026-11-25T09:00:00Z",
    ...fields,
  }) as ApprovalRequest;

function setUp(members: Record<string, string[]>) {
  const calls: string[] = [];
  let now = NOW;
  const access = createDeskAccess({
    github: {
      mayDecide: async (installationId, repo, login, approvers) => {
        calls.push(`${installationId} ${repo} ${login} [${approvers.join(",")}]`);
        return approvers.length === 0 ? (members["*"] ?? []).includes(login) : approvers.some((who) => (members[who] ?? [who]).includes(login));
      },
    },
    agentAccounts: ["deploy-bot"],
    clock: () => now,
  });
  return { access, calls, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe("who sees a request on the desk", () => {
  it("asks GitHub the engine's question per approver list, once per person, repository and list while fresh", async () => {
    const { access, calls, advance } = setUp({ "@octo-org/finance": ["alice"] });
    expect(await access.mayDecide(request(), "alice")).toBe(true);
    expect(await access.mayDecide(request(), "Alice")).toBe(true);
    expect(await access.mayDecide(request(), "bob")).toBe(false);
    expect(calls).toEqual(["7 octo-org/payments alice [@octo-org/finance]", "7 octo-org/payments bob [@octo-org/finance]"]);
    // Another request (or version) of the same repository with the same approvers costs no new question.
    expect(await access.mayDecide(request({ id: "req_2" }), "alice")).toBe(true);
    expect(await access.mayDecide(request({ version: 2 }), "alice")).toBe(true);
    expect(calls).toHaveLength(2);
    advance(30_000);
    expect(await access.mayDecide(request({ version: 2 }), "alice")).toBe(true);
    expect(calls).toEqual(["7 octo-org/payments alice [@octo-org/finance]", "7 octo-org/payments bob [@octo-org/finance]", "7 octo-org/payments alice [@octo-org/finance]"]);
  });

  it("never shows a request to its requester, its agent accounts, the person it acts for, the pull request's author or any agent's account, and asks GitHub nothing for them", async () => {
    const { access, calls } = setUp({ "@octo-org/finance": ["refund-agent", "ci-user", "dave", "erin", "deploy-bot", "app[bot]"] });
    for (const login of ["refund-agent", "CI-User", "dave", "erin", "deploy-bot", "app[bot]"]) expect(await access.mayDecide(request(), login), login).toBe(false);
    expect(calls).toEqual([]);
  });

  it("needs every list the engine checks: the request's approvers and .hitl.yml's", async () => {
    const { access } = setUp({ "@octo-org/finance": ["alice", "bob"], "@octo-org/leads": ["bob"] });
    const both = request({ policyApprovers: ["@octo-org/leads"] });
    expect(await access.mayDecide(both, "alice")).toBe(false);
    expect(await access.mayDecide(both, "bob")).toBe(true);
  });

  it("with stages, asks about the open stage's voters and weights; a request that ended shows to nobody", async () => {
    const { access } = setUp({ "*": ["alice", "bob", "carol"], "@octo-org/legal": ["carol"] });
    const stages: NonNullable<ApprovalRequest["stages"]> = [{ name: "legal", approvers: [], required: 1, threshold: 2, weights: { "@octo-org/legal": 2, bob: 1 }, reject: "veto", allowRepeatApprovers: false }];
    const staged = request({ approvers: [], stages, onBehalfOf: null, surfaceRef: null });
    expect(await access.mayDecide(staged, "carol")).toBe(true);
    expect(await access.mayDecide(staged, "bob")).toBe(true);
    expect(await access.mayDecide(staged, "alice")).toBe(false);
    expect(await access.mayDecide(request({ status: "approved", version: 9 }), "alice")).toBe(false);
  });

  it("leaves out nothing it could not ask, and does not remember a failed question", async () => {
    let fail = true;
    const access = createDeskAccess({
      github: {
        mayDecide: async () => {
          if (fail) throw new Error("GitHub is down");
          return true;
        },
      },
      agentAccounts: [],
      clock: () => NOW,
    });
    await expect(access.mayDecide(request(), "alice")).rejects.toThrow("GitHub is down");
    fail = false;
    expect(await access.mayDecide(request(), "alice")).toBe(true);
  });

  it("says a request waits on a person when the approvers it asks now name them or a team of theirs", async () => {
    const { access } = setUp({ "@octo-org/finance": ["alice"], "*": ["bob"] });
    expect(await access.waitsOn(request(), "alice")).toBe(true);
    expect(await access.waitsOn(request(), "bob")).toBe(false);
    expect(await access.waitsOn(request({ approvers: [] }), "bob")).toBe(false);
  });
});
