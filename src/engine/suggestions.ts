import { addRuleToConfig } from "../insights/config-edit.js";
import { suggestionCommitMessage, suggestionPullRequestBody, suggestionTitle } from "../insights/suggestion-markdown.js";
import { suggestRules, type Suggestion } from "../insights/suggestions.js";
import type { ApprovalRequest } from "../core/types.js";
import type { Agent, EngineContext } from "./context.js";
import { HitlError } from "./errors.js";
import type { ConfigPullRequest } from "./ports.js";

/** At most this many of the most recent requests of each decided status are read for one answer. */
export const HISTORY_PER_STATUS = 2_000;
const DECIDED = ["approved", "rejected", "superseded"] as const;

/** Who asks: an operator's `read-all` token over the API, or an admin or maintainer on GitHub. */
export type SuggestionAsker = { agent: Agent } | { login: string };

/**
 * Rules proposed from a repository's history, and the pull requests that add them. Reading them
 * reveals how every request of the repository was decided, and opening one writes to it, so an
 * agent needs `read-all`; on GitHub only an admin or maintainer asks (the comment handler checks).
 */
export function createSuggestions(ctx: EngineContext) {
  const { store, github, clock } = ctx;

  function mustReadAll(asker: SuggestionAsker): void {
    if ("agent" in asker && asker.agent.readAll !== true) {
      throw new HitlError("read_all_required", 403, "Suggestions read how every request of the repository was decided: they need a token with read-all.");
    }
  }

  async function installed(repo: string): Promise<number> {
    const installationId = await github.installationId(repo);
    if (installationId === null) throw new HitlError("app_not_installed", 422, `The app is not installed on ${repo}, or the repository does not exist. Install it there first.`);
    return installationId;
  }

  async function compute(repo: string, installationId: number): Promise<{ suggestions: Suggestion[]; truncated: boolean }> {
    const [loaded, lists] = await Promise.all([github.loadConfig(installationId, repo), Promise.all(DECIDED.map((status) => store.list({ repo, status, limit: HISTORY_PER_STATUS })))]);
    const history: ApprovalRequest[] = lists.flat();
    return { suggestions: suggestRules(repo, history, loaded.config, clock()), truncated: lists.some((list) => list.length === HISTORY_PER_STATUS) };
  }

  return {
    /** The rules the repository's history supports that its `.hitl.yml` does not have yet. */
    async suggestions(repo: string, asker: SuggestionAsker): Promise<{ suggestions: Suggestion[]; truncated: boolean }> {
      mustReadAll(asker);
      return compute(repo, await installed(repo));
    },

    /**
     * Opens a pull request adding suggestion `id` to `.hitl.yml`, or answers the one already
     * opened for it (merged or closed too: the suggestion is then gone, its pull request is not).
     */
    async openSuggestionPullRequest(repo: string, id: string, asker: SuggestionAsker): Promise<{ suggestion: Suggestion | null; pullRequest: ConfigPullRequest }> {
      mustReadAll(asker);
      const installationId = await installed(repo);
      const branch = `hitl/suggest-${id}`;
      const earlier = await github.configPullRequest(installationId, repo, branch);
      const { suggestions } = await compute(repo, installationId);
      const suggestion = suggestions.find((candidate) => candidate.id === id) ?? null;
      if (earlier) return { suggestion, pullRequest: { ...earlier, created: false } };
      if (!suggestion) throw new HitlError("not_found", 404, `No suggestion ${id} for ${repo}: the history no longer supports it, or .hitl.yml has it already. GET /api/v1/suggestions lists the current ones.`);
      const askedBy = "agent" in asker ? `the operator token ${asker.agent.name}` : `@${asker.login}`;
      const pullRequest = await github.proposeConfigChange(installationId, repo, {
        branch,
        title: suggestionTitle(suggestion),
        message: suggestionCommitMessage(suggestion),
        edit(file) {
          const edited = addRuleToConfig(file?.text ?? null, suggestion.rule, suggestion.yaml);
          if (!edited.ok) throw new HitlError("config_not_editable", 409, `hitl cannot add the rule to ${file?.path ?? ".hitl.yml"}: ${edited.reason}.`);
          return edited.text;
        },
        bodyFor: (file) => suggestionPullRequestBody(suggestion, file, askedBy),
      });
      return { suggestion, pullRequest };
    },
  };
}
