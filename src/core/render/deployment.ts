import type { ApprovalRequest } from "../types.js";
import { codeCell, codeSpan, quietMention } from "./format.js";

/**
 * A deployment's context on its issue: where it goes, what, the commit and the workflow run
 * (links hitl built from the repository and the event's checked ids), and who triggered it, named
 * without a ping. Null for an agent's request.
 */
export function deploymentSection(request: ApprovalRequest): string | null {
  const deployment = request.deployment;
  if (!deployment) return null;
  const people = [...new Set([deployment.creator, deployment.sender].filter((login): login is string => Boolean(login)))];
  const rows: [string, string][] = [
    ["Environment", codeCell(deployment.environment)],
    ["Ref", codeCell(deployment.ref)],
    ["Commit", `[${codeSpan(deployment.sha.slice(0, 7))}](${deployment.commitUrl})`],
    ["Workflow run", `[${deployment.runId}](${deployment.runUrl})${deployment.event ? ` (${codeCell(deployment.event)})` : ""}`],
    ["Triggered by", people.length > 0 ? people.map((login) => quietMention(login)).join(", ") : "unknown"],
    ["Policy", deployment.policy === null ? "not named in `.hitl.yml` `environments:`; the repository's approvers decide" : `\`.hitl.yml\` \`environments:\` ${codeCell(deployment.policy)}`],
  ];
  return [
    "### Deployment",
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    "",
    "The workflow run waits for this decision. Whoever triggered the deployment may not approve it.",
  ].join("\n");
}
