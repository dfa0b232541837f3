import { z } from "zod";

const count = (description: string) => z.number().int().min(0).describe(description);

/** The answer of `POST /api/v1/sweep` (see `toApiSweepReport`). */
export const sweepReportSchema = z
  .object({
    sweep: z
      .object({
        ran: z.boolean().describe("False when another replica held the sweep lock (it sweeps instead)"),
        escalated: count("Requests moved up their escalation ladder"),
        warned: count("Requests warned that their deadline nears"),
        expired: count("Requests ended by their fallback at the deadline (or a stage's timeout)"),
        delegated: count("Requests handed to other approvers by a delegate fallback"),
        parked: count("Requests whose schedule could not be computed, taken out of the sweep"),
      })
      .describe("The escalation sweep"),
    recovery: z
      .object({
        ran: z.boolean().describe("False when another replica held the recovery lock, or the pass failed (`error`)"),
        checked: count("Pending requests whose comments and reviews were read").optional(),
        listings: count("Listing calls made to GitHub").optional(),
        not_modified: count("Listings GitHub answered 304").optional(),
        handled: count("Decisions found whose webhook never arrived, applied").optional(),
        error: z.string().optional().describe("Why the pass failed; the sweep and the jobs ran regardless"),
      })
      .describe("The recovery pass: decisions on GitHub whose webhook was lost"),
    jobs: z.object({ ran: count("Due jobs run: issue and check-run updates, callbacks, channel posts, retries") }),
  })
  .meta({ id: "SweepReport" });
