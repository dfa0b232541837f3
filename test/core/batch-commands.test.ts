import { describe, expect, it } from "vitest";
import { parseBatchCommand, parseCommand, selectRows, type BatchCommand, type RowSelector } from "../../src/core/commands.js";

const rows = (text: string, ranges: [number, number][]): RowSelector => ({ type: "rows", text, ranges });

const cases: [string, string, BatchCommand | null][] = [
  ["approve all", "/approve all", { type: "approve", rows: { type: "all" }, justification: null }],
  ["approve all with a reason", "/approve ALL looks right", { type: "approve", rows: { type: "all" }, justification: "looks right" }],
  ["rows and ranges", "/approve 1,3-5 checked", { type: "approve", rows: rows("1,3-5", [[1, 1], [3, 5]]), justification: "checked" }],
  ["reject one row with a reason code", "/reject 2 duplicate-order wrong customer", { type: "reject", rows: rows("2", [[2, 2]]), justification: "duplicate-order wrong customer" }],
  ["reason on the next line", "/reject 2\nnot this week", { type: "reject", rows: rows("2", [[2, 2]]), justification: "not this week" }],
  ["a reversed range is read as written", "/approve 5-3", { type: "approve", rows: rows("5-3", [[5, 3]]), justification: null }],
  ["no rows", "/approve looks good", { type: "unsupported", command: "approve" }],
  ["bare approve", "/approve", { type: "unsupported", command: "approve" }],
  ["a word glued to the rows", "/approve 1,2x", { type: "unsupported", command: "approve" }],
  ["a trailing comma", "/approve 1,", { type: "unsupported", command: "approve" }],
  ["more than nine digits", "/approve 1-9999999999", { type: "unsupported", command: "approve" }],
  ["more than twenty parts", `/approve ${Array.from({ length: 21 }, (_, i) => i + 1).join(",")}`, { type: "unsupported", command: "approve" }],
  ["choose", "/choose refund 1", { type: "unsupported", command: "choose" }],
  ["retract", "/retract", { type: "unsupported", command: "retract" }],
  ["quoted", "> /approve all", null],
  ["not a command", "approve all", null],
];

describe("parseBatchCommand", () => {
  it.each(cases)("%s", (_name, body, expected) => {
    expect(parseBatchCommand(body)).toEqual(expected);
  });

  it("leaves the plain commands as they were: on an issue that is no batch, `/approve 1 looks good` is an approval with that reason", () => {
    expect(parseCommand("/approve 1 looks good")).toEqual({ type: "approve", justification: "1 looks good" });
    expect(parseCommand("/approve all")).toEqual({ type: "approve", justification: "all" });
    expect(parseCommand("/reject 2")).toEqual({ type: "reject", justification: "2" });
  });
});

describe("selectRows", () => {
  const batch = [1, 2, 3, 4, 5];
  it("every row for all, in order", () => {
    expect(selectRows({ type: "all" }, [3, 1, 2])).toEqual({ ok: true, rows: [1, 2, 3] });
  });
  it("rows and ranges, in order", () => {
    expect(selectRows(rows("4,1-2", [[4, 4], [1, 2]]), batch)).toEqual({ ok: true, rows: [1, 2, 4] });
  });
  it("names rows that are not in the batch, a hole left by a crash too", () => {
    expect(selectRows(rows("6", [[6, 6]]), batch)).toEqual({ ok: false, problems: [{ type: "unknown", part: "6" }] });
    expect(selectRows(rows("0", [[0, 0]]), batch)).toEqual({ ok: false, problems: [{ type: "unknown", part: "0" }] });
    expect(selectRows(rows("1-3", [[1, 3]]), [1, 3])).toEqual({ ok: false, problems: [{ type: "unknown", part: "2" }] });
  });
  it("names reversed ranges and repeated rows", () => {
    expect(selectRows(rows("3-1,2,2-3", [[3, 1], [2, 2], [2, 3]]), batch)).toEqual({
      ok: false,
      problems: [
        { type: "reversed", part: "3-1" },
        { type: "repeated", row: 2 },
      ],
    });
  });
  it("checks a huge range by its ends: one problem, nothing counted", () => {
    expect(selectRows(rows("1-999999999", [[1, 999_999_999]]), batch)).toEqual({ ok: false, problems: [{ type: "unknown", part: "1-999999999" }] });
    expect(selectRows(rows("999999998-999999999", [[999_999_998, 999_999_999]]), batch)).toEqual({ ok: false, problems: [{ type: "unknown", part: "999999998-999999999" }] });
  });
});
