import fc from "fast-check";

/** One edit of a text: what a careless hand or a bad merge does to a YAML file. */
export type TextEdit = { kind: "delete"; at: number; length: number } | { kind: "insert"; at: number; text: string } | { kind: "swap-lines"; a: number; b: number };

/** Deletions, insertions of `noise` or of random bytes, and swapped lines, anywhere in a text. */
export function textEdit(noise: string[]): fc.Arbitrary<TextEdit> {
  return fc.oneof(
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...noise), fc.string({ unit: "binary", maxLength: 8 })) }),
    fc.record({ kind: fc.constant("swap-lines" as const), a: fc.nat(), b: fc.nat() }),
  );
}

/** YAML's own punctuation and keywords, the usual noise for `textEdit`. */
export const YAML_NOISE = [":", "- ", "  ", "\t", "{", "}", "[", "]", "\n", "&a ", "*a", "!!str ", "#", "'", '"', "|\n", "? ", ",", "~", "-1"];

export function applyEdits(text: string, edits: TextEdit[]): string {
  let result = text;
  for (const change of edits) {
    if (change.kind === "delete") {
      const at = change.at % (result.length + 1);
      result = result.slice(0, at) + result.slice(at + change.length);
    } else if (change.kind === "insert") {
      const at = change.at % (result.length + 1);
      result = result.slice(0, at) + change.text + result.slice(at);
    } else {
      const lines = result.split("\n");
      const a = change.a % lines.length;
      const b = change.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      result = lines.join("\n");
    }
  }
  return result;
}
