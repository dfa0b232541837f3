import { describe, expect, it } from "vitest";
import {
  codeCell,
  codeFence,
  codeSpan,
  describeFallback,
  formatTime,
  listWords,
  mention,
  quietMention,
  safeCell,
  safeInline,
  truncate,
} from "../../../src/core/render/format.js";
import type { Fallback } from "../../../src/core/types.js";

const ZWJ = "\u200D";

describe("formatTime", () => {
  it.each([
    ["2026-11-27T10:00:00.000Z", "27 Nov 2026 10:00 UTC"],
    ["2026-01-05T09:07:59Z", "5 Jan 2026 09:07 UTC"],
    ["2026-11-27T23:30:00+02:00", "27 Nov 2026 21:30 UTC"],
    ["2027-12-31T23:59:00Z", "31 Dec 2027 23:59 UTC"],
    ["not a date", "not a date"],
  ])("%s → %s", (iso, expected) => {
    expect(formatTime(iso)).toBe(expected);
  });
});

describe("describeFallback", () => {
  it.each<[Fallback, string]>([
    [{ type: "abort", reason: "nobody answered" }, "the request is aborted: nobody answered"],
    [{ type: "abort", reason: "no answer in 72h.", cleanup: "delete the draft" }, "the request is aborted and the agent cleans up (delete the draft): no answer in 72h"],
    [{ type: "use_default", action: "reject" }, "the default action `reject` is taken"],
    [{ type: "use_default", action: "approve", value: { amount: 50 }, reason: "small enough" }, 'the default action `approve` is taken with the value `{"amount":50}`: small enough'],
    [{ type: "degrade", mode: "read-only", reason: "safe without a human" }, "the agent continues in degraded mode `read-only`: safe without a human"],
    [{ type: "delegate", approvers: ["bob", "@octo-org/leads"], extend_by: "24h" }, `the request is handed to @${ZWJ}bob, @${ZWJ}octo-org/leads with 24h more to decide`],
    [{ type: "delegate", rule: "night-shift" }, "the request is handed to rule `night-shift`"],
    [{ type: "delegate" }, "the request is delegated"],
    [{ type: "retry_with_modification", modifications: { amount: 50, note: "half" }, reason: "try a smaller refund" }, 'the agent retries with `amount` set to `50`, `note` set to `"half"`: try a smaller refund'],
    [{ type: "retry_with_modification", modifications: {} }, "the agent retries with changes"],
    [{ type: "abort", reason: "ask @security <b>now</b>" }, `the request is aborted: ask @${ZWJ}security &lt;b&gt;now&lt;/b&gt;`],
    [{ type: "degrade", mode: "read\u202Eonly\n" }, "the agent continues in degraded mode `readonly`"],
    [{ type: "use_default", action: "approve", value: "x\u202Ey" }, 'the default action `approve` is taken with the value `"x\\u202ey"`'],
  ])("%j", (fallback, expected) => {
    expect(describeFallback(fallback)).toBe(expected);
  });
});

describe("safe markdown", () => {
  it("neutralises mentions, HTML and line breaks in agent text", () => {
    expect(safeInline("ping @alice and @octo-org/leads\n# heading\n<!-- hitl:request:x -->")).toBe(
      `ping @${ZWJ}alice and @${ZWJ}octo-org/leads # heading &lt;!-- hitl:request:x --&gt;`,
    );
  });

  it("breaks emails but leaves a lone @ alone", () => {
    expect(safeInline("mail bob@example.com @ noon (@carol)")).toBe(`mail bob@${ZWJ}example.com @ noon (@${ZWJ}carol)`);
  });

  it("breaks links, references and SHAs, and writes link, emphasis, code and math syntax as entities", () => {
    expect(safeInline("see https://evil.example and www.evil.example")).toBe(`see https:${ZWJ}//evil.example and www${ZWJ}.evil.example`);
    expect(safeInline("fixes #12, octo-org/payments#3 and GH-4")).toBe(`fixes #${ZWJ}12, octo-org/payments#${ZWJ}3 and GH-${ZWJ}4`);
    expect(safeInline("commit a5c3785ed8d6")).toBe(`commit a5c378${ZWJ}5ed8d6`);
    expect(safeInline("[x](https://e) ![i](u) **Approved** _a_ ~~b~~ `c` $d$")).toBe(
      `&#91;x&#93;(https:${ZWJ}//e) !&#91;i&#93;(u) &#42;&#42;Approved&#42;&#42; &#95;a&#95; &#126;&#126;b&#126;&#126; &#96;c&#96; &#36;d&#36;`,
    );
  });

  it("drops invisible and direction characters", () => {
    expect(safeInline("a\u202Eb\u2066c\u200Bd\u200De\uFEFFf\u00ADg\u{E0041}h\u0007i")).toBe("abcdefghi");
    expect(safeInline("@\u200Balice #\u200C1")).toBe(`@${ZWJ}alice #${ZWJ}1`);
  });

  it("escapes backslashes and existing entities so the text shows as written", () => {
    expect(safeInline("C:\\temp &lt; &amp")).toBe("C:&#92;temp &amp;lt; &amp");
  });

  it("escapes pipes, backticks and newlines in table cells", () => {
    expect(safeCell("a | b\n`c`")).toBe("a &#124; b &#96;c&#96;");
  });

  it("shows ids and hashes as code in cells, anything odd as text", () => {
    expect(codeCell("req_abc-1")).toBe("`req_abc-1`");
    expect(codeCell("a|b")).toBe("a&#124;b");
  });

  it("picks a code span longer than any backtick run inside", () => {
    expect(codeSpan("plain")).toBe("`plain`");
    expect(codeSpan("a `b` c")).toBe("``a `b` c``");
    expect(codeSpan("`x`")).toBe("`` `x` ``");
  });

  it("picks a fence longer than any backtick run inside", () => {
    expect(codeFence('{"a": "```"}', "json")).toBe('````json\n{"a": "```"}\n````');
    expect(codeFence("{}")).toBe("```\n{}\n```");
  });

  it("mentions only valid logins and teams", () => {
    expect(mention("alice")).toBe("@alice");
    expect(mention("@octo-org/finance")).toBe("@octo-org/finance");
    expect(mention("dependabot[bot]")).toBe("dependabot&#91;bot&#93;");
    expect(mention("x @everyone")).toBe(`x @${ZWJ}everyone`);
    expect(quietMention("alice")).toBe(`@${ZWJ}alice`);
  });

  it("cuts long text at a word boundary near the end", () => {
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("Refund order 1234 for customer", 20)).toBe("Refund order 1234…");
    expect(truncate("abcdefghijklmnopqrstuvwxyz", 10)).toBe("abcdefghi…");
  });

  it("lists words", () => {
    expect(listWords(["a"])).toBe("a");
    expect(listWords(["a", "b", "c"])).toBe("a, b and c");
    expect(listWords(["a", "b"], "or")).toBe("a or b");
  });
});
