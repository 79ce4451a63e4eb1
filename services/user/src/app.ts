import { Logger } from "@monorepo/logger";
import { createServiceApp, loadJsonDataFile, type ReadinessState } from "@monorepo/service";
import type { Express } from "express";
import { parseUsers, type Users } from "./users";

/** Users given directly, or a user.json to load (a missing or corrupt file throws a DataFileError). */
export type UserAppDeps = ({ users: Users } | { dataFile: string }) & {
  logger?: Logger;
  readiness?: ReadinessState;
};

export function createApp(deps: UserAppDeps): Express {
  const logger = deps.logger ?? new Logger("user-service");
  const users = "users" in deps ? deps.users : loadUsers(deps.dataFile, logger);

  return createServiceApp({
    logger,
    readiness: deps.readiness,
    routes: {
      "/": {
        get: (_req, res) => {
          res.json({ message: "User Service API" });
        },
      },
      "/users": {
        get: (_req, res) => {
          res.json(users);
        },
      },
      "/users/:id": {
        get: (req, res) => {
          const id = req.params.id as string;
          // hasOwn: an id such as "__proto__" or "constructor" must not reach Object.prototype.
          if (!Object.hasOwn(users, id)) {
            res.status(404).json({ error: "User not found" });
            return;
          }
          res.json(users[id]);
        },
      },
    },
  });
}

function loadUsers(dataFile: string, logger: Logger): Users {
  const users = loadJsonDataFile(dataFile, parseUsers);
  logger.info("Loaded users", { file: dataFile, count: Object.keys(users).length });
  return users;
}
