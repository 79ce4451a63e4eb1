export interface User {
  id: string;
  name: string;
  email: string;
  role: string;
}

/** user.json: every user keyed by its id. */
export type Users = Record<string, User>;

/** Checks the shape of user.json, naming the first entry that is wrong. */
export function parseUsers(value: unknown): Users {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("expected an object of users keyed by id");
  }
  for (const [key, user] of Object.entries(value)) {
    if (typeof user !== "object" || user === null) throw new Error(`user ${JSON.stringify(key)} is not an object`);
    const { id, name, email, role } = user as Record<string, unknown>;
    if (id !== key) throw new Error(`user ${JSON.stringify(key)} has id ${JSON.stringify(id)}; the key must be its id`);
    for (const [field, fieldValue] of Object.entries({ name, email, role })) {
      if (typeof fieldValue !== "string") throw new Error(`user ${JSON.stringify(key)} has no string ${field}`);
    }
  }
  return value as Users;
}
