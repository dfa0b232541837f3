import { constructFromEvents, EVENT_ID, parseEvents } from "js-yaml";
import { CONFIG_LIMITS } from "../config/parse-config.js";
import type { EditableField } from "./types.js";

/**
 * Approving with changes: a fenced `yaml` or `json` block in the comment or review that
 * approves, holding `field: value` lines for fields the request declared editable. The block is
 * untrusted text, so it is read with hard limits and only as a flat mapping of plain values.
 */

/** A fenced block found in a decision's text, not yet parsed. */
export interface EditsBlock {
  format: "yaml" | "json";
  text: string;
}

export type ParsedEdits = { ok: true; fields: Record<string, unknown> } | { ok: false; problem: string };
export type EditsCheck = { ok: true; edited: Record<string, unknown> } | { ok: false; problems: string[] };

export const EDIT_LIMITS = {
  /** The block's size in bytes (UTF-8): far below a `.hitl.yml`'s, as it holds a few values. */
  bytes: Math.min(CONFIG_LIMITS.bytes, 16 * 1024),
  /** Fields in one block. */
  fields: 50,
} as const;

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*(yaml|yml|json)[ \t]*$/i;

/**
 * Takes the first fenced `yaml`, `yml` or `json` block out of a decision's text: the block is
 * the edits, the rest the justification. Text without such a block is returned as it was.
 */
export function extractEdits(text: string | null): { justification: string | null; edits: EditsBlock | null } {
  if (text === null) return { justification: null, edits: null };
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => FENCE_OPEN.test(line));
  if (start < 0) return { justification: text, edits: null };
  const [, fence, info] = FENCE_OPEN.exec(lines[start]!)!;
  const closes = new RegExp(`^ {0,3}${fence![0] === "`" ? "`" : "~"}{${fence!.length},}[ \\t]*$`);
  const end = lines.findIndex((line, index) => index > start && closes.test(line));
  const inner = lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
  const rest = [...lines.slice(0, start), ...(end < 0 ? [] : lines.slice(end + 1))].join("\n").trim();
  return { justification: rest === "" ? null : rest, edits: { format: info!.toLowerCase() === "json" ? "json" : "yaml", text: inner } };
}

/** Reads a block as a flat mapping of field names to plain values. Never throws. */
export function parseEdits(block: EditsBlock): ParsedEdits {
  const fail = (problem: string): ParsedEdits => ({ ok: false, problem });
  const bytes = Buffer.byteLength(block.text, "utf8");
  if (bytes > EDIT_LIMITS.bytes) return fail(`the block is ${bytes} bytes; at most ${EDIT_LIMITS.bytes} are allowed`);
  let value: unknown;
  try {
    value = block.format === "json" ? JSON.parse(block.text) : loadFlatYaml(block.text);
  } catch (error) {
    return fail(`the ${block.format} block could not be read: ${oneLineMessage(error)}`);
  }
  if (value === null || value === undefined) return fail("the block holds no fields");
  if (typeof value !== "object" || Array.isArray(value)) return fail("the block must be a mapping of field names to values, such as `amount: 80`");
  const fields = value as Record<string, unknown>;
  const count = Object.keys(fields).length;
  if (count === 0) return fail("the block holds no fields");
  if (count > EDIT_LIMITS.fields) return fail(`the block has ${count} fields; at most ${EDIT_LIMITS.fields} are allowed`);
  return { ok: true, fields };
}

/** YAML with no aliases and no nesting: one mapping whose values are scalars. */
function loadFlatYaml(text: string): unknown {
  const events = parseEvents(text, {});
  let depth = 0;
  for (const event of events) {
    if (event.type === EVENT_ID.ALIAS) throw new Error("aliases (*name) are not allowed");
    if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) {
      if (++depth > 1) throw new Error("values must be plain numbers, strings or booleans, not lists or mappings");
    } else if (event.type === EVENT_ID.POP && depth > 0) depth -= 1;
  }
  const documents = constructFromEvents(events, { source: text });
  if (documents.length > 1) throw new Error(`expected one YAML document, found ${documents.length}`);
  return documents[0] ?? null;
}

function oneLineMessage(error: unknown): string {
  const message = error instanceof Error ? (("reason" in error && typeof error.reason === "string" ? error.reason : error.message) as string) : String(error);
  return message.split("\n")[0]!.slice(0, 200);
}

/**
 * Checks edits against what the request allows. Every problem is named, by field; with any
 * problem nothing is applied. Fields given their current value are not edits.
 */
export function checkEdits(fields: Record<string, unknown>, editable: Record<string, EditableField>, original: Record<string, unknown>): EditsCheck {
  const problems: string[] = [];
  const allowed = Object.keys(editable);
  // Entries, not assignment, so a field named __proto__ stays a field.
  const edited: [string, unknown][] = [];
  for (const [name, value] of Object.entries(fields)) {
    const spec = Object.hasOwn(editable, name) ? editable[name] : undefined;
    if (!spec) {
      problems.push(allowed.length > 0 ? `${name} may not be changed; the fields you may change are ${allowed.join(", ")}` : `${name} may not be changed; this request has no editable fields`);
      continue;
    }
    const problem = fieldProblem(value, spec);
    if (problem) problems.push(`${name} ${problem}`);
    else if (value !== (Object.hasOwn(original, name) ? original[name] : undefined)) edited.push([name, value]);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, edited: Object.fromEntries(edited) };
}

function fieldProblem(value: unknown, spec: EditableField): string | null {
  switch (spec.type) {
    case "number":
      if (typeof value !== "number") return `must be a number, not ${describe(value)}`;
      if (!Number.isFinite(value)) return `must be a finite number, not ${value}`;
      if (spec.minimum !== undefined && value < spec.minimum) return `must be at least ${spec.minimum}, not ${value}`;
      if (spec.maximum !== undefined && value > spec.maximum) return `must be at most ${spec.maximum}, not ${value}`;
      return null;
    case "string":
      if (typeof value !== "string") return `must be text, not ${describe(value)}`;
      if (spec.enum && !spec.enum.includes(value)) return `must be one of ${spec.enum.join(", ")}`;
      if (spec.maxLength !== undefined && value.length > spec.maxLength) return `must be at most ${spec.maxLength} characters, not ${value.length}`;
      return null;
    case "boolean":
      return typeof value === "boolean" ? null : `must be true or false, not ${describe(value)}`;
  }
}

function describe(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "string") return "text";
  return typeof value === "object" ? "a mapping" : `a ${typeof value}`;
}

/** An editable field as written in a request or `.hitl.yml` (`max_length` in snake case). */
export type EditableFieldSpec =
  | { type: "number"; minimum?: number | undefined; maximum?: number | undefined }
  | { type: "string"; max_length?: number | undefined; enum?: string[] | undefined }
  | { type: "boolean" };

export function toEditableField(field: EditableFieldSpec): EditableField {
  switch (field.type) {
    case "number":
      return { type: "number", ...(field.minimum !== undefined ? { minimum: field.minimum } : {}), ...(field.maximum !== undefined ? { maximum: field.maximum } : {}) };
    case "string":
      return { type: "string", ...(field.max_length !== undefined ? { maxLength: field.max_length } : {}), ...(field.enum ? { enum: field.enum } : {}) };
    case "boolean":
      return { type: "boolean" };
  }
}

/** Whether a value of decision_data has the type an editable field declares. */
export function hasEditableType(type: EditableField["type"], value: unknown): boolean {
  return typeof value === type;
}

/** Whether two declarations of a field give an approver exactly the same room. */
export function sameEditableField(a: EditableField, b: EditableField): boolean {
  const canonical = (field: EditableField) => JSON.stringify(Object.entries(field).sort(([x], [y]) => (x < y ? -1 : 1)));
  return canonical(a) === canonical(b);
}

/** The bounds of an editable field in a few words: "number, 0 to 500". */
export function describeEditable(spec: EditableField): string {
  switch (spec.type) {
    case "number": {
      if (spec.minimum !== undefined && spec.maximum !== undefined) return `number, ${spec.minimum} to ${spec.maximum}`;
      if (spec.minimum !== undefined) return `number, at least ${spec.minimum}`;
      if (spec.maximum !== undefined) return `number, at most ${spec.maximum}`;
      return "number";
    }
    case "string":
      if (spec.enum) return `one of ${spec.enum.join(", ")}`;
      return spec.maxLength !== undefined ? `text, at most ${spec.maxLength} characters` : "text";
    case "boolean":
      return "true or false";
  }
}
