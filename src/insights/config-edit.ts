import { loadConfigYaml, parseConfig } from "../config/parse-config.js";
import type { Rule } from "../config/schema.js";

export type ConfigEdit = { ok: true; text: string } | { ok: false; reason: string };

/**
 * `.hitl.yml` with one more rule at the end of `rules:`, the rest of the file kept as it was
 * written (comments, order, quoting). The rule goes last, so every rule already there still
 * comes first. The result is checked: it must parse, keep every rule the file had, and add
 * exactly this one; otherwise the reason is given and nothing is changed.
 */
export function addRuleToConfig(text: string | null, rule: Rule, ruleYaml: string): ConfigEdit {
  const current = text ?? "";
  const before = current.trim() === "" ? { ok: true as const, rules: [] as Rule[] } : ownRules(current);
  if (!before.ok) return before;
  const edited = insert(current, ruleYaml);
  if (edited === null) return { ok: false, reason: "its rules: is not a plain list hitl can add to; add the rule by hand" };
  const parsed = parseConfig(edited, ".hitl.yml");
  if (!parsed.ok || canonical(parsed.config.rules) !== canonical([...before.rules, rule])) {
    return { ok: false, reason: "adding the rule would not leave the file's other rules as they are; add the rule by hand" };
  }
  return { ok: true, text: edited };
}

/** JSON with every mapping's keys sorted, so two equal values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === "object" && inner !== null && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  );
}

/** The rules the file itself sets; a broken file, or one whose rules come from `_extends`, is refused. */
function ownRules(text: string): { ok: true; rules: Rule[] } | { ok: false; reason: string } {
  const parsed = parseConfig(text, ".hitl.yml");
  if (!parsed.ok) return { ok: false, reason: "the file has errors on the default branch; fix them first" };
  const raw = loadConfigYaml(text, ".hitl.yml");
  const value = raw.ok && typeof raw.value === "object" && raw.value !== null ? (raw.value as Record<string, unknown>) : {};
  // Its own `rules:` would replace the ones it inherits, which would drop them.
  if (value._extends !== undefined && !("rules" in value)) return { ok: false, reason: `the file takes its rules from ${String(value._extends)} (_extends); add the rule there` };
  return { ok: true, rules: parsed.config.rules };
}

const TOP_LEVEL_RULES = /^rules:[ \t]*(?:#.*)?$/;
const EMPTY_FLOW_RULES = /^rules:[ \t]*\[[ \t]*\][ \t]*(?:#.*)?$/;

/** The text with the item added under `rules:`, or null when `rules:` is written in a form this does not edit. */
function insert(text: string, ruleYaml: string): string | null {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const indented = (indent: number) => ruleYaml.replace(/\n$/, "").split("\n").map((line) => " ".repeat(indent) + line);
  const at = lines.findIndex((line) => TOP_LEVEL_RULES.test(line));
  if (at < 0) {
    const flow = lines.findIndex((line) => EMPTY_FLOW_RULES.test(line));
    if (flow >= 0) return [...lines.slice(0, flow), "rules:", ...indented(2), ...lines.slice(flow + 1)].join("\n");
    if (lines.some((line) => /^rules\s*:/.test(line))) return null;
    const body = text.replace(/\s*$/, "");
    return `${body}${body === "" ? "" : "\n\n"}rules:\n${indented(2).join("\n")}\n`;
  }
  // The block runs to the next line at column 0 that is neither a list item nor a comment.
  let end = lines.length;
  let indent: number | null = null;
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || /^\s*#/.test(line)) continue;
    if (!/^\s/.test(line) && !line.startsWith("-")) {
      end = i;
      break;
    }
    if (indent === null) {
      const item = /^(\s*)- /.exec(line) ?? /^(\s*)-$/.exec(line);
      if (!item) return null;
      indent = item[1]!.length;
    }
  }
  // After the last line of the block that holds something, before the blank lines and comments that lead to the next key.
  let last = end - 1;
  while (last > at && (lines[last]!.trim() === "" || /^#/.test(lines[last]!))) last--;
  return [...lines.slice(0, last + 1), ...indented(indent ?? 2), ...lines.slice(last + 1)].join("\n");
}
