import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand, type Command } from "../../src/core/commands.js";

const cases: [string, string, Command | null][] = [
  ["bare approve", "/approve", { type: "approve", justification: null }],
  ["bare reject", "/reject", { type: "reject", justification: null }],
  ["upper case", "/APPROVE", { type: "approve", justification: null }],
  ["mixed case with reason", "/Approve looks fine", { type: "approve", justification: "looks fine" }],
  ["reject with reason", "/reject amount is wrong", { type: "reject", justification: "amount is wrong" }],
  ["reason on the following lines", "/approve\nchecked the ledger\nall good", { type: "approve", justification: "checked the ledger\nall good" }],
  ["reason on both", "/reject no.\n\nSee ticket 12.", { type: "reject", justification: "no.\n\nSee ticket 12." }],
  ["blank lines before the command", "\n  \n/approve ok", { type: "approve", justification: "ok" }],
  ["surrounding spaces", "   /approve   ok   ", { type: "approve", justification: "ok" }],
  ["CRLF line endings", "/reject\r\nnot now\r\n", { type: "reject", justification: "not now" }],
  ["tab after the command", "/approve\tfine", { type: "approve", justification: "fine" }],
  ["choose with id", "/choose refund-half", { type: "choose", actionId: "refund-half", justification: null }],
  ["choose with id and reason", "/choose refund-half because… the item is used", { type: "choose", actionId: "refund-half", justification: "because… the item is used" }],
  ["choose keeps the id's case", "/CHOOSE Refund_Half ok", { type: "choose", actionId: "Refund_Half", justification: "ok" }],
  ["choose with reason below", "/choose a1\nwhy not", { type: "choose", actionId: "a1", justification: "why not" }],
  ["choose without id", "/choose", null],
  ["choose with the id on the next line", "/choose\nrefund-half", null],
  ["approved is not approve", "/approved", null],
  ["approver is not approve", "/approver", null],
  ["hyphenated suffix", "/approve-all", null],
  ["punctuation after the command", "/approve: fine", null],
  ["text before the slash", "I /approve", null],
  ["lgtm", "LGTM /approve", null],
  ["quoted", "> /approve", null],
  ["inline code", "`/approve`", null],
  ["fenced code", "```\n/approve\n```", null],
  ["indented code", "    /approve", null],
  ["tab-indented code", "\t/approve", null],
  ["command on the second line", "thanks\n/approve", null],
  ["no slash", "approve", null],
  ["empty", "", null],
  ["only whitespace", " \n\t\n", null],
  ["unknown command", "/lgtm", null],
];

describe("parseCommand", () => {
  it.each(cases)("%s", (_name, body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it("never throws, and a first line that is not a command gives null", () => {
    const token = fc.constantFrom("/approve", "/APPROVE", "/reject", "/choose", "/approved", " ", "\t", "\n", "\r\n", "> ", "`", "x", "ok", "a1");
    const body = fc.oneof(fc.string(), fc.array(token, { maxLength: 12 }).map((tokens) => tokens.join("")));
    fc.assert(
      fc.property(body, (text) => {
        const result = parseCommand(text);
        const first = (text.split("\n").find((line) => line.trim() !== "") ?? "").trim().toLowerCase();
        const looksLikeCommand = ["/approve", "/reject", "/choose"].some((command) => first.startsWith(command));
        if (!looksLikeCommand) expect(result).toBeNull();
        if (result !== null) expect(result.justification).not.toBe("");
      }),
      { numRuns: 2000 },
    );
  });
});
