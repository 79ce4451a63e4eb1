export { createApp, UserAppDeps } from "./app";
export { DEFAULT_PORT, DEFAULT_USER_DATA_FILE, userServiceConfig, UserServiceConfig } from "./config";
export { parseUsers, User, Users } from "./users";
