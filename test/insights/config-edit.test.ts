import { describe, expect, it } from "vitest";
import type { Rule } from "../../src/config/schema.js";
import { addRuleToConfig } from "../../src/insights/config-edit.js";
import { ruleYaml } from "../../src/insights/suggestions.js";

const RULE: Rule = { id: "suggested-refund", created_by: "hitl-suggestions", when: { all: [{ task_type: ["refund"] }, { field: "amount", gte: 5, lte: 95 }] }, action: "approve", max_uses: 25 };
const ITEM = [
  "- id: suggested-refund",
  "  created_by: hitl-suggestions",
  "  when:",
  "    all:",
  "      - task_type:",
  "          - refund",
  "      - field: amount",
  "        gte: 5",
  "        lte: 95",
  "  action: approve",
  "  max_uses: 25",
];
const indent = (by: number) => ITEM.map((line) => " ".repeat(by) + line);
const edit = (text: string | null) => addRuleToConfig(text, RULE, ruleYaml(RULE));

describe("addRuleToConfig", () => {
  it("appends the rule last under rules:, keeping comments and the rest of the file as written", () => {
    const text = [
      "# Payments policy",
      "approvers: [alice, '@octo-org/finance']  # who decides",
      "rules:",
      "  # small ones",
      "  - id: tiny",
      "    when: { field: amount, lt: 5 }",
      "    action: approve",
      "",
      "# after the rules",
      "deadline: 24h",
      "",
    ].join("\n");
    expect(edit(text)).toEqual({
      ok: true,
      text: [...text.split("\n").slice(0, 7), ...indent(2), "", "# after the rules", "deadline: 24h", ""].join("\n"),
    });
  });

  it("follows list items written at column 0, and fills rules: []", () => {
    expect(edit("rules:\n- id: tiny\n  when: { field: amount, lt: 5 }\n  action: approve\n")).toEqual({
      ok: true,
      text: ["rules:", "- id: tiny", "  when: { field: amount, lt: 5 }", "  action: approve", ...indent(0), ""].join("\n"),
    });
    expect(edit("rules: []\ndeadline: 24h\n")).toEqual({ ok: true, text: ["rules:", ...indent(2), "deadline: 24h", ""].join("\n") });
  });

  it("adds rules: to a file without it, or makes the file", () => {
    expect(edit("approvers: [alice]\n")).toEqual({ ok: true, text: ["approvers: [alice]", "", "rules:", ...indent(2), ""].join("\n") });
    expect(edit(null)).toEqual({ ok: true, text: ["rules:", ...indent(2), ""].join("\n") });
  });

  it("refuses a broken file, inherited rules, and rules: in a form it does not edit", () => {
    expect(edit("approvers: 5\n")).toEqual({ ok: false, reason: "the file has errors on the default branch; fix them first" });
    expect(edit("_extends: policies\napprovers: [alice]\n")).toEqual({ ok: false, reason: "the file takes its rules from policies (_extends); add the rule there" });
    expect(edit("rules: [{id: tiny, when: {field: amount, lt: 5}, action: approve}]\n")).toEqual({ ok: false, reason: "its rules: is not a plain list hitl can add to; add the rule by hand" });
  });
});
