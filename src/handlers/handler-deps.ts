import type { Engine } from "../engine/engine.js";
import type { GitHubGateway, Logger } from "../engine/ports.js";

export interface HandlerDeps {
  engine: Engine;
  github: GitHubGateway;
  log: Logger;
  /** This app's id: a check run another app made is none of hitl's, whatever its name or external id. */
  appId: number;
  /** This app's own login (`<slug>[bot]`), or null while GitHub cannot say. */
  ownLogin: () => Promise<string | null>;
}
