import { describe, expect, it } from "vitest";
import { parseApprover } from "../../src/core/approver-name.js";
import { preCheckDecider, splitApprovers } from "../../src/core/authorize.js";

describe("splitApprovers", () => {
  it("splits users and teams, with or without @", () => {
    expect(splitApprovers(["alice", "@bob", "@octo-org/finance", "octo-org/on_call-2"])).toEqual({
      users: ["alice", "bob"],
      teams: [
        { org: "octo-org", slug: "finance" },
        { org: "octo-org", slug: "on_call-2" },
      ],
    });
  });

  it.each(["@octo-org/..", "@octo-org/.", "@octo-org/../x", "@/x", "/x", "octo-org//x", "@octo-org/", "@octo-org/fin.ance", "@octo-org/-x", "@-x", "a/b/c", ""])(
    "drops %j: it names nobody, and never becomes a question about the whole organisation",
    (entry) => {
      expect(parseApprover(entry)).toBeNull();
      expect(splitApprovers([entry, "alice"])).toEqual({ users: ["alice"], teams: [] });
    },
  );
});

describe("preCheckDecider", () => {
  it("refuses anyone among the requesters, in any case, and bots and edited comments", () => {
    const requesters = ["refund-agent", "ci-user", "Alice"];
    expect(preCheckDecider({ actor: { login: "CI-USER", type: "User" }, requesters })).toBe("requester");
    expect(preCheckDecider({ actor: { login: "alice", type: "User" }, requesters })).toBe("requester");
    expect(preCheckDecider({ actor: { login: "bob", type: "User" }, requesters })).toBeNull();
    expect(preCheckDecider({ actor: { login: "deploy[bot]", type: "Bot" }, requesters })).toBe("bot");
    expect(preCheckDecider({ actor: { login: "bob", type: "User" }, requesters, edited: true })).toBe("edited");
  });
});
