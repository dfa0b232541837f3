import { nodeId, teamId, userId } from "./ids.js";
import {
  isCollaborator,
  userRecord,
  type CheckRunRecord,
  type CommentRecord,
  type InstallationRecord,
  type IssueRecord,
  type LabelRecord,
  type PullRecord,
  type ReactionRecord,
  type RepoRecord,
  type ReviewRecord,
  type StandInState,
} from "./state.js";

/** Turns records into the JSON GitHub's REST API answers with. */
export interface Shapes {
  user(login: string): Record<string, unknown>;
  app(): Record<string, unknown>;
  installation(installation: InstallationRecord): Record<string, unknown>;
  repo(repo: RepoRecord): Record<string, unknown>;
  label(repo: RepoRecord, label: LabelRecord): Record<string, unknown>;
  issue(repo: RepoRecord, issue: IssueRecord): Record<string, unknown>;
  comment(repo: RepoRecord, issue: IssueRecord, comment: CommentRecord): Record<string, unknown>;
  reaction(reaction: ReactionRecord): Record<string, unknown>;
  pull(repo: RepoRecord, pull: PullRecord): Record<string, unknown>;
  review(repo: RepoRecord, pull: PullRecord, review: ReviewRecord): Record<string, unknown>;
  team(org: string, slug: string): Record<string, unknown>;
  checkRun(repo: RepoRecord, run: CheckRunRecord): Record<string, unknown>;
}

const REACTION_CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"] as const;
export const isReactionContent = (value: unknown): value is string =>
  typeof value === "string" && (REACTION_CONTENTS as readonly string[]).includes(value);

/** `api` is the stand-in's base URL (with `/api/v3`); `web` is where `html_url`s point. */
export function createShapes(state: StandInState, urls: { api: string; web: string }): Shapes {
  const { api, web } = urls;

  const user = (login: string) => {
    const record = userRecord(state, login);
    const id = userId(record.login);
    return {
      login: record.login,
      id,
      node_id: nodeId(record.type === "Bot" ? "Bot" : record.type === "Organization" ? "Organization" : "User", id),
      avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
      gravatar_id: "",
      url: `${api}/users/${encodeURIComponent(record.login)}`,
      html_url: `${web}/${record.login.replace(/\[bot\]$/, "")}`,
      type: record.type,
      site_admin: false,
    };
  };

  const app = () => ({
    id: state.app.id,
    slug: state.app.slug,
    node_id: nodeId("App", state.app.id),
    name: state.app.name,
    owner: user(state.installations[0]?.account ?? "octo-org"),
    description: "",
    external_url: `${web}/apps/${state.app.slug}`,
    html_url: `${web}/apps/${state.app.slug}`,
    permissions: { checks: "write", contents: "read", issues: "write", metadata: "read", members: "read", pull_requests: "write" },
    events: ["check_run", "issue_comment", "pull_request", "pull_request_review", "push"],
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  });

  const reactionSummary = (url: string, reactions: ReactionRecord[]) => {
    const summary: Record<string, unknown> = { url, total_count: reactions.length };
    for (const content of REACTION_CONTENTS) summary[content] = reactions.filter((r) => r.content === content).length;
    return summary;
  };

  const association = (repo: RepoRecord, login: string) => {
    if (login.toLowerCase() === repo.owner.toLowerCase()) return "OWNER";
    return isCollaborator(repo, login) ? "COLLABORATOR" : "NONE";
  };

  const viaApp = (login: string) => (login === `${state.app.slug}[bot]` ? app() : null);

  const repoUrl = (repo: RepoRecord) => `${api}/repos/${repo.fullName}`;

  const label = (repo: RepoRecord, l: LabelRecord) => ({
    id: l.id,
    node_id: nodeId("Label", l.id),
    url: `${repoUrl(repo)}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    color: l.color,
    default: false,
    description: l.description,
  });

  const issue = (repo: RepoRecord, i: IssueRecord) => {
    const url = `${repoUrl(repo)}/issues/${i.number}`;
    const pull = repo.pulls.find((p) => p.number === i.number);
    const htmlUrl = `${web}/${repo.fullName}/${i.isPullRequest ? "pull" : "issues"}/${i.number}`;
    return {
      id: i.id,
      node_id: nodeId(i.isPullRequest ? "PullRequest" : "Issue", i.id),
      url,
      repository_url: repoUrl(repo),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: htmlUrl,
      number: i.number,
      state: i.state,
      state_reason: i.stateReason,
      title: i.title,
      body: i.body,
      user: user(i.user),
      labels: i.labels.map((name) => label(repo, repo.labels[name] ?? { id: 0, name, color: "ededed", description: null })),
      assignee: i.assignees[0] === undefined ? null : user(i.assignees[0]),
      assignees: i.assignees.map(user),
      milestone: null,
      locked: i.locked,
      active_lock_reason: null,
      comments: i.comments.length,
      ...(i.isPullRequest
        ? {
            pull_request: {
              url: `${repoUrl(repo)}/pulls/${i.number}`,
              html_url: htmlUrl,
              diff_url: `${htmlUrl}.diff`,
              patch_url: `${htmlUrl}.patch`,
              merged_at: pull?.mergedAt ?? null,
            },
            draft: pull?.draft ?? false,
          }
        : {}),
      closed_at: i.closedAt,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      author_association: association(repo, i.user),
      reactions: reactionSummary(`${url}/reactions`, i.reactions),
      performed_via_github_app: viaApp(i.user),
    };
  };

  const comment = (repo: RepoRecord, i: IssueRecord, c: CommentRecord) => ({
    id: c.id,
    node_id: nodeId("IssueComment", c.id),
    url: `${repoUrl(repo)}/issues/comments/${c.id}`,
    html_url: `${web}/${repo.fullName}/${i.isPullRequest ? "pull" : "issues"}/${i.number}#issuecomment-${c.id}`,
    issue_url: `${repoUrl(repo)}/issues/${i.number}`,
    body: c.body,
    user: user(c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: association(repo, c.user),
    reactions: reactionSummary(`${repoUrl(repo)}/issues/comments/${c.id}/reactions`, c.reactions),
    performed_via_github_app: viaApp(c.user),
  });

  const reaction = (r: ReactionRecord) => ({
    id: r.id,
    node_id: nodeId("Reaction", r.id),
    user: user(r.user),
    content: r.content,
    created_at: r.createdAt,
  });

  const repo = (r: RepoRecord) => ({
    id: r.id,
    node_id: nodeId("Repository", r.id),
    name: r.name,
    full_name: r.fullName,
    private: r.private,
    visibility: r.private ? "private" : "public",
    owner: user(r.owner),
    html_url: `${web}/${r.fullName}`,
    description: null,
    fork: false,
    url: repoUrl(r),
    archived: false,
    disabled: false,
    default_branch: r.defaultBranch,
    open_issues_count: r.issues.filter((i) => i.state === "open").length,
    has_issues: true,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    pushed_at: "2026-01-01T00:00:00Z",
  });

  const team = (org: string, slug: string) => {
    const id = teamId(`${org}/${slug}`);
    return {
      id,
      node_id: nodeId("Team", id),
      url: `${api}/organizations/${userId(org)}/team/${id}`,
      html_url: `${web}/orgs/${org}/teams/${slug}`,
      name: slug,
      slug,
      description: null,
      privacy: "closed",
      notification_setting: "notifications_enabled",
      permission: "pull",
      members_url: `${api}/organizations/${userId(org)}/team/${id}/members{/member}`,
      repositories_url: `${api}/organizations/${userId(org)}/team/${id}/repos`,
      parent: null,
    };
  };

  const branch = (r: RepoRecord, ref: string, sha: string) => ({
    label: `${r.owner}:${ref}`,
    ref,
    sha,
    user: user(r.owner),
    repo: repo(r),
  });

  const pull = (r: RepoRecord, p: PullRecord) => {
    const i = r.issues.find((candidate) => candidate.number === p.number);
    if (!i) throw new Error(`stand-in: pull request #${p.number} has no issue record`);
    const url = `${repoUrl(r)}/pulls/${p.number}`;
    return {
      id: p.id,
      node_id: nodeId("PullRequest", p.id),
      url,
      html_url: `${web}/${r.fullName}/pull/${p.number}`,
      diff_url: `${web}/${r.fullName}/pull/${p.number}.diff`,
      patch_url: `${web}/${r.fullName}/pull/${p.number}.patch`,
      issue_url: `${repoUrl(r)}/issues/${p.number}`,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      comments_url: `${repoUrl(r)}/issues/${p.number}/comments`,
      statuses_url: `${repoUrl(r)}/statuses/${p.headSha}`,
      number: p.number,
      state: i.state,
      locked: i.locked,
      title: i.title,
      body: i.body,
      user: user(i.user),
      labels: i.labels.map((name) => label(r, r.labels[name] ?? { id: 0, name, color: "ededed", description: null })),
      milestone: null,
      active_lock_reason: null,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      closed_at: i.closedAt,
      merged_at: p.mergedAt,
      merge_commit_sha: null,
      assignee: i.assignees[0] === undefined ? null : user(i.assignees[0]),
      assignees: i.assignees.map(user),
      requested_reviewers: p.requestedReviewers.map(user),
      requested_teams: p.requestedTeams.map((slug) => team(r.owner, slug)),
      head: branch(r, p.headRef, p.headSha),
      base: branch(r, p.baseRef, p.baseSha),
      author_association: association(r, i.user),
      auto_merge: null,
      draft: p.draft,
      merged: p.merged,
      mergeable: p.merged || i.state === "closed" ? null : true,
      rebaseable: null,
      mergeable_state: "clean",
      merged_by: null,
      comments: i.comments.length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: p.additions,
      deletions: p.deletions,
      changed_files: p.changedFiles,
    };
  };

  const review = (r: RepoRecord, p: PullRecord, v: ReviewRecord) => {
    const htmlUrl = `${web}/${r.fullName}/pull/${p.number}#pullrequestreview-${v.id}`;
    return {
      id: v.id,
      node_id: nodeId("PullRequestReview", v.id),
      user: user(v.user),
      body: v.body,
      state: v.state,
      html_url: htmlUrl,
      pull_request_url: `${repoUrl(r)}/pulls/${p.number}`,
      author_association: association(r, v.user),
      _links: { html: { href: htmlUrl }, pull_request: { href: `${repoUrl(r)}/pulls/${p.number}` } },
      submitted_at: v.submittedAt,
      commit_id: v.commitId,
    };
  };

  const checkRun = (r: RepoRecord, run: CheckRunRecord) => ({
    id: run.id,
    node_id: nodeId("CheckRun", run.id),
    head_sha: run.headSha,
    external_id: run.externalId ?? "",
    url: `${repoUrl(r)}/check-runs/${run.id}`,
    html_url: `${web}/${r.fullName}/runs/${run.id}`,
    details_url: run.detailsUrl ?? `${web}/apps/${state.app.slug}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.output.annotationsCount,
      annotations_url: `${repoUrl(r)}/check-runs/${run.id}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id + 1 },
    app: app(),
    pull_requests: r.pulls
      .filter((p) => p.headSha === run.headSha)
      .map((p) => ({
        url: `${repoUrl(r)}/pulls/${p.number}`,
        id: p.id,
        number: p.number,
        head: { ref: p.headRef, sha: p.headSha, repo: { id: r.id, url: repoUrl(r), name: r.name } },
        base: { ref: p.baseRef, sha: p.baseSha, repo: { id: r.id, url: repoUrl(r), name: r.name } },
      })),
  });

  const installation = (i: InstallationRecord) => ({
    id: i.id,
    account: user(i.account),
    repository_selection: i.repos === "all" ? "all" : "selected",
    access_tokens_url: `${api}/app/installations/${i.id}/access_tokens`,
    repositories_url: `${api}/installation/repositories`,
    html_url: `${web}/organizations/${i.account}/settings/installations/${i.id}`,
    app_id: state.app.id,
    app_slug: state.app.slug,
    target_id: userId(i.account),
    target_type: userRecord(state, i.account).type === "User" ? "User" : "Organization",
    permissions: app().permissions,
    events: app().events,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  });

  return { user, app, installation, repo, label, issue, comment, reaction, pull, review, team, checkRun };
}
