export { createApp, DEFAULT_PORT, DEFAULT_USER_DATA_FILE, UserAppDeps } from "./app";
export { parseUsers, User, Users } from "./users";
