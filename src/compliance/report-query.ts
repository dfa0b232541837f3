import { z } from "zod";
import { repoName } from "../api/request-schema.js";

export const REPORT_FORMATS = ["json", "csv", "md"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const instant = z.iso.datetime({ offset: true, message: "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z" });

/** `GET /api/v1/reports/compliance`: requests opened in [since, until), of one repository or all. */
export const reportQuerySchema = z
  .strictObject({
    repo: repoName.optional().describe("owner/name; absent: every repository"),
    since: instant.optional().describe("Requests opened at or after this time"),
    until: instant.optional().describe("Requests opened before this time"),
    format: z.enum(REPORT_FORMATS).default("json").describe("json (the whole report), csv (one row per request, RFC 4180) or md (summary, violations and requests)"),
  })
  .refine((query) => query.since === undefined || query.until === undefined || Date.parse(query.since) < Date.parse(query.until), { path: ["until"], message: "must be after since" });

export type ReportQuery = z.infer<typeof reportQuerySchema>;
