import { AwsS3Client } from "./aws-s3";
import { type DbClient, SimulatedDbClient } from "./db";
import { type KafkaClient, SimulatedKafkaClient } from "./kafka";
import { type PostgresConnection, PostgresDbClient } from "./postgres";
import { type S3Client, SimulatedS3Client } from "./s3";
import { DEFAULT_SETTINGS, type IntegrationSettings, type LogSink } from "./settings";
import { Simulator } from "./simulated";

type Env = Record<string, string | undefined>;

/** The three clients maintenance works with. */
export interface Integrations {
  db: DbClient;
  kafka: KafkaClient;
  s3: S3Client;
}

export type IntegrationName = keyof Integrations;

export const INTEGRATION_NAMES: readonly IntegrationName[] = ["db", "kafka", "s3"];

/** The environment selects a real backend but configures it wrongly (DATABASE_URL that is not a postgres URL). */
export class BackendConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendConfigError";
  }
}

/** What a real client gets besides its own configuration. */
export interface ClientContext {
  settings: IntegrationSettings;
  log: LogSink;
  /**
   * The moment S3's ages (retention, hung uploads) are measured from: one for every step of a run, so
   * the move and the deletion agree on which blobs are past retention (default: when the clients are made).
   */
  now?: Date;
}

/** A real backend that the environment selected. */
export interface SelectedBackend<Client> {
  /** What it talks to, without secrets: "PostgreSQL at db.internal:5432/app". */
  target: string;
  create(context: ClientContext): Client;
}

/** How one subsystem finds its real backend in the environment. */
export interface RealBackend<Client> {
  /** The rule, for --help: "DATABASE_URL (a postgres URL), or PGHOST or PGDATABASE". */
  selectedBy: string;
  /** Undefined when the environment does not select it; throws BackendConfigError when it does, wrongly. */
  select(env: Env): SelectedBackend<Client> | undefined;
}

const nonEmpty = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

/**
 * PostgreSQL, through pg: DATABASE_URL, or PGHOST or PGDATABASE (the variables that name a server;
 * PGPORT, PGUSER, PGPASSWORD alone do not, as they are often set for other tools). pg reads the other
 * PG* variables (and ~/.pgpass) for what these leave out.
 */
export const POSTGRES_BACKEND: RealBackend<DbClient> = {
  selectedBy: "DATABASE_URL (a postgres:// URL), or PGHOST or PGDATABASE with the other PG* variables",
  select(env) {
    let connection: PostgresConnection;
    let target: string;
    if (nonEmpty(env.DATABASE_URL)) {
      let url: URL;
      try {
        url = new URL(env.DATABASE_URL);
      } catch {
        throw new BackendConfigError("DATABASE_URL is not a URL: use postgres://user:password@host:port/database");
      }
      if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
        throw new BackendConfigError(`DATABASE_URL is a ${url.protocol}// URL: use postgres://user:password@host:port/database`);
      }
      connection = { connectionString: env.DATABASE_URL };
      target = `${url.hostname || "localhost"}:${url.port || 5432}/${decodeURIComponent(url.pathname.slice(1)) || "(user's database)"}`;
    } else if (nonEmpty(env.PGHOST) || nonEmpty(env.PGDATABASE)) {
      const port = env.PGPORT === undefined || env.PGPORT === "" ? undefined : Number(env.PGPORT);
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
        throw new BackendConfigError(`PGPORT="${env.PGPORT}" is not a port number`);
      }
      connection = { host: env.PGHOST, port, user: env.PGUSER, password: env.PGPASSWORD, database: env.PGDATABASE };
      target = `${env.PGHOST || "localhost"}:${port ?? 5432}/${env.PGDATABASE || "(user's database)"}`;
    } else {
      return undefined;
    }
    return {
      target: `PostgreSQL at ${target}`,
      create: ({ settings, log }) => new PostgresDbClient(connection, settings, log),
    };
  },
};

/**
 * S3, through the AWS SDK: MAINTENANCE_S3_BUCKET names the bucket; the SDK reads the endpoint, region
 * and credentials from its own variables (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION,
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile).
 */
export const S3_BACKEND: RealBackend<S3Client> = {
  selectedBy: "MAINTENANCE_S3_BUCKET with the AWS SDK's variables",
  select(env) {
    const bucket = env.MAINTENANCE_S3_BUCKET?.trim();
    if (!bucket) return undefined;
    const endpoint = env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim();
    const where = endpoint ? `at ${endpoint}` : `in ${env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || "the profile's region"}`;
    return {
      target: `S3 bucket ${bucket} ${where}`,
      create: ({ settings, now }) => new AwsS3Client({ bucket, thresholds: settings, now, env }),
    };
  },
};

/**
 * The real backend of each subsystem. A subsystem without an entry is always simulated; a real
 * client joins by adding its entry here, and the selection, --help, --dry-run and the summary
 * follow from it.
 */
export const REAL_BACKENDS: { readonly [Name in IntegrationName]?: RealBackend<Integrations[Name]> } = {
  db: POSTGRES_BACKEND,
  s3: S3_BACKEND,
};

export interface BackendChoice {
  real: boolean;
  /** What the real client talks to, or what would select one. */
  description: string;
}

/** Which subsystems run for real in `env` and against what; throws BackendConfigError for a wrong configuration. */
export function selectBackends(env: Env = process.env): Record<IntegrationName, BackendChoice> {
  const choices = {} as Record<IntegrationName, BackendChoice>;
  for (const name of INTEGRATION_NAMES) {
    const backend = REAL_BACKENDS[name];
    const selected = backend?.select(env);
    choices[name] = selected
      ? { real: true, description: selected.target }
      : { real: false, description: backend ? `set ${backend.selectedBy} for a real one` : "no real client" };
  }
  return choices;
}

/** The --help text: which variables make each subsystem real. */
export function describeBackendRules(): string {
  return INTEGRATION_NAMES.map((name) => {
    const backend = REAL_BACKENDS[name];
    return backend ? `${name} is real when ${backend.selectedBy} is set` : `${name} is always simulated`;
  }).join("; ");
}

/**
 * Simulated clients for one process. Validates SIMULATION_TIME_SCALE, SIMULATION_FAULTS
 * and SIMULATION_SEED up front (throwing SimulationConfigError), and shares one fault
 * plan, so "2x" means the first two calls made through these clients.
 */
export function createSimulatedIntegrations(env: Env = process.env): Integrations {
  const simulator = new Simulator(env);
  return {
    db: new SimulatedDbClient(simulator),
    kafka: new SimulatedKafkaClient(simulator),
    s3: new SimulatedS3Client(simulator),
  };
}

/**
 * The clients `env` selects: real where REAL_BACKENDS finds its configuration, simulated elsewhere.
 * Throws BackendConfigError or SimulationConfigError before anything connects.
 */
export function createIntegrations(env: Env = process.env, context: Partial<ClientContext> = {}): Integrations {
  const clientContext: ClientContext = {
    settings: context.settings ?? DEFAULT_SETTINGS,
    log: context.log ?? (() => undefined),
    now: context.now ?? new Date(),
  };
  const simulated = createSimulatedIntegrations(env);
  const db = REAL_BACKENDS.db?.select(env);
  const kafka = REAL_BACKENDS.kafka?.select(env);
  const s3 = REAL_BACKENDS.s3?.select(env);
  return {
    db: db ? db.create(clientContext) : simulated.db,
    kafka: kafka ? kafka.create(clientContext) : simulated.kafka,
    s3: s3 ? s3.create(clientContext) : simulated.s3,
  };
}
