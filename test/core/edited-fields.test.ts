import { describe, expect, it } from "vitest";
import { checkEdits, describeEditable, EDIT_LIMITS, extractEdits, parseEdits } from "../../src/core/edited-fields.js";
import type { EditableField } from "../../src/core/types.js";

const EDITABLE: Record<string, EditableField> = {
  amount: { type: "number", minimum: 0, maximum: 500 },
  currency: { type: "string", enum: ["USD", "EUR"] },
  note: { type: "string", maxLength: 5 },
  urgent: { type: "boolean" },
};
const ORIGINAL = { amount: 120, currency: "USD", note: "hi", urgent: false };

describe("extractEdits", () => {
  it("takes the first yaml or json block out of the text; the rest is the justification", () => {
    expect(extractEdits("lower it\n\n```yaml\namount: 80\n```\nthanks")).toEqual({ justification: "lower it\n\nthanks", edits: { format: "yaml", text: "amount: 80" } });
    expect(extractEdits("~~~~JSON\n{\"amount\": 1}\n~~~~")).toEqual({ justification: null, edits: { format: "json", text: '{"amount": 1}' } });
    expect(extractEdits("```yml\na: 1")).toEqual({ justification: null, edits: { format: "yaml", text: "a: 1" } });
  });

  it("leaves other code blocks, and text without a block, as they were", () => {
    expect(extractEdits("see\n```ts\nconst a = 1;\n```")).toEqual({ justification: "see\n```ts\nconst a = 1;\n```", edits: null });
    expect(extractEdits(null)).toEqual({ justification: null, edits: null });
  });

  it("a shorter fence inside does not close the block", () => {
    expect(extractEdits("````yaml\nnote: \"```\"\n````")).toEqual({ justification: null, edits: { format: "yaml", text: 'note: "```"' } });
  });
});

describe("parseEdits", () => {
  it("reads a flat mapping of plain values", () => {
    expect(parseEdits({ format: "yaml", text: "amount: 80\ncurrency: EUR\nurgent: true" })).toEqual({ ok: true, fields: { amount: 80, currency: "EUR", urgent: true } });
    expect(parseEdits({ format: "json", text: '{"amount": 80}' })).toEqual({ ok: true, fields: { amount: 80 } });
  });

  it("refuses aliases, nesting, lists, several documents, empty blocks and oversized ones, naming why", () => {
    const problem = (format: "yaml" | "json", text: string) => {
      const result = parseEdits({ format, text });
      return result.ok ? null : result.problem;
    };
    expect(problem("yaml", "a: &x 1\nb: *x")).toBe("the yaml block could not be read: aliases (*name) are not allowed");
    expect(problem("yaml", "a: {b: 1}")).toBe("the yaml block could not be read: values must be plain numbers, strings or booleans, not lists or mappings");
    expect(problem("yaml", "- 1\n- 2")).toBe("the block must be a mapping of field names to values, such as `amount: 80`");
    expect(problem("yaml", "a: 1\n---\nb: 2")).toBe("the yaml block could not be read: expected one YAML document, found 2");
    expect(problem("yaml", "")).toBe("the block holds no fields");
    expect(problem("json", "{}")).toBe("the block holds no fields");
    expect(problem("json", "{nope")).toMatch(/^the json block could not be read: /);
    expect(problem("yaml", `a: "${"x".repeat(EDIT_LIMITS.bytes)}"`)).toBe(`the block is ${EDIT_LIMITS.bytes + 5} bytes; at most ${EDIT_LIMITS.bytes} are allowed`);
    const many = Array.from({ length: EDIT_LIMITS.fields + 1 }, (_, i) => `f${i}: 1`).join("\n");
    expect(problem("yaml", many)).toBe(`the block has ${EDIT_LIMITS.fields + 1} fields; at most ${EDIT_LIMITS.fields} are allowed`);
  });

  it("a deeply nested hostile block is refused quickly, without throwing", () => {
    const started = Date.now();
    expect(parseEdits({ format: "yaml", text: "[".repeat(5_000) }).ok).toBe(false);
    expect(parseEdits({ format: "json", text: "[".repeat(5_000) + "]".repeat(5_000) }).ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("checkEdits", () => {
  it("keeps the changed values within bounds; a value given unchanged is no edit", () => {
    expect(checkEdits({ amount: 80, currency: "USD", urgent: true }, EDITABLE, ORIGINAL)).toEqual({ ok: true, edited: { amount: 80, urgent: true } });
  });

  it("names every field at fault", () => {
    expect(checkEdits({ amount: -1, currency: "GBP", note: "too long", urgent: "yes", id: 7 }, EDITABLE, ORIGINAL)).toEqual({
      ok: false,
      problems: [
        "amount must be at least 0, not -1",
        "currency must be one of USD, EUR",
        "note must be at most 5 characters, not 8",
        "urgent must be true or false, not text",
        "id may not be changed; the fields you may change are amount, currency, note, urgent",
      ],
    });
    expect(checkEdits({ amount: "80" }, EDITABLE, ORIGINAL)).toEqual({ ok: false, problems: ["amount must be a number, not text"] });
    const nan = parseEdits({ format: "yaml", text: "amount: .nan\nurgent: 2026-01-01" });
    expect(nan.ok && checkEdits(nan.fields, EDITABLE, ORIGINAL)).toEqual({ ok: false, problems: ["amount must be a finite number, not NaN", "urgent must be true or false, not text"] });
    expect(checkEdits({ amount: 80 }, {}, ORIGINAL)).toEqual({ ok: false, problems: ["amount may not be changed; this request has no editable fields"] });
    // Inherited names are not editable fields.
    expect(checkEdits({ constructor: 1 }, EDITABLE, ORIGINAL)).toMatchObject({ ok: false });
  });
});

describe("a field named __proto__", () => {
  it("is a field like any other, never the prototype", () => {
    const fields = JSON.parse('{"__proto__": 5}') as Record<string, unknown>;
    const editable = JSON.parse('{"__proto__": {"type": "number"}}') as Record<string, EditableField>;
    const result = checkEdits(fields, editable, JSON.parse('{"__proto__": 1}') as Record<string, unknown>);
    expect(result.ok && Object.getPrototypeOf(result.edited)).toBe(Object.prototype);
    expect(result.ok && Object.entries(result.edited)).toEqual([["__proto__", 5]]);
  });
});

describe("describeEditable", () => {
  it("says each field's bounds in a few words", () => {
    expect(
      (
        [
          { type: "number" },
          { type: "number", minimum: 1 },
          { type: "number", maximum: 9 },
          { type: "number", minimum: 1, maximum: 9 },
          { type: "string" },
          { type: "string", maxLength: 200 },
          { type: "string", enum: ["low", "high"], maxLength: 10 },
          { type: "boolean" },
        ] as EditableField[]
      ).map(describeEditable),
    ).toEqual(["number", "number, at least 1", "number, at most 9", "number, 1 to 9", "text", "text, at most 200 characters", "one of low, high", "true or false"]);
  });
});
