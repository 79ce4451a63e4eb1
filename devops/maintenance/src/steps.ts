import { type Integrations, KAFKA_TOPICS, SIMULATED_SECONDS } from "@monorepo/integrations";
import type { Recovery, StepDefinition } from "./graph";

/**
 * The maintenance steps and their cleanups, as data: a new step is a new entry here.
 * Every edge ("needs") says why the two operations cannot overlap; steps without an
 * edge between them run concurrently. Estimates are the original operations' durations.
 *
 * Critical path: db, whose five steps are a chain (1 + 5 + 8 + 3 + 4 = 21 s); kafka
 * (1 + 2 + 8 = 11 s) and s3 (1 + 10 = 11 s) finish inside it. The original ran all
 * of it in a row: 59 s.
 */

export const SUBSYSTEMS = ["db", "kafka", "s3"] as const;
export type Subsystem = (typeof SUBSYSTEMS)[number];

export type MaintenanceStep = StepDefinition<Integrations>;

/** Long enough for slow real work, short enough that a hung call is cut and retried. */
function timeoutFor(seconds: number): number {
  return Math.max(10, seconds * 3);
}

function estimate(operation: keyof typeof SIMULATED_SECONDS) {
  const seconds = SIMULATED_SECONDS[operation];
  return { estimateSeconds: seconds, timeoutSeconds: timeoutFor(seconds) };
}

/** Hung queries hold the table locks a DDL or maintenance statement waits for; stopping them unblocks it. */
const stopHungQueries: Recovery<Integrations> = {
  title: "stop hung queries",
  ...estimate("db.stopHungQueries"),
  run: ({ db }, signal) => db.stopHungQueries({ signal }),
};

/** Leftover records that fail validation are what cleanupTopics removes. */
const cleanupTopics: Recovery<Integrations> = {
  title: "clean up topics",
  ...estimate("kafka.cleanupTopics"),
  run: ({ kafka }, signal) => kafka.cleanupTopics({ signal }),
};

const topicSteps: MaintenanceStep[] = KAFKA_TOPICS.map((topic) => ({
  id: `kafka.cleanTopic.${topic}`,
  subsystem: "kafka",
  title: `clean topic ${topic}`,
  // Each topic is its own log: cleaning one never touches another, so all run at once.
  needs: ["kafka.initClient"],
  ...estimate("kafka.cleanTopic"),
  run: ({ kafka }, signal) => kafka.cleanTopic(topic, { signal }),
}));

export const MAINTENANCE_STEPS: readonly MaintenanceStep[] = [
  {
    id: "db.initClient",
    subsystem: "db",
    title: "connect to the database",
    needs: [],
    ...estimate("db.initClient"),
    perProcess: true,
    run: ({ db }, signal) => db.initClient({ signal }),
  },
  {
    id: "db.modifyIndexTriggers",
    subsystem: "db",
    title: "modify index triggers",
    // Every db statement needs the connection. PostgreSQL has no index triggers to switch (each write
    // maintains every ready index), so on a real server this step does what a rebuild needs first
    // instead: it drops the invalid leftovers of cancelled concurrent reindexes (*_ccnew, *_ccold),
    // which writes still maintain and a new rebuild would only copy. The id stays: journals name it.
    needs: ["db.initClient"],
    ...estimate("db.modifyIndexTriggers"),
    run: ({ db }, signal) => db.modifyIndexTriggers({ signal }),
    recovery: stopHungQueries,
  },
  {
    id: "db.updateIndexes",
    subsystem: "db",
    title: "update indexes",
    // The rebuild must see the triggers in their maintenance state, or the triggers
    // would redo index work row by row during it; and both ALTER the same tables, so
    // overlapping them would only queue one behind the other's lock. On PostgreSQL the
    // leftovers are gone first, so that the rebuild does not copy them; it drops any that
    // its own cancelled attempts leave, so a retry alone is safe too.
    needs: ["db.modifyIndexTriggers"],
    ...estimate("db.updateIndexes"),
    run: ({ db }, signal) => db.updateIndexes({ signal }),
    recovery: stopHungQueries,
  },
  {
    id: "db.vacuumDatabase",
    subsystem: "db",
    title: "vacuum the database",
    // VACUUM and REINDEX of the same tables take conflicting locks: run together they
    // serialize at best and deadlock at worst. Vacuuming after the rebuild also
    // reclaims the space the old index pages held.
    needs: ["db.updateIndexes"],
    ...estimate("db.vacuumDatabase"),
    run: ({ db }, signal) => db.vacuumDatabase({ signal }),
    recovery: stopHungQueries,
  },
  {
    id: "db.checkForDeadlocks",
    subsystem: "db",
    title: "check for deadlocks",
    // Verifies that maintenance left no sessions waiting on each other, so it follows
    // the last locking statement; its recovery terminates long-running queries, which
    // would include our own REINDEX or VACUUM if it overlapped them.
    needs: ["db.vacuumDatabase"],
    ...estimate("db.checkForDeadlocks"),
    run: ({ db }, signal) => db.checkForDeadlocks({ signal }),
    recovery: stopHungQueries,
  },
  {
    id: "kafka.initClient",
    subsystem: "kafka",
    title: "connect to Kafka",
    needs: [],
    ...estimate("kafka.initClient"),
    perProcess: true,
    run: ({ kafka }, signal) => kafka.initClient({ signal }),
  },
  ...topicSteps,
  {
    id: "kafka.validateCleaned",
    subsystem: "kafka",
    title: "validate that topics are clean",
    // Validation reads every topic: it passes only once all of them are cleaned.
    needs: topicSteps.map((step) => step.id),
    ...estimate("kafka.validateCleaned"),
    run: ({ kafka }, signal) => kafka.validateCleaned({ signal }),
    recovery: cleanupTopics,
  },
  {
    id: "s3.initClient",
    subsystem: "s3",
    title: "connect to S3",
    needs: [],
    ...estimate("s3.initClient"),
    perProcess: true,
    run: ({ s3 }, signal) => s3.initClient({ signal }),
  },
  {
    id: "s3.moveLargeBlobsToGlacier",
    subsystem: "s3",
    title: "move large blobs to Glacier",
    // Runs alongside cleanUpOldBlobs: both are per-object, idempotent bulk operations.
    // Real S3 moves a blob by copying it onto itself, which resets its LastModified, so
    // the move leaves blobs past retention to the deletion; with one cutoff for the run
    // the two touch disjoint blobs, and neither order changes the outcome. A blob deleted
    // while the move runs is no longer there to move, and one in Glacier stays there.
    needs: ["s3.initClient"],
    ...estimate("s3.moveLargeBlobsToGlacier"),
    run: ({ s3 }, signal) => s3.moveLargeBlobsToGlacier({ signal }),
  },
  {
    id: "s3.cleanUpOldBlobs",
    subsystem: "s3",
    title: "clean up old blobs",
    needs: ["s3.initClient"],
    ...estimate("s3.cleanUpOldBlobs"),
    run: ({ s3 }, signal) => s3.cleanUpOldBlobs({ signal }),
  },
];

/**
 * What the original --cleanup did, per subsystem, so a failed or interrupted subsystem
 * cleans up only itself. Each starts with its (idempotent) connect, because --cleanup
 * runs in a fresh process.
 */
export const CLEANUP_STEPS: Readonly<Record<Subsystem, readonly MaintenanceStep[]>> = {
  db: [
    {
      id: "db.cleanup.initClient",
      subsystem: "db",
      title: "connect to the database",
      needs: [],
      ...estimate("db.initClient"),
      run: ({ db }, signal) => db.initClient({ signal }),
    },
    {
      id: "db.cleanup.stopHungQueries",
      subsystem: "db",
      title: "stop hung queries",
      // Stopping hung queries first releases the locks a deadlock is made of...
      needs: ["db.cleanup.initClient"],
      ...estimate("db.stopHungQueries"),
      run: ({ db }, signal) => db.stopHungQueries({ signal }),
    },
    {
      id: "db.cleanup.checkForDeadlocks",
      subsystem: "db",
      title: "check for deadlocks",
      // ...so the check that follows verifies the result; a deadlock it still finds is
      // stopped again by its recovery before the next check.
      needs: ["db.cleanup.stopHungQueries"],
      ...estimate("db.checkForDeadlocks"),
      run: ({ db }, signal) => db.checkForDeadlocks({ signal }),
      recovery: stopHungQueries,
    },
  ],
  kafka: [
    {
      id: "kafka.cleanup.initClient",
      subsystem: "kafka",
      title: "connect to Kafka",
      needs: [],
      ...estimate("kafka.initClient"),
      run: ({ kafka }, signal) => kafka.initClient({ signal }),
    },
    {
      id: "kafka.cleanup.cleanupTopics",
      subsystem: "kafka",
      title: "clean up topics",
      // Topic cleanup works on the brokers' logs and stopping consumers on the consumer
      // groups: neither reads what the other changes, so they run together.
      needs: ["kafka.cleanup.initClient"],
      ...estimate("kafka.cleanupTopics"),
      run: ({ kafka }, signal) => kafka.cleanupTopics({ signal }),
    },
    {
      id: "kafka.cleanup.stopConsumers",
      subsystem: "kafka",
      title: "stop consumers",
      needs: ["kafka.cleanup.initClient"],
      ...estimate("kafka.stopConsumers"),
      run: ({ kafka }, signal) => kafka.stopConsumers({ signal }),
    },
  ],
  s3: [
    {
      id: "s3.cleanup.initClient",
      subsystem: "s3",
      title: "connect to S3",
      needs: [],
      ...estimate("s3.initClient"),
      run: ({ s3 }, signal) => s3.initClient({ signal }),
    },
    {
      id: "s3.cleanup.stopHungUploads",
      subsystem: "s3",
      title: "stop hung uploads",
      needs: ["s3.cleanup.initClient"],
      ...estimate("s3.stopHungUploads"),
      run: ({ s3 }, signal) => s3.stopHungUploads({ signal }),
    },
  ],
};
