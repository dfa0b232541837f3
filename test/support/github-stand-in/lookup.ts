import { notFound, validationFailed, type RouteContext, type StandInRequest } from "./router.js";
import { findRepo, installationFor, type IssueRecord, type PullRecord, type RepoRecord } from "./state.js";

/** The repository in the path; 404 when unknown or outside the token's installation, as on GitHub. */
export function repoFrom(req: StandInRequest, ctx: RouteContext): RepoRecord {
  const repo = findRepo(ctx.state, req.params.owner ?? "", req.params.repo ?? "");
  if (!repo) return notFound();
  if (ctx.installationId !== undefined && installationFor(ctx.state, repo)?.id !== ctx.installationId) return notFound();
  return repo;
}

export function issueIn(repo: RepoRecord, number: string | undefined): IssueRecord {
  return repo.issues.find((i) => String(i.number) === number) ?? notFound();
}

export function pullIn(repo: RepoRecord, number: string | undefined): PullRecord {
  return repo.pulls.find((p) => String(p.number) === number) ?? notFound();
}

export function bodyObject(req: StandInRequest): Record<string, unknown> {
  const body = req.body;
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** A list of strings in the body, or undefined when absent; 422 when it is something else. */
export function stringList(value: unknown, resource: string, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return validationFailed({ resource, field, code: "invalid" });
  return value.map((item) => {
    if (typeof item === "string") return item;
    if (typeof item === "object" && item !== null && typeof (item as { name?: unknown }).name === "string") {
      return (item as { name: string }).name;
    }
    return validationFailed({ resource, field, code: "invalid", value: item });
  });
}

export function optionalString(value: unknown, resource: string, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") return validationFailed({ resource, field, code: "invalid" });
  return value;
}

export function requiredString(value: unknown, resource: string, field: string): string {
  if (value === undefined || value === null || value === "") return validationFailed({ resource, field, code: "missing_field" });
  return optionalString(value, resource, field) ?? "";
}
