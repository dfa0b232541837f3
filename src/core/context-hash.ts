import { createHash } from "node:crypto";

/** JSON with object keys sorted at every depth, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/** SHA-256 (hex) of the canonical JSON of what an approver is shown. */
export function contextHash(context: unknown): string {
  return createHash("sha256").update(canonicalJson(context)).digest("hex");
}
