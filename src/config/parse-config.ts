import { constructFromEvents, EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE, YAMLException, type Event } from "js-yaml";
import type { z } from "zod";
import { hitlConfigSchema, type HitlConfig } from "./schema.js";

/** One problem in a `.hitl.yml`, located for the person who can fix it. Lines and columns start at 1. */
export interface ConfigError {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the offending key, `""` for the whole file. */
  path: string;
  message: string;
  /** The values or keys that would have been accepted, where there is a fixed list. */
  allowed?: string[];
}

export type ParseConfigResult = { ok: true; config: HitlConfig } | { ok: false; errors: ConfigError[] };
export type LoadYamlResult = { ok: true; value: unknown } | { ok: false; errors: ConfigError[] };

/** One file's text and the name to report it under, e.g. `.hitl.yml` or `octo-org/.github:.hitl.yml`. */
export interface ConfigSource {
  text: string;
  file: string;
}

/**
 * Parses and validates one `.hitl.yml`. Never throws: YAML syntax errors come back with
 * js-yaml's position, schema errors with the position of the offending node. An empty file is
 * a valid empty configuration.
 */
export function parseConfig(text: string, file: string): ParseConfigResult {
  return parseConfigLayers([{ text, file }]);
}

/**
 * Parses several files that extend one another, base first, and validates their merge (see
 * `mergeConfigs`). Each error is reported in the file that holds the offending key.
 */
export function parseConfigLayers(sources: ConfigSource[]): ParseConfigResult {
  const layers: { source: ConfigSource; value: unknown }[] = [];
  for (const source of sources) {
    const loaded = loadConfigYaml(source.text, source.file);
    if (!loaded.ok) return loaded;
    layers.push({ source, value: loaded.value });
  }
  const merged = layers.reduce<unknown>((base, layer) => (base === undefined ? layer.value : mergeConfigs(base, layer.value)), undefined);
  try {
    return validate(merged ?? {}, layers.map((layer) => layer.source));
  } catch (error) {
    // The limits above keep the schema's walk small; this is the boundary should one be missed.
    const file = sources.at(-1)?.file ?? "";
    return { ok: false, errors: [{ file, line: 1, column: 1, path: "", message: `could not be checked: ${error instanceof Error ? error.message : String(error)}` }] };
  }
}

/**
 * Hard limits on one `.hitl.yml`, so that a hostile file (an alias bomb, deep nesting, a huge
 * file) is refused in milliseconds instead of hanging or exhausting the process. Every file
 * that sets a policy by hand is far below them.
 */
export const CONFIG_LIMITS = {
  /** The file's size in bytes (UTF-8). */
  bytes: 256 * 1024,
  /** Mappings and lists inside one another, aliases expanded. */
  depth: 32,
  /** Aliases (`*name`) in the file. */
  aliases: 100,
  /** Values plus characters of text once every alias is expanded (about the file's size without aliases). */
  expanded: 1_000_000,
} as const;

const TOO_DEEP = `mappings and lists nest deeper than ${CONFIG_LIMITS.depth} levels; at most ${CONFIG_LIMITS.depth} are allowed`;

/** Reads the YAML only, without the schema: an empty document is `{}`. Never throws. */
export function loadConfigYaml(text: string, file: string): LoadYamlResult {
  const fail = (line: number, column: number, message: string): LoadYamlResult => ({ ok: false, errors: [{ file, line, column, path: "", message }] });
  try {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > CONFIG_LIMITS.bytes) return fail(1, 1, `the file is ${bytes} bytes; at most ${CONFIG_LIMITS.bytes} are allowed`);
    const events = parseEvents(text, { filename: file });
    const tooBig = expansionProblem(events, text);
    if (tooBig) {
      const { line, column } = lineColumnIn(lineStarts(text), tooBig.offset);
      return fail(line, column, tooBig.message);
    }
    const documents = constructFromEvents(events, { source: text, filename: file });
    if (documents.length > 1) return fail(1, 1, `expected one YAML document, found ${documents.length}`);
    return { ok: true, value: documents[0] ?? {} };
  } catch (error) {
    if (error instanceof YAMLException) {
      // The parser stops at its own, higher, depth limit before the walk below sees the events.
      const reason = error.reason.startsWith("nesting exceeded maxDepth") ? TOO_DEEP : error.reason;
      return fail((error.mark?.line ?? 0) + 1, (error.mark?.column ?? 0) + 1, reason);
    }
    return fail(1, 1, error instanceof Error ? error.message : String(error));
  }
}

interface Measure {
  /** Values and characters below and including the node, aliases expanded. */
  size: number;
  /** Levels of mappings and lists, the node's own included. */
  height: number;
}

/**
 * Walks the events once and measures the document as it will be once loaded: an alias counts
 * as everything its anchor holds. That is what a billion-laughs file multiplies, and what the
 * schema, the store and the JSON of a request would otherwise walk.
 */
function expansionProblem(events: Event[], text: string): { offset: number; message: string } | null {
  const anchors = new Map<string, Measure>();
  /** The containers (and documents) not closed yet, innermost last. */
  const open: { anchor: string | null; container: boolean; measure: Measure }[] = [];
  let depth = 0;
  let total = 0;
  let aliases = 0;
  const anchorOf = (event: { anchorStart: number; anchorEnd: number }) => (event.anchorStart >= 0 ? text.slice(event.anchorStart, event.anchorEnd) : null);
  const tooDeep = (offset: number) => ({ offset, message: TOO_DEEP });
  const tooBig = (offset: number) => ({ offset, message: `aliases (*name) expand the file past ${CONFIG_LIMITS.expanded} values and characters; at most ${CONFIG_LIMITS.expanded} are allowed` });
  /** A finished child: its parent grows by it. */
  const child = (measure: Measure) => {
    const parent = open.at(-1);
    if (!parent) return;
    parent.measure.size += measure.size;
    parent.measure.height = Math.max(parent.measure.height, measure.height + 1);
  };
  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        const measure = { size: 1 + Math.max(0, event.valueEnd - event.valueStart), height: 0 };
        const anchor = anchorOf(event);
        if (anchor !== null) anchors.set(anchor, measure);
        child(measure);
        total += measure.size;
        if (total > CONFIG_LIMITS.expanded) return tooBig(Math.max(0, event.valueStart));
        break;
      }
      case EVENT_ID.ALIAS: {
        const offset = Math.max(0, event.anchorStart - 1);
        const name = anchorOf(event) ?? "";
        if (++aliases > CONFIG_LIMITS.aliases) return { offset, message: `more than ${CONFIG_LIMITS.aliases} aliases (*name); at most ${CONFIG_LIMITS.aliases} are allowed` };
        if (open.some((frame) => frame.anchor === name)) return { offset, message: `the alias *${name} is inside the mapping or list it names` };
        const measure = anchors.get(name) ?? { size: 1, height: 0 };
        child(measure);
        total += measure.size;
        if (total > CONFIG_LIMITS.expanded) return tooBig(offset);
        if (depth + measure.height > CONFIG_LIMITS.depth) return tooDeep(offset);
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE:
        open.push({ anchor: anchorOf(event), container: true, measure: { size: 1, height: 1 } });
        total += 1;
        if (++depth > CONFIG_LIMITS.depth) return tooDeep(event.start);
        break;
      case EVENT_ID.DOCUMENT:
        open.push({ anchor: null, container: false, measure: { size: 0, height: 0 } });
        break;
      case EVENT_ID.POP: {
        const frame = open.pop();
        if (!frame?.container) break;
        depth -= 1;
        if (frame.anchor !== null) anchors.set(frame.anchor, frame.measure);
        child(frame.measure);
        break;
      }
    }
  }
  return null;
}

/**
 * `_extends`: the extending file (`override`) wins key by key at the top level. A key's value
 * is taken whole, so arrays (approvers, rules, escalation) are replaced, never concatenated,
 * and an object such as `fallback` is never stitched together from two files. `people:` alone is
 * merged one level down, login by login, each person's entry still taken whole.
 */
export function mergeConfigs(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged = { ...base, ...override };
  // `people:` is a directory an organisation keeps once: merged person by person (each entry whole).
  if (isPlainObject(base.people) && isPlainObject(override.people)) merged.people = { ...base.people, ...override.people };
  return merged;
}

/** `.hitl.yml:3:5 approvers.0: expected string, got number 5` — one line per error. */
export function formatConfigErrors(errors: ConfigError[]): string {
  return errors
    .map((error) => {
      const where = `${error.file}:${error.line}:${error.column}`;
      const path = error.path ? ` ${error.path}:` : "";
      const listed = error.allowed && error.allowed.length > 0 && !error.message.includes(error.allowed.join(", "));
      return `${where}${path} ${error.message}${listed ? `. Allowed values: ${error.allowed!.join(", ")}` : ""}`;
    })
    .join("\n");
}

type Path = (string | number)[];
type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

interface Located {
  path: Path;
  message: string;
  allowed?: string[];
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
}

const UNION_TOKEN = "\u0000union";

function validate(value: unknown, sources: ConfigSource[]): ParseConfigResult {
  // The error map sees each issue with the schema that raised it; that is the only place the
  // allowed keys of a strict object are known, so they are kept aside under a token message.
  const allowedKeys = new Map<string, string[]>();
  const result = hitlConfigSchema.safeParse(value, {
    reportInput: true,
    error: (issue) => issueMessage(issue, allowedKeys),
  });
  if (result.success) return { ok: true, config: result.data };
  // A file with thousands of errors (a list of 100,000 wrong values) is not worth listing whole,
  // nor locating: only the first issues are, and the rest are mentioned in one last line.
  const issues = result.error.issues;
  const located = issues.slice(0, MAX_LOCATED_ISSUES).flatMap((issue) => flatten(issue, [], allowedKeys));
  const maps = sources.map((source) => ({ source, positions: positionMap(source.text), lines: lineStarts(source.text) }));
  const fileOrder = (error: ConfigError) => sources.findIndex((source) => source.file === error.file);
  const errors = dedupe(located.map((item) => locate(item, maps))).sort(
    (a, b) => fileOrder(a) - fileOrder(b) || a.line - b.line || a.column - b.column,
  );
  if (errors.length <= MAX_REPORTED_ERRORS && issues.length <= MAX_LOCATED_ISSUES) return { ok: false, errors };
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  const last = shown.at(-1)!;
  return { ok: false, errors: [...shown, { file: last.file, line: last.line, column: last.column, path: "", message: "more errors not listed; fix these first" }] };
}

/** How many of the schema's issues are located, and how many errors are reported. */
const MAX_LOCATED_ISSUES = 1_000;
const MAX_REPORTED_ERRORS = 100;

function issueMessage(issue: RawIssue, allowedKeys: Map<string, string[]>): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "required" : `expected ${article(issue.expected)}, got ${describeValue(issue.input)}`;
    case "invalid_value":
      return issue.values.length === 1 ? `expected ${formatLiteral(issue.values[0])}, got ${describeValue(issue.input)}` : `${describeValue(issue.input)} is not allowed`;
    case "too_small":
      return sizeMessage("at least", issue.origin, issue.minimum, issue.inclusive ?? true);
    case "too_big":
      return sizeMessage("at most", issue.origin, issue.maximum, issue.inclusive ?? true);
    case "unrecognized_keys": {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      const token = `\u0000keys${allowedKeys.size}`;
      allowedKeys.set(token, shape ? Object.keys(shape) : []);
      return token;
    }
    case "invalid_union":
      return UNION_TOKEN;
    default:
      return undefined;
  }
}

function sizeMessage(bound: "at least" | "at most", origin: string, limit: number | bigint, inclusive: boolean): string {
  const n = Number(limit);
  if (origin === "array") return `needs ${bound} ${n} item${n === 1 ? "" : "s"}`;
  if (origin === "string") return n === 1 && bound === "at least" ? "must not be empty" : `needs ${bound} ${n} characters`;
  if (!inclusive) return `must be ${bound === "at least" ? "above" : "below"} ${n}`;
  return `must be ${bound} ${n}`;
}

/** Turns zod issues into one located item per problem, choosing the closest union branch. */
function flatten(issue: Issue, base: Path, allowedKeys: Map<string, string[]>): Located[] {
  const path = [...base, ...issue.path.map((key) => (typeof key === "symbol" ? String(key) : key))];
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeys.get(issue.message) ?? [];
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: allowed.length > 0 ? `unknown key ${describeValue(key)} — allowed keys: ${allowed.join(", ")}` : `unknown key ${describeValue(key)}`,
      ...(allowed.length > 0 ? { allowed } : {}),
      atKey: true,
    }));
  }
  if (issue.code === "invalid_value") {
    return [{ path, message: issue.message, allowed: issue.values.map(formatLiteral) }];
  }
  if (issue.code === "invalid_union") {
    const discriminated = issue as Issue & { discriminator?: string; options?: unknown[] };
    if (discriminated.discriminator !== undefined) {
      const input = (issue as { input?: unknown }).input;
      const value = isPlainObject(input) ? input[discriminated.discriminator] : undefined;
      return [
        {
          path,
          message: value === undefined ? "required" : `${describeValue(value)} is not allowed`,
          allowed: (discriminated.options ?? []).map(formatLiteral),
        },
      ];
    }
    const branches = issue.errors.map((branch) => branch.flatMap((inner) => flatten(inner, path, allowedKeys)));
    const wrongShape = (branch: Issue[]) => branch.some((inner) => inner.path.length === 0 && (inner.code === "invalid_type" || inner.code === "invalid_value"));
    let best: Located[] | null = null;
    issue.errors.forEach((branch, index) => {
      if (wrongShape(branch)) return;
      if (best === null || branches[index]!.length < best.length) best = branches[index]!;
    });
    if (best) return best;
    const allowed = issue.errors.flatMap((branch) => branch.flatMap((inner) => (inner.code === "invalid_value" ? inner.values.map(formatLiteral) : [])));
    const message = issue.message === UNION_TOKEN ? unionMessage(issue) : issue.message;
    return [{ path, message, ...(allowed.length > 0 ? { allowed } : {}) }];
  }
  return [{ path, message: issue.message }];
}

function unionMessage(issue: Issue & { code: "invalid_union" }): string {
  const expected = issue.errors.flatMap((branch) =>
    branch.flatMap((inner) => (inner.code === "invalid_type" ? [article(inner.expected)] : inner.code === "invalid_value" ? inner.values.map(formatLiteral) : [])),
  );
  const input = (issue as { input?: unknown }).input;
  const alternatives = [...new Set(expected)];
  const list = alternatives.length > 1 ? `${alternatives.slice(0, -1).join(", ")} or ${alternatives.at(-1)}` : (alternatives[0] ?? "something else");
  return input === undefined ? "required" : `expected ${list}, got ${describeValue(input)}`;
}

interface NodePosition {
  /** Offset of the key, for entries of a mapping. */
  key: number | null;
  /** Offset of the value; null for an empty value (`key:` with nothing after it). */
  value: number | null;
}

interface SourcePositions {
  source: ConfigSource;
  positions: Map<string, NodePosition>;
  /** Offsets at which each line starts. */
  lines: number[];
}

function locate(item: Located, maps: SourcePositions[]): ConfigError {
  // The file that holds the deepest part of the path wins; on a tie the extending file does.
  let chosen: { map: SourcePositions; depth: number; position: NodePosition } | null = null;
  for (let i = maps.length - 1; i >= 0; i--) {
    const map = maps[i]!;
    for (let depth = item.path.length; depth >= 0; depth--) {
      const position = map.positions.get(pathKey(item.path.slice(0, depth)));
      if (!position) continue;
      if (!chosen || depth > chosen.depth) chosen = { map, depth, position };
      break;
    }
  }
  const file = chosen?.map.source.file ?? maps.at(-1)?.source.file ?? "";
  let offset = 0;
  if (chosen) {
    const exact = chosen.depth === item.path.length;
    const { key, value } = chosen.position;
    offset = (exact && item.atKey ? (key ?? value) : (value ?? key)) ?? 0;
  }
  const { line, column } = chosen ? lineColumnIn(chosen.map.lines, offset) : { line: 1, column: 1 };
  return {
    file,
    line,
    column,
    path: item.path.join("."),
    message: item.message,
    ...(item.allowed && item.allowed.length > 0 ? { allowed: [...new Set(item.allowed)] } : {}),
  };
}

function pathKey(path: Path): string {
  return path.map(String).join("\u0000");
}

interface Frame {
  kind: "mapping" | "sequence";
  path: Path;
  index: number;
  /** Mappings: the key just read, waiting for its value. */
  pendingKey: { name: string; offset: number } | null;
}

/**
 * Where each node of the YAML starts, by path, from js-yaml's event stream. Only called for a
 * file that has already loaded, so the events are well formed; any surprise yields a partial
 * map and errors fall back to the nearest parent that was found.
 */
function positionMap(text: string): Map<string, NodePosition> {
  const positions = new Map<string, NodePosition>();
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return positions;
  }
  const stack: Frame[] = [];
  // A complex key (a mapping or sequence used as a key) is skipped with its whole subtree.
  let skipDepth = 0;

  const place = (offset: number | null, isContainer: boolean, open: () => Frame | null): void => {
    const frame = stack.at(-1);
    if (!frame) {
      positions.set(pathKey([]), { key: null, value: offset });
      const child = open();
      if (child) stack.push(child);
      return;
    }
    if (frame.kind === "sequence") {
      const path = [...frame.path, frame.index++];
      positions.set(pathKey(path), { key: null, value: offset });
      const child = isContainer ? open() : null;
      if (child) stack.push({ ...child, path });
      return;
    }
    if (!frame.pendingKey) return;
    const path = [...frame.path, frame.pendingKey.name];
    positions.set(pathKey(path), { key: frame.pendingKey.offset, value: offset });
    frame.pendingKey = null;
    const child = isContainer ? open() : null;
    if (child) stack.push({ ...child, path });
  };

  for (const event of events) {
    if (skipDepth > 0) {
      if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) skipDepth++;
      else if (event.type === EVENT_ID.POP) skipDepth--;
      continue;
    }
    const frame = stack.at(-1);
    const awaitingKey = frame?.kind === "mapping" && frame.pendingKey === null;
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        const offset = scalarOffset(event);
        if (awaitingKey) frame.pendingKey = { name: getScalarValue(text, event), offset: offset ?? 0 };
        else place(offset, false, () => null);
        break;
      }
      case EVENT_ID.ALIAS: {
        const offset = event.anchorStart >= 0 ? event.anchorStart - 1 : null;
        if (awaitingKey) frame.pendingKey = { name: "", offset: offset ?? 0 };
        else place(offset, false, () => null);
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        if (awaitingKey) {
          skipDepth = 1;
          frame.pendingKey = { name: "", offset: event.start };
          break;
        }
        const kind = event.type === EVENT_ID.MAPPING ? "mapping" : "sequence";
        const offset = firstOffset([event.anchorStart >= 0 ? event.anchorStart - 1 : -1, event.tagStart, event.start]);
        place(offset, true, () => ({ kind, path: [], index: 0, pendingKey: null }));
        break;
      }
      case EVENT_ID.POP:
        stack.pop();
        break;
      default:
        break;
    }
  }
  return positions;
}

function scalarOffset(event: Extract<Event, { type: typeof EVENT_ID.SCALAR }>): number | null {
  if (event.valueStart < 0) return firstOffset([event.anchorStart >= 0 ? event.anchorStart - 1 : -1, event.tagStart]);
  const quoted = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED;
  return firstOffset([event.anchorStart >= 0 ? event.anchorStart - 1 : -1, event.tagStart, quoted ? event.valueStart - 1 : event.valueStart]);
}

function firstOffset(offsets: number[]): number | null {
  const present = offsets.filter((offset) => offset >= 0);
  return present.length > 0 ? Math.min(...present) : null;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** Line and column of an offset, by binary search: a file may have thousands of errors. */
function lineColumnIn(starts: number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

function dedupe(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.file}:${error.line}:${error.column}:${error.path}:${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function article(type: string): string {
  if (type === "array") return "a list";
  if (type === "object") return "a mapping";
  if (type === "int") return "a whole number";
  if (type === "null" || type === "undefined") return type;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function formatLiteral(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `'${value.length > QUOTED ? `${value.slice(0, QUOTED)}…` : value}'`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`;
  return String(value);
}

/** How much of a wrong text value an error quotes: enough to recognise it. */
const QUOTED = 80;
