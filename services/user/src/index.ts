export { createApp, UserAppDeps } from "./app";
export { DEFAULT_PORT, DEFAULT_USER_DATA_FILE, UserServiceConfig, userServiceConfig } from "./config";
export { parseUsers, User, Users } from "./users";
