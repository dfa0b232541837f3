import { formatConfigErrors, loadConfigYaml, parseConfigLayers, type ConfigSource } from "../config/parse-config.js";
import { canonicalRepo } from "../core/repo-name.js";
import type { LoadedConfig } from "../engine/ports.js";
import { hasStatus, splitRepo, type Octokit } from "./octokit.js";

/** Where a repository's policy may live, in the order they are tried. */
export const CONFIG_PATHS = [".hitl.yml", ".github/hitl.yml"] as const;
const MAX_EXTENDS_DEPTH = 3;

/** The raw text of a file on the default branch (no `ref`: GitHub serves the default branch). */
export async function readFile(octokit: Octokit, repoName: string, path: string, ref?: string): Promise<string | null> {
  const { owner, repo } = splitRepo(repoName);
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ...(ref ? { ref } : {}), mediaType: { format: "raw" } });
    return typeof data === "string" ? data : null;
  } catch (error) {
    if (hasStatus(error, 404)) return null;
    throw error;
  }
}

async function findConfigFile(octokit: Octokit, repo: string): Promise<{ file: string; text: string } | null> {
  for (const path of CONFIG_PATHS) {
    const text = await readFile(octokit, repo, path);
    if (text !== null) return { file: path, text };
  }
  return null;
}

/** `_extends: repo`, `owner/repo` or `owner/repo:path`, read relative to the extending repo. */
function resolveExtends(value: string, fromRepo: string, fromFile: string): { repo: string; file: string } {
  const [target = "", path] = value.split(":");
  const repo = canonicalRepo(target.includes("/") ? target : `${splitRepo(fromRepo).owner}/${target}`);
  return { repo, file: path ?? fromFile };
}

/**
 * Loads a repository's `.hitl.yml` from its default branch, falling back to the organisation's
 * `.github` repository, and following `_extends`. A broken file yields `config: null` and an
 * error report, never a partial policy: no rule from it applies.
 */
export async function loadConfig(octokit: Octokit, repo: string): Promise<LoadedConfig> {
  let found = await findConfigFile(octokit, repo);
  let source = repo;
  if (!found) {
    const orgRepo = `${splitRepo(repo).owner}/.github`;
    if (orgRepo !== repo) {
      found = await findConfigFile(octokit, orgRepo);
      source = orgRepo;
    }
  }
  if (!found) return { config: null, error: null, file: null };

  const label = (layer: { repo: string; file: string }) => (layer.repo === repo ? layer.file : `${layer.repo}:${layer.file}`);
  const sources: ConfigSource[] = [];
  let current: { repo: string; file: string; text: string } | null = { repo: source, ...found };
  for (let depth = 0; current; depth++) {
    sources.unshift({ text: current.text, file: label(current) });
    const loaded = loadConfigYaml(current.text, label(current));
    const extendsValue = loaded.ok && isRecord(loaded.value) ? loaded.value._extends : undefined;
    if (typeof extendsValue !== "string") break;
    if (depth >= MAX_EXTENDS_DEPTH) {
      return { config: null, error: `${label(current)}: _extends goes deeper than ${MAX_EXTENDS_DEPTH} files`, file: label(current) };
    }
    const target = resolveExtends(extendsValue, current.repo, current.file);
    const text = await readFile(octokit, target.repo, target.file);
    if (text === null) {
      return { config: null, error: `${label(current)}: _extends names ${target.repo}:${target.file}, which does not exist or cannot be read`, file: label(current) };
    }
    current = { ...target, text };
  }
  const file = label({ repo: source, file: found.file });
  const parsed = parseConfigLayers(sources);
  return parsed.ok ? { config: parsed.config, error: null, file } : { config: null, error: formatConfigErrors(parsed.errors), file };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
