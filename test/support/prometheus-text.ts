/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` by metric family. */
  types: Map<string, string>;
  /** `# HELP` by metric family. */
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/**
 * Parses the Prometheus text format (version 0.0.4): comments, label values with their escapes
 * (`\\`, `\"`, `\n`), special values (`+Inf`, `-Inf`, `NaN`), and an optional timestamp. Throws
 * on a line it cannot read, so a malformed exposition fails the test that scrapes it.
 */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === "HELP" ? help : types).set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith("#")) continue;
    samples.push(parseSample(line, index + 1));
  }
  return { samples, types, help };
}

function parseSample(line: string, lineNumber: number): Sample {
  const fail = (why: string): never => {
    throw new Error(`exposition line ${lineNumber}: ${why}: ${line}`);
  };
  const name = NAME.exec(line)?.[0] ?? fail("no metric name");
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    while (!rest.startsWith("}")) {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest) ?? fail("bad label");
      rest = rest.slice(label[0].length);
      let value = "";
      for (;;) {
        const char = rest[0] ?? fail("unterminated label value");
        rest = rest.slice(1);
        if (char === '"') break;
        if (char === "\\") {
          const escaped = rest[0] ?? fail("dangling escape");
          rest = rest.slice(1);
          value += escaped === "n" ? "\n" : escaped === "\\" || escaped === '"' ? escaped : fail(`unknown escape \\${escaped}`);
        } else value += char;
      }
      if (label[1]! in labels) fail(`label ${label[1]} twice`);
      labels[label[1]!] = value;
      if (rest.startsWith(",")) rest = rest.slice(1);
      else if (!rest.startsWith("}")) fail("expected , or }");
    }
    rest = rest.slice(1);
  }
  const parts = rest.trim().split(/\s+/);
  if (!rest.startsWith(" ") || parts.length < 1 || parts.length > 2) fail("expected a value");
  const raw = parts[0]!;
  const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? NaN : Number(raw);
  if (Number.isNaN(value) && raw !== "NaN") fail("value is not a number");
  return { name, labels, value };
}

/** The samples named `name`, as `{labels…} value` lines sorted, for exact comparison. */
export function samplesOf(exposition: Exposition, name: string): string[] {
  return exposition.samples
    .filter((sample) => sample.name === name)
    .map((sample) => `${JSON.stringify(Object.fromEntries(Object.entries(sample.labels).sort(([a], [b]) => a.localeCompare(b))))} ${sample.value}`)
    .sort();
}
