import { schedule } from "node-cron";
import type { Logger } from "./engine/ports.js";

/**
 * Runs `tick` on the cron schedule, never two at once in this process. Across replicas the
 * sweep itself takes a store lock, so one sweeps while the others only run due jobs.
 */
export function startScheduler(options: { cron: string; tick: () => Promise<unknown>; log: Logger }): { stop(): Promise<void> } {
  const task = schedule(
    options.cron,
    async () => {
      try {
        await options.tick();
      } catch (error) {
        options.log.error({ err: error }, "scheduled sweep failed; it runs again on the next tick");
      }
    },
    { name: "hitl-sweep", noOverlap: true },
  );
  return {
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
