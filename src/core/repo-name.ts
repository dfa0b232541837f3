/**
 * GitHub treats `Octo-Org/Payments` and `octo-org/payments` as the same repository. hitl keys
 * everything (stored requests, audit trails, `max_uses` counts, the surface a comment is on) by
 * this form, taken wherever a name comes in: the agent API, webhook payloads, policy files.
 */
export function canonicalRepo(repo: string): string {
  return repo.toLowerCase();
}
