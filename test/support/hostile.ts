/**
 * Shapes of hostile input, built as text so that building them never recurses: the test that
 * sends 10,000 nested lists must not overflow its own stack first.
 */

/**
 * A `.hitl.yml` holding a billion laughs under `fallback.value`, a key the schema takes as-is:
 * each level is nine aliases of the one before, so `levels` levels expand to 9^levels strings.
 * From six levels on, the expansion passes the parser's limit at line 10, column 24.
 */
export function aliasBomb(levels: number): string {
  const lines = ["fallback:", "  type: use_default", "  action: approve", "  value:", '    l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++) lines.push(`    l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]`);
  return `${lines.join("\n")}\n`;
}

/** JSON text of `depth` lists, one inside the other, around `1`. */
export function nestedJson(depth: number): string {
  return `${"[".repeat(depth)}1${"]".repeat(depth)}`;
}

/** A JSON request body with `json` spliced in as the value at `key` of `body` (a top-level key, or `a.b` one level down). */
export function spliceJson(body: Record<string, unknown>, key: string, json: string): string {
  const marker = "\u0000splice\u0000";
  const [outer, inner] = key.split(".") as [string, string | undefined];
  const copy: Record<string, unknown> = { ...body };
  copy[outer] = inner === undefined ? marker : { ...(copy[outer] as Record<string, unknown>), [inner]: marker };
  return JSON.stringify(copy).replace(JSON.stringify(marker), json);
}
