import { describe, expect, it } from "vitest";
import { parseSuggestCommand } from "../../src/insights/suggest-command.js";
import { suggestionCommitMessage, suggestionOpenedComment, suggestionPullRequestBody, suggestionsComment, suggestionTitle } from "../../src/insights/suggestion-markdown.js";
import { ruleYaml, type Suggestion } from "../../src/insights/suggestions.js";

function suggestion(overrides: { field?: string; equals?: string; type?: string; counterValue?: unknown; counterAction?: string } = {}): Suggestion {
  const field = overrides.field ?? "amount";
  const condition = overrides.equals !== undefined ? { field, equals: overrides.equals } : { field, gte: 5, lte: 95 };
  const rule = {
    id: "suggested-refund-amount-0a1b2c",
    description: "Approves refund requests where amount is from 5 to 95.",
    created_by: "hitl-suggestions",
    when: { all: [{ task_type: [overrides.type ?? "refund"] }, condition] },
    action: "approve" as const,
    valid_until: "2027-03-01",
    max_uses: 25,
  };
  return {
    id: "sug_0a1b2c3d4e5f6071",
    repo: "octo-org/payments",
    requestType: overrides.type ?? "refund",
    rule,
    yaml: ruleYaml(rule),
    evidence: {
      support: 25,
      requestIds: ["req_b", "req_a"],
      counterExamples: [{ requestId: "req_c", value: overrides.counterValue ?? 100, action: overrides.counterAction ?? "reject", decidedAt: "2026-11-02T10:00:00.000Z" }],
      considered: 35,
      decidedOtherwise: 10,
      chance: 0.00001,
      lastDecidedAt: "2026-11-03T10:00:00.000Z",
    },
  };
}

describe("what people read of a suggestion", () => {
  it("the pull request: title, commit message and body, exactly", () => {
    const s = suggestion();
    expect(suggestionTitle(s)).toBe("hitl: add delegation rule suggested-refund-amount-0a1b2c");
    expect(suggestionCommitMessage(s)).toBe("Add delegation rule suggested-refund-amount-0a1b2c\n\nSuggested by hitl from 25 decisions people made (sug_0a1b2c3d4e5f6071).");
    expect(suggestionPullRequestBody({ ...s, evidence: { ...s.evidence, requestIds: ["req_b", "req_a"], support: 2 } }, ".hitl.yml", "@alice")).toBe(
      [
        "hitl suggests this delegation rule for `refund` requests, from the decisions people made in this repository.",
        "",
        "**Evidence.** People approved all 2 `refund` requests where `amount` is from 5 to 95, and decided none of them otherwise (35 `refund` requests decided by people were read, 10 of them not approved as asked). The chance of so clean a line where the field does not matter: below 0.01%.",
        "",
        "The closest requests people decided otherwise:",
        "",
        "| request | amount | decision | decided |",
        "|---|---|---|---|",
        "| `req_c` | 100 | reject | 2 Nov 2026 10:00 UTC |",
        "",
        "Requests it would have decided as people did (newest first): `req_b`, `req_a`.",
        "",
        "The rule goes last under `rules:` in `.hitl.yml`, so every rule before it still comes first. It is valid until 2027-03-01 and decides at most 25 requests; change either before merging. Like every rule, it never decides a request whose risk_score is above `require_human_above_risk`. To watch it before it decides, add `mode: shadow` and follow its agreement with people in the stats.",
        "",
        "```yaml",
        s.yaml.replace(/\n$/, ""),
        "```",
        "",
        "<sub>Suggestion `sug_0a1b2c3d4e5f6071`, opened at the request of @\u200Dalice. The `hitl/config` check validates the file as for any change.</sub>",
      ].join("\n"),
    );
  });

  it("agent text stays inert: a value that mentions, links or closes a table", () => {
    const s = suggestion({ field: "tier", equals: "gold", type: "refund`s", counterValue: "@octo-org/admins [x](https://evil.example) | ok", counterAction: "upgrade" });
    const body = suggestionPullRequestBody(s, ".hitl.yml", "@alice");
    expect(body).toContain("hitl suggests this delegation rule for ``refund`s`` requests");
    expect(body).toContain("where `tier` is `gold`");
    expect(body).toContain("| `req_c` | @\u200Docto-org/admins &#91;x&#93;(https:\u200D//evil.example) &#124; ok | upgrade | 2 Nov 2026 10:00 UTC |");
    expect(body).not.toContain("@octo-org/admins");
  });

  it("the answers to /hitl suggest", () => {
    const s = suggestion();
    expect(suggestionsComment([])).toBe("hitl has no rule to suggest: no request type has enough decisions people made the same way, with none decided otherwise, to propose one.");
    expect(suggestionsComment([s, s, s, s, s, s])).toBe(
      [
        "hitl suggests 6 delegation rules, from the decisions people made in this repository:",
        "",
        ...Array.from({ length: 5 }, () => "- `sug_0a1b2c3d4e5f6071`: approve `refund` requests where `amount` is from 5 to 95. People approved all 25 such requests and decided none otherwise; the closest decided otherwise is `req_c` (100, reject)."),
        "",
        "1 more: `GET /api/v1/suggestions` lists them all.",
        "",
        "To open a pull request adding one to `.hitl.yml`, with its evidence, comment `/hitl suggest <id>`.",
      ].join("\n"),
    );
    expect(suggestionOpenedComment("sug_0a1b2c3d4e5f6071", { number: 7, created: true })).toBe(
      "hitl opened #7 to add suggestion `sug_0a1b2c3d4e5f6071` to `.hitl.yml`, with its evidence. It decides nothing until it is merged.",
    );
    expect(suggestionOpenedComment("sug_0a1b2c3d4e5f6071", { number: 7, created: false })).toBe("hitl already opened #7 for `sug_0a1b2c3d4e5f6071`.");
  });

  it.each([
    ["/hitl suggest", { id: null }],
    ["\n  /HITL Suggest  \nplease", { id: null }],
    ["/hitl suggest sug_0a1b2c3d4e5f6071", { id: "sug_0a1b2c3d4e5f6071" }],
    ["/hitl suggest now", null],
    ["/hitl suggest sug_XYZ", null],
    ["> /hitl suggest", null],
    ["    /hitl suggest", null],
    ["please /hitl suggest", null],
    ["/approve", null],
  ])("parses %j", (body, expected) => {
    expect(parseSuggestCommand(body)).toEqual(expected);
  });
});
