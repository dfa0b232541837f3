import { describe, expect, it } from "vitest";
import { readReplyCommand } from "../../src/channels/email/reply-command.js";

describe("readReplyCommand", () => {
  it.each([
    ["approve", { ok: true, action: "approve", justification: null }],
    ["Approve looks right\n", { ok: true, action: "approve", justification: "looks right" }],
    ["\n\n  /reject too_high\nWe agreed on 50.\n", { ok: true, action: "reject", justification: "too_high\nWe agreed on 50." }],
    ["choose refund-half split it\n", { ok: true, action: "refund-half", justification: "split it" }],
    ["approve\r\nfine by me\r\n\r\nOn Tue, 24 Nov 2026 at 10:00, hitl <hitl@example.com> wrote:\r\n> reject\r\n", { ok: true, action: "approve", justification: "fine by me" }],
    ["reject\n-- \nAlice\nreject everything", { ok: true, action: "reject", justification: null }],
    ["approve\n-----Original Message-----\nFrom: hitl\n", { ok: true, action: "approve", justification: null }],
    // hitl's own mail quoted unmarked: the reason ends at its first line, at a link, at a reply address.
    ["reject\nno\nVon: hitl\n\nA decision is needed from you.\nRefund", { ok: true, action: "reject", justification: "no\nVon: hitl" }],
    ["approve ok\nApprove: Refund\nhttps://hitl.example.com/l/eyJyIjoi.AaN1odZ\nmore", { ok: true, action: "approve", justification: "ok\nApprove: Refund" }],
    ["approve ok\nsee <reply+req_1.alice.x.y.z@reply.example.com>", { ok: true, action: "approve", justification: "ok" }],
  ])("reads %j", (text, expected) => {
    expect(readReplyCommand(text)).toEqual(expected);
  });

  it.each([
    ["", "the reply is empty: its first line must be approve, reject or choose <id>"],
    ["> approve\n", "the reply is empty: its first line must be approve, reject or choose <id>"],
    ["Sounds good, approve it", "the reply's first line must be approve, reject or choose <id>"],
    ["approved", "the reply's first line must be approve, reject or choose <id>"],
    ["choose", "choose needs the id of an action: choose <id>"],
  ])("refuses %j", (text, problem) => {
    expect(readReplyCommand(text)).toEqual({ ok: false, problem });
  });
});
