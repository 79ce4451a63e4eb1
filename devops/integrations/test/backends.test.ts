import {
  BackendConfigError,
  createIntegrations,
  describeBackendRules,
  PostgresDbClient,
  SimulatedDbClient,
  SimulatedKafkaClient,
  SimulatedS3Client,
  selectBackends,
} from "../src/index";

describe("selecting real or simulated clients from the environment", () => {
  it("simulates everything when no backend is configured, saying what would make db real", () => {
    expect(selectBackends({})).toEqual({
      db: { real: false, description: expect.stringMatching(/^set DATABASE_URL \(a postgres:\/\/ URL\), or PGHOST or PGDATABASE/) },
      kafka: { real: false, description: "no real client" },
      s3: { real: false, description: "no real client" },
    });
    const clients = createIntegrations({});
    expect(clients.db).toBeInstanceOf(SimulatedDbClient);
    expect(clients.kafka).toBeInstanceOf(SimulatedKafkaClient);
    expect(clients.s3).toBeInstanceOf(SimulatedS3Client);
  });

  it.each([
    [{ DATABASE_URL: "postgres://ops:secret@db.internal:6432/app" }, "PostgreSQL at db.internal:6432/app"],
    [{ DATABASE_URL: "postgresql://db.internal/app" }, "PostgreSQL at db.internal:5432/app"],
    [{ PGHOST: "db.internal" }, "PostgreSQL at db.internal:5432/(user's database)"],
    [{ PGDATABASE: "app", PGPORT: "6432" }, "PostgreSQL at localhost:6432/app"],
  ])("uses PostgreSQL for %j, naming it without the password", (env, description) => {
    expect(selectBackends(env).db).toEqual({ real: true, description });
    expect(createIntegrations(env).db).toBeInstanceOf(PostgresDbClient);
  });

  it.each([[{ PGUSER: "ops", PGPASSWORD: "secret", PGPORT: "5432" }], [{ DATABASE_URL: "", PGHOST: " " }]])(
    "does not take %j alone as naming a server",
    (env) => {
      expect(selectBackends(env).db.real).toBe(false);
    },
  );

  it.each([
    [{ DATABASE_URL: "mysql://db/app" }, /DATABASE_URL is a mysql:\/\/ URL: use postgres:\/\//],
    [{ DATABASE_URL: "db.internal" }, /DATABASE_URL is not a URL/],
    [{ PGHOST: "db", PGPORT: "fifty" }, /PGPORT="fifty" is not a port number/],
  ])("rejects the wrong configuration %j", (env, message) => {
    expect(() => selectBackends(env)).toThrow(BackendConfigError);
    expect(() => createIntegrations(env)).toThrow(message);
  });

  it("describes the rule of every subsystem, Kafka's included", () => {
    expect(describeBackendRules()).toBe(
      "db is real when DATABASE_URL (a postgres:// URL), or PGHOST or PGDATABASE with the other PG* variables is set; kafka is always simulated; s3 is always simulated",
    );
  });
});
