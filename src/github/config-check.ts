import { formatConfigErrors, parseConfig, type ConfigError } from "../config/parse-config.js";
import { CONFIG_PATHS, readFile } from "./config-reader.js";
import { splitRepo, type Octokit } from "./octokit.js";

export const CONFIG_CHECK_NAME = "hitl/config";
const MAX_ANNOTATIONS = 50;
/** GitHub's limits: a summary of 65,535 characters, an annotation title of 255 and a message of 64 KB. */
const MAX_SUMMARY = 65_535;
const MAX_TITLE = 255;
const MAX_MESSAGE = 16_000;

/** A hostile file can make an error as long as itself; GitHub would refuse the whole check run. */
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export const isConfigPath = (path: string) => (CONFIG_PATHS as readonly string[]).includes(path);

function annotation(path: string, error: ConfigError) {
  const listed = error.allowed?.length && !error.message.includes(error.allowed.join(", "));
  const allowed = listed ? `. Allowed values: ${error.allowed!.join(", ")}` : "";
  return {
    path,
    start_line: error.line,
    end_line: error.line,
    start_column: error.column,
    end_column: error.column,
    annotation_level: "failure" as const,
    title: error.path ? clip(error.path, MAX_TITLE) : "YAML",
    message: clip(`${error.message}${allowed}`, MAX_MESSAGE),
  };
}

/**
 * Validates the policy file `path` as it is at `sha` and reports it on that commit as the
 * `hitl/config` check run, with each error at its line and column. Returns whether it is valid.
 */
export async function checkConfigAt(octokit: Octokit, repoName: string, sha: string, path: string): Promise<boolean> {
  const { owner, repo } = splitRepo(repoName);
  const text = await readFile(octokit, repoName, path, sha);
  if (text === null) return true;
  const parsed = parseConfig(text, path);
  const base = { owner, repo, name: CONFIG_CHECK_NAME, head_sha: sha, status: "completed" as const };
  if (parsed.ok) {
    const rules = parsed.config.rules?.length ?? 0;
    const shadow = parsed.config.rules.filter((rule) => rule.mode === "shadow").map((rule) => rule.id);
    const shadowNote = shadow.length === 0 ? "" : ` ${shadow.length === 1 ? "Rule" : "Rules"} ${shadow.join(", ")} ${shadow.length === 1 ? "is" : "are"} in shadow mode: ${shadow.length === 1 ? "it decides" : "they decide"} nothing, and the stats show how often people agree.`;
    await octokit.rest.checks.create({
      ...base,
      conclusion: "success",
      output: {
        title: `${path} is valid`,
        summary: `${path} is valid: ${rules} delegation rule${rules === 1 ? "" : "s"}. It takes effect once it is on the default branch.${shadowNote}`,
      },
    });
    return true;
  }
  const lines = formatConfigErrors(parsed.errors).split("\n").map((line) => `- ${line}`);
  await octokit.rest.checks.create({
    ...base,
    conclusion: "failure",
    output: {
      title: `${path} has ${parsed.errors.length} error${parsed.errors.length === 1 ? "" : "s"}`,
      summary: clip(
        [
          `hitl cannot use ${path} as it is at this commit. While it is broken on the default branch, no delegation rule or auto-approval applies: every request goes to a person.`,
          "",
          ...lines,
        ].join("\n"),
        MAX_SUMMARY,
      ),
      annotations: parsed.errors.slice(0, MAX_ANNOTATIONS).map((error) => annotation(path, error)),
    },
  });
  return false;
}
