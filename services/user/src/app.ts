import express, { Express } from "express";
import * as path from "node:path";
import { Logger } from "@monorepo/logger";
import { createServiceApp, loadJsonDataFile, ReadinessState } from "@monorepo/service";
import { parseUsers, Users } from "./users";

export const DEFAULT_PORT = 3000;
/** The package's own user.json, found from the compiled file (dist/src/app.js) so it works from any working directory. */
export const DEFAULT_USER_DATA_FILE = path.join(__dirname, "..", "..", "user.json");

/** Users given directly, or a user.json to load (a missing or corrupt file throws a DataFileError). */
export type UserAppDeps = ({ users: Users } | { dataFile: string }) & {
  logger?: Logger;
  readiness?: ReadinessState;
};

export function createApp(deps: UserAppDeps): Express {
  const logger = deps.logger ?? new Logger("user-service");
  const users = "users" in deps ? deps.users : loadUsers(deps.dataFile, logger);

  const routes = express.Router();
  routes.get("/", (_req, res) => {
    res.json({ message: "User Service API" });
  });
  routes.get("/users", (_req, res) => {
    res.json(users);
  });
  routes.get("/users/:id", (req, res) => {
    // hasOwn: an id such as "__proto__" or "constructor" must not reach Object.prototype.
    if (!Object.hasOwn(users, req.params.id)) {
      res.status(404).json({ error: "User not found" });
      return;
    }
    res.json(users[req.params.id]);
  });

  return createServiceApp({ logger, routes, readiness: deps.readiness });
}

function loadUsers(dataFile: string, logger: Logger): Users {
  const users = loadJsonDataFile(dataFile, parseUsers);
  logger.info("Loaded users", { file: dataFile, count: Object.keys(users).length });
  return users;
}
