/** A decision command from a comment. */
export type Command =
  | { type: "approve"; justification: string | null }
  | { type: "reject"; justification: string | null }
  | { type: "choose"; actionId: string; justification: string | null }
  /** Withdraws the commenter's vote on a request that needs several. */
  | { type: "retract"; justification: string | null };

// The command word must end at whitespace or the line's end: `/approved`, `/approve-all` and
// `/approve:` are not commands.
const COMMAND = /^\/(approve|reject|choose|retract)(?=\s|$)(.*)$/is;
const CHOOSE_ARGS = /^\s*(\S+)(.*)$/s;

/**
 * The command on the first non-empty line of a comment, or null. The rest of that line and the
 * lines after it are the justification. Quotes (`> /approve`), inline code and code blocks
 * (fenced, or indented four spaces) are not commands.
 */
export function parseCommand(body: string): Command | null {
  const lines = body.split(/\r?\n/);
  const first = lines.findIndex((line) => line.trim() !== "");
  const line = lines[first];
  if (line === undefined || isIndentedCode(line)) return null;

  const match = COMMAND.exec(line.trim());
  if (!match) return null;
  const type = match[1]!.toLowerCase() as Command["type"];
  const following = lines.slice(first + 1);
  if (type !== "choose") return { type, justification: justification([match[2]!, ...following]) };

  // The action id must be on the command's line.
  const args = CHOOSE_ARGS.exec(match[2]!);
  if (!args) return null;
  return { type, actionId: args[1]!, justification: justification([args[2]!, ...following]) };
}

function isIndentedCode(line: string): boolean {
  return /^( {4}|\t)/.test(line);
}

function justification(lines: string[]): string | null {
  const trimmed = lines.join("\n").trim();
  return trimmed === "" ? null : trimmed;
}
