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

/** Rows a batch command names: every row, or ranges as written (`1,3-5` is [1,1], [3,5]). */
export type RowSelector = { type: "all" } | { type: "rows"; ranges: [number, number][]; text: string };

/** A command on a batch issue: `/approve all [why]`, `/approve 1,3-5 [why]`, `/reject 2 [why]`. */
export type BatchCommand =
  | { type: "approve" | "reject"; rows: RowSelector; justification: string | null }
  /** A command a batch issue does not take as written (no rows named, `/choose`, `/retract`). */
  | { type: "unsupported"; command: Command["type"] };

// At most 20 parts of at most 9 digits each: nothing hostile is ever expanded or looped over.
const ROW_SELECTOR = /^(all|\d{1,9}(?:-\d{1,9})?(?:,\d{1,9}(?:-\d{1,9})?){0,19})(?=\s|$)(.*)$/is;

/**
 * A command on a batch issue: the command word, then `all` or the rows, then the reason. Read
 * only on a batch issue; on any other issue `/approve 1 looks good` is a plain `/approve` whose
 * reason is "1 looks good", as it always was.
 */
export function parseBatchCommand(body: string): BatchCommand | null {
  const command = parseCommand(body);
  if (!command) return null;
  if (command.type !== "approve" && command.type !== "reject") return { type: "unsupported", command: command.type };
  const match = ROW_SELECTOR.exec(command.justification ?? "");
  if (!match) return { type: "unsupported", command: command.type };
  const selector = match[1]!;
  const rows: RowSelector =
    selector.toLowerCase() === "all"
      ? { type: "all" }
      : {
          type: "rows",
          text: selector,
          ranges: selector.split(",").map((part) => {
            const [from, to = from] = part.split("-");
            return [Number(from), Number(to)] as [number, number];
          }),
        };
  return { type: command.type, rows, justification: justification([match[2]!]) };
}

/** What is wrong with the rows a command names, each named as written. */
export type RowProblem =
  | { type: "unknown"; part: string }
  | { type: "reversed"; part: string }
  | { type: "repeated"; row: number };

/**
 * The rows a selector names among `rows` (the batch's row numbers), or every problem with it.
 * A range is checked by its ends before anything is counted, so `1-999999999` is one
 * `unknown` problem, never a billion rows.
 */
export function selectRows(selector: RowSelector, rows: number[]): { ok: true; rows: number[] } | { ok: false; problems: RowProblem[] } {
  const known = new Set(rows);
  if (selector.type === "all") return { ok: true, rows: [...known].sort((a, b) => a - b) };
  const problems: RowProblem[] = [];
  const chosen: number[] = [];
  const max = Math.max(0, ...rows);
  for (const [from, to] of selector.ranges) {
    const part = from === to ? String(from) : `${from}-${to}`;
    if (from > to) problems.push({ type: "reversed", part });
    else if (from < 1 || to > max) problems.push({ type: "unknown", part });
    else {
      for (let row = from; row <= to; row++) {
        if (!known.has(row)) problems.push({ type: "unknown", part: String(row) });
        else if (chosen.includes(row)) problems.push({ type: "repeated", row });
        else chosen.push(row);
      }
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rows: chosen.sort((a, b) => a - b) };
}
