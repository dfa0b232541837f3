import type { Engine } from "../engine/engine.js";
import type { GitHubGateway, Logger } from "../engine/ports.js";

export interface HandlerDeps {
  engine: Engine;
  github: GitHubGateway;
  log: Logger;
}
