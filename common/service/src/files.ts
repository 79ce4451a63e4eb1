import { readFileSync } from "node:fs";

/** A data file a service cannot start with; the message names the file and what is wrong. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`Data file ${file} ${reason}`);
    this.name = "DataFileError";
  }
}

/**
 * Reads and parses a JSON data file, then lets `validate` check its shape (throw
 * to reject, return the typed value to accept). Any problem - missing, empty,
 * not JSON, wrong shape - is a DataFileError, so a service refuses to start
 * rather than run with no data.
 */
export function loadJsonDataFile<T>(file: string, validate: (value: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataFileError(file, "does not exist");
    throw new DataFileError(file, `cannot be read: ${(error as Error).message}`);
  }
  if (text.trim() === "") throw new DataFileError(file, "is empty");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(file, `is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return validate(value);
  } catch (error) {
    throw new DataFileError(file, `has unexpected content: ${(error as Error).message}`);
  }
}
