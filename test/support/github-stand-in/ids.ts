import { createHash } from "node:crypto";

/**
 * A stable positive id for a named thing, so the stand-in and the webhook helpers give the same
 * login (or repository, or team) the same id without sharing any state.
 */
export function stableId(kind: string, key: string): number {
  const digest = createHash("sha256").update(`${kind}:${key.toLowerCase()}`).digest();
  return (digest.readUInt32BE(0) % 900_000_000) + 100_000_000;
}

/** GitHub's legacy global node id: base64 of `0<length>:<Type><id>`, e.g. `04:User21031067`. */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
}

export function userId(login: string): number {
  return stableId("user", login);
}

export function repoId(fullName: string): number {
  return stableId("repo", fullName);
}

export function teamId(orgSlug: string): number {
  return stableId("team", orgSlug);
}
