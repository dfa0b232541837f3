/**
 * `/hitl suggest` (list the suggestions) or `/hitl suggest sug_…` (open one as a pull request),
 * alone on the first non-empty line of a comment; null for anything else. Quoted, indented or
 * followed by other words, it is not the command.
 */
export function parseSuggestCommand(body: string): { id: string | null } | null {
  const line = body.split(/\r?\n/).find((candidate) => candidate.trim() !== "");
  if (line === undefined || /^( {4}|\t)/.test(line)) return null;
  const match = /^\/hitl\s+suggest(?:\s+(sug_[0-9a-f]{16}))?$/i.exec(line.trim());
  return match ? { id: match[1] ?? null } : null;
}
