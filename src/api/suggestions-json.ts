import type { Suggestion } from "../insights/suggestions.js";
import type { ConfigPullRequest } from "../engine/ports.js";

/** A suggestion in the API's snake_case. */
export function toApiSuggestion(suggestion: Suggestion) {
  const { evidence } = suggestion;
  return {
    id: suggestion.id,
    request_type: suggestion.requestType,
    rule: suggestion.rule as Record<string, unknown>,
    yaml: suggestion.yaml,
    evidence: {
      support: evidence.support,
      request_ids: evidence.requestIds,
      counter_examples: evidence.counterExamples.map((example) => ({ request_id: example.requestId, value: example.value, action: example.action, decided_at: example.decidedAt })),
      considered: evidence.considered,
      decided_otherwise: evidence.decidedOtherwise,
      chance: evidence.chance,
      last_decided_at: evidence.lastDecidedAt,
    },
  };
}

export function toApiSuggestionPullRequest(id: string, pull: ConfigPullRequest) {
  return { suggestion_id: id, pull_request: { number: pull.number, url: pull.url, created: pull.created } };
}
