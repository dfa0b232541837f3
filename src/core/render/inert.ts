/**
 * Text hitl did not write (agents' strings, commenters' reasons) as one inert line of plain text.
 *
 * Removed: every invisible character — format characters (zero-width spaces and joiners, the
 * direction marks, embeddings, overrides and isolates U+200E/F, U+202A–E, U+2066–9, the soft
 * hyphen, tag characters…), control characters and the Hangul fillers — so the text cannot hide
 * words or show them in another order than they are read. Line breaks become spaces.
 *
 * Broken: everything GitHub (or Slack) would turn into a link, a mention or a reference. GitHub
 * finds `@login`, `@org/team`, `#123`, `owner/repo#123`, `GH-123`, commit SHAs and bare URLs in
 * the text of the rendered HTML (its filters skip only code and links), so an HTML entity such as
 * `&#64;` does not help: the markdown step decodes it back to `@` before the filters run. What
 * does help is a character between the trigger and what follows, since each pattern needs them
 * adjacent (`@` directly before the login, `#` before the digits, `://` whole). hitl puts a
 * zero-width joiner there: the text reads and copies the same, and it is the only invisible
 * character hitl's output holds. Emails, `www.` links and `user@sha` fall with the same cuts.
 */

const INVISIBLE = /[\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0]/gu;
const JOINER = "\u200D";

/** One line, invisible characters removed, nothing that links, mentions or references. */
export function inertText(text: string): string {
  return breakReferences(oneLine(text));
}

/** One line without invisible characters. */
export function oneLine(text: string): string {
  // U+FEFF counts as white space to JavaScript but shows as nothing.
  return text.replace(/\uFEFF/g, "").replace(/\s+/g, " ").replace(INVISIBLE, "").replace(/ {2,}/g, " ").trim();
}

/** Puts a joiner after each character that would start a link, mention or reference. */
export function breakReferences(text: string): string {
  return (
    text
      // Commit SHAs are 7 or more hex digits; no run that long is left whole.
      .replace(/[0-9a-f]{7,}/gi, (run) => run.replace(/.{6}(?=.)/g, `$&${JOINER}`))
      // @login, @org/team, emails, user@sha; Slack's @channel.
      .replace(/@(?=[\p{L}\p{N}])/gu, `@${JOINER}`)
      // #123, owner/repo#123.
      .replace(/#(?=\d)/g, `#${JOINER}`)
      // GH-123 and the repository's own autolink prefixes (JIRA-123).
      .replace(/(?<=\p{L})-(?=\d)/gu, `-${JOINER}`)
      // https://…, and any other scheme.
      .replace(/:(?=\/\/)/g, `:${JOINER}`)
      // www.example.com
      .replace(/(?<=www)(?=\.)/gi, JOINER)
  );
}

/**
 * Inert text for a chat message: as `inertText`, and Slack's `<!channel>`, `<@U…>`, `<#C…>`
 * and `<https://…|text>` broken too, for Slack-like receivers that do not escape them.
 */
export function inertChatText(text: string): string {
  return inertText(text).replace(/<(?=[!@#\p{L}])/gu, `<${JOINER}`);
}

/** JSON with invisible characters written as `\uXXXX` escapes, so they show instead of hiding. */
export function visibleJson(value: unknown, space?: number): string {
  const json = JSON.stringify(value, null, space) ?? "null";
  // Inside JSON strings every such character is data; the only raw ones outside are the
  // newlines of the indentation, which stay.
  return json.replace(/(?!\n)[\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0\u2028\u2029]/gu, (char) =>
    [...Array(char.length).keys()].map((i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`).join(""),
  );
}

/** Text for Slack's mrkdwn with `&`, `<` and `>` escaped as Slack asks, so no `<!here>`, `<@U…>` or `<url|text>` is read. */
export function slackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
