/**
 * Bounds on free-form JSON an agent sends (`decision_data`, a fallback's `value` and
 * `modifications`). Hashing, storing and rendering walk it recursively, so without a bound a
 * body of 10,000 nested lists exhausts the stack; every real payload is far below both.
 */
export const DATA_LIMITS = {
  /** Objects and lists inside one another. */
  depth: 20,
  /** Keys of objects plus items of lists, counted through the whole value. */
  entries: 10_000,
} as const;

/** What is wrong with `value`'s shape, or null. Walks without recursion, so any depth is safe. */
export function dataLimitProblem(value: unknown): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  let entries = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth >= DATA_LIMITS.depth) return `must not nest objects and lists more than ${DATA_LIMITS.depth} deep`;
    const children = Array.isArray(current) ? current : Object.values(current);
    entries += children.length;
    if (entries > DATA_LIMITS.entries) return `must not hold more than ${DATA_LIMITS.entries} keys and list items in all`;
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
  return null;
}
