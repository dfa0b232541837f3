import { INTRO } from "./email-message.js";

/**
 * What an email reply asks for: its first non-empty line is `approve`, `reject` or `choose <id>`
 * (a leading `/` is fine, as on GitHub), and what follows, up to the quoted message, is the reason.
 */
export type ReplyCommand = { ok: true; action: string; justification: string | null } | { ok: false; problem: string };

/** Where a mail client starts quoting the message being answered, or a signature. */
const QUOTE_START = [/^\s*>/, /^On .*wrote:\s*$/i, /^.*\bwrote:\s*$/, /^-{2,}\s*Original Message\s*-{2,}/i, /^_{10,}\s*$/, /^From:\s/i, /^-- $/, ...hitlOwnLines()];

/**
 * hitl's own mail, quoted without a mark (Outlook in other languages: "Von:", no `>`): its first
 * line, a one-click link or a reply address. The reason is shown on GitHub, to the agent and in
 * its callback, so the recipient's single-use links (and their reply address) must never be in
 * it: a leaked approve link would let the agent turn the person's vote on a quorum around.
 */
function hitlOwnLines(): RegExp[] {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [new RegExp(`^\\s*(?:${Object.values(INTRO).map(escape).join("|")})\\s*$`), /\/l\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/, /reply\+[^\s@]+@/i];
}

const COMMAND = /^\/?(approve|reject|choose)\b[ \t]*(.*)$/i;

export function readReplyCommand(text: string): ReplyCommand {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const end = lines.findIndex((line) => QUOTE_START.some((pattern) => pattern.test(line)));
  const own = (end < 0 ? lines : lines.slice(0, end)).map((line) => line.replace(/\s+$/, ""));
  const first = own.findIndex((line) => line.trim() !== "");
  if (first < 0) return { ok: false, problem: "the reply is empty: its first line must be approve, reject or choose <id>" };
  const match = COMMAND.exec(own[first]!.trim());
  if (!match) return { ok: false, problem: "the reply's first line must be approve, reject or choose <id>" };
  let verb = match[1]!.toLowerCase();
  let rest = match[2]!;
  if (verb === "choose") {
    const [id = "", ...after] = rest.split(/\s+/);
    if (id === "") return { ok: false, problem: "choose needs the id of an action: choose <id>" };
    verb = id;
    rest = after.join(" ");
  }
  const justification = [rest, ...own.slice(first + 1)].join("\n").trim();
  return { ok: true, action: verb, justification: justification === "" ? null : justification.slice(0, 2_000) };
}
