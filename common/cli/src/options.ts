import { Option } from "clipanion";
import * as t from "typanion";

/**
 * A list option: one flag with comma-separated values (`--only db,kafka`), each one of `allowed`,
 * none twice. Giving the flag twice is a usage error rather than the last one silently winning.
 * `description` gets the allowed values appended, so every list option's help reads alike.
 */
export function listOption<const Value extends string>(flag: string, allowed: readonly Value[], options: { description: string }) {
  const isList = t.isArray(t.isEnum(allowed), { delimiter: "," });
  // Option.Array hands the validator one string per occurrence of the flag.
  const isOneList = t.makeValidator<unknown, Value[]>({
    test: (occurrences, state): occurrences is Value[] => {
      const given = occurrences as string[];
      if (given.length > 1)
        return refuse(state, `given ${given.length} times; list the values once, comma-separated: ${flag} ${given.join(",")}`);
      const values = given[0].split(",");
      const repeated = values.find((value, index) => values.indexOf(value) !== index);
      if (repeated !== undefined) return refuse(state, `${JSON.stringify(repeated)} is listed twice`);
      return isList(given[0], state);
    },
  });
  return Option.Array(flag, {
    description: `${options.description} (comma-separated: ${allowed.join(", ")})`,
    validator: isOneList,
  });
}

/** Records the problem as typanion's own validators do ("<path>: <message>"), for clipanion's error line. */
function refuse(state: t.ValidationState | undefined, message: string): false {
  state?.errors?.push(`.: ${message}`);
  return false;
}
