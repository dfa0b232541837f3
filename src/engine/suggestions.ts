import { addRuleToConfig } from "../insights/config-edit.js";
import { suggestionCommitMessage, suggestionOpenedComment, suggestionPullRequestBody, suggestionsComment, suggestionTitle } from "../insights/suggestion-markdown.js";
import { suggestRules, type Suggestion } from "../insights/suggestions.js";
import type { ApprovalRequest } from "../core/types.js";
import type { Agent, EngineContext } from "./context.js";
import { HitlError } from "./errors.js";
import type { ConfigPullRequest } from "./ports.js";

/** At most this many of the most recent requests of each decided status are read for one answer. */
export const HISTORY_PER_STATUS = 2_000;
const DECIDED = ["approved", "rejected", "superseded"] as const;

/** Roles on the repository that may ask for suggestions on GitHub. */
const OWNER_ROLES = new Set(["admin", "maintain"]);

/** What hitl answers someone who may not ask. */
export const SUGGEST_REFUSED = "Only a person with admin or maintain permission on this repository can ask hitl for suggestions.";

/** A `/hitl suggest` comment, as the handler hands it on. */
export interface SuggestComment {
  repo: string;
  number: number;
  /** Null for a deleted account. */
  user: { login: string; type: string } | null;
  /** The suggestion to open; null lists them. */
  id: string | null;
}

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

  const api = {
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
      if (!pullRequest) {
        throw new HitlError("config_branch_taken", 409, `The branch ${branch} exists, but hitl did not open a pull request from it: its content is not hitl's to vouch for. Delete the branch, then ask again.`);
      }
      return { suggestion, pullRequest };
    },
  };

  return {
    ...api,

    /**
     * `/hitl suggest` on any issue or pull request: an admin or maintainer gets the suggestions
     * (or, with an id, the pull request adding one) as a reply. Bots and agents' own accounts are
     * ignored without a word; anyone else is told who may ask. Returns what was answered.
     */
    async suggestFromComment(comment: SuggestComment): Promise<"ignored" | "refused" | "answered"> {
      const { user, repo, number } = comment;
      const agents = new Set((ctx.agentAccounts ?? []).map((login) => login.toLowerCase()));
      if (!user || user.type !== "User" || user.login.endsWith("[bot]") || agents.has(user.login.toLowerCase())) return "ignored";
      const installationId = await github.installationId(repo);
      if (installationId === null) return "ignored";
      if (!OWNER_ROLES.has(await github.permission(installationId, repo, user.login))) {
        await github.reply(installationId, repo, number, SUGGEST_REFUSED);
        return "refused";
      }
      let answer: string;
      try {
        if (comment.id === null) {
          answer = suggestionsComment((await api.suggestions(repo, { login: user.login })).suggestions);
        } else {
          const { pullRequest } = await api.openSuggestionPullRequest(repo, comment.id, { login: user.login });
          answer = suggestionOpenedComment(comment.id, pullRequest);
        }
      } catch (error) {
        if (!(error instanceof HitlError) || error.status >= 500) throw error;
        answer = comment.id === null ? `hitl cannot list suggestions: ${error.message}` : `hitl cannot open \`${comment.id}\`: ${error.message}`;
      }
      await github.reply(installationId, repo, number, answer);
      return "answered";
    },
  };
}
