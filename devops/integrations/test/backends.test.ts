import {
  AwsS3Client,
  BackendConfigError,
  createIntegrations,
  DEFAULT_SETTINGS,
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
      s3: { real: false, description: expect.stringMatching(/^set MAINTENANCE_S3_BUCKET /) },
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

  it.each([
    [{ MAINTENANCE_S3_BUCKET: "blobs", AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000" }, "S3 bucket blobs at http://127.0.0.1:9000"],
    [{ MAINTENANCE_S3_BUCKET: " blobs ", AWS_REGION: "eu-west-1" }, "S3 bucket blobs in eu-west-1"],
    [{ MAINTENANCE_S3_BUCKET: "blobs" }, "S3 bucket blobs in the profile's region"],
  ])("uses real S3 for %j", (env, description) => {
    expect(selectBackends(env).s3).toEqual({ real: true, description });
  });

  it("gives real S3 the settings' thresholds and one moment to measure ages from", () => {
    expect(selectBackends({ MAINTENANCE_S3_BUCKET: "  " }).s3.real).toBe(false);
    const now = new Date("2026-01-02T03:04:05Z");
    const settings = { ...DEFAULT_SETTINGS, blobRetentionDays: 7, hungUploadAgeSeconds: 3600 };
    const s3 = createIntegrations({ MAINTENANCE_S3_BUCKET: "blobs" }, { settings, now }).s3;
    expect(s3).toBeInstanceOf(AwsS3Client);
    const client = s3 as AwsS3Client;
    try {
      expect(client.bucket).toBe("blobs");
      expect(client.thresholds).toEqual({
        blobRetentionDays: 7,
        largeBlobBytes: DEFAULT_SETTINGS.largeBlobBytes,
        hungUploadAgeSeconds: 3600,
      });
      expect(client.retentionCutoff).toEqual(new Date("2025-12-26T03:04:05Z"));
      expect(client.hungUploadCutoff).toEqual(new Date("2026-01-02T02:04:05Z"));
    } finally {
      client.destroy();
    }
  });

  it("describes the rule of every subsystem, Kafka's included", () => {
    expect(describeBackendRules()).toBe(
      "db is real when DATABASE_URL (a postgres:// URL), or PGHOST or PGDATABASE with the other PG* variables is set; kafka is always simulated; s3 is real when MAINTENANCE_S3_BUCKET with the AWS SDK's variables is set",
    );
  });
});
