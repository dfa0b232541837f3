/**
 * Which decision-data values are sensitive, and the request with them taken out (pure).
 * A path names a key of decision_data, or of an object inside it: `customer.email`.
 */

/** What every surface shows in place of a sensitive value. */
export const SENSITIVE_PLACEHOLDER = "[sensitive: kept off GitHub]";

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** The value at a dotted path; `found: false` when some step is missing or not an object. */
export function valueAt(data: Record<string, unknown>, path: string): { found: true; value: unknown } | { found: false } {
  let current: unknown = data;
  for (const key of path.split(".")) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return { found: false };
    current = current[key];
  }
  return { found: true, value: current };
}

function withValueAt(data: Record<string, unknown>, keys: string[], value: unknown): Record<string, unknown> {
  const [key, ...rest] = keys as [string, ...string[]];
  const inner = data[key];
  return { ...data, [key]: rest.length === 0 ? value : withValueAt(isRecord(inner) ? inner : {}, rest, value) };
}

/**
 * The paths, sorted and without duplicates, that name a value of `data`; a path under another
 * (`customer` and `customer.email`) is covered by it and dropped.
 */
export function presentPaths(data: Record<string, unknown>, paths: readonly string[]): string[] {
  const found = [...new Set(paths)].filter((path) => valueAt(data, path).found).sort();
  return found.filter((path) => !found.some((other) => other !== path && path.startsWith(`${other}.`)));
}

/** `data` with every path's value replaced by the placeholder, and those values by path. */
export function withheld(data: Record<string, unknown>, paths: readonly string[], placeholder = SENSITIVE_PLACEHOLDER): { shown: Record<string, unknown>; values: Record<string, unknown> } {
  let shown = data;
  const values: Record<string, unknown> = {};
  for (const path of paths) {
    const at = valueAt(data, path);
    if (!at.found) continue;
    values[path] = at.value;
    shown = withValueAt(shown, path.split("."), placeholder);
  }
  return { shown, values };
}

/** `shown` with the withheld values put back. */
export function restored(shown: Record<string, unknown>, values: Record<string, unknown>): Record<string, unknown> {
  let data = shown;
  for (const [path, value] of Object.entries(values)) data = withValueAt(data, path.split("."), value);
  return data;
}

/** What a surface says instead of the values: how many, which, and where people see them. */
export function sensitiveNotice(paths: readonly string[], code: (path: string) => string): string {
  const names = paths.map(code).join(", ");
  const count = paths.length === 1 ? "1 sensitive field is" : `${paths.length} sensitive fields are`;
  return `${count} kept off GitHub: ${names}. Approvers see the values on the one-click confirmation page, or ask the requesting agent.`;
}

/** Whether `field` is at, under or above one of the sensitive paths. */
export function touchesSensitive(field: string, paths: readonly string[]): boolean {
  return paths.some((path) => field === path || field.startsWith(`${path}.`) || path.startsWith(`${field}.`));
}

interface FieldTest {
  all?: FieldTest[] | undefined;
  any?: FieldTest[] | undefined;
  not?: FieldTest | undefined;
  field?: string | undefined;
}

/** Every `field` a condition tree tests. */
export function testedFields(condition: FieldTest): string[] {
  return [
    ...(condition.field !== undefined ? [condition.field] : []),
    ...(condition.all ?? []).flatMap(testedFields),
    ...(condition.any ?? []).flatMap(testedFields),
    ...(condition.not ? testedFields(condition.not) : []),
  ];
}
