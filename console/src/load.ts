/** Loading what a view shows from the API, once per change of what it depends on. */

import { useEffect, useState, type Inputs } from "preact/hooks";
import { ApiProblem, asProblem } from "./api/errors";

/**
 * `load()`'s result, a setter for it (a view that changes the thing shows the API's answer), and the
 * problem it failed with. It runs again when `inputs` change; an answer that arrives after the view
 * moved on (another id, the view left) is dropped, so it can never overwrite a newer one.
 */
export function useLoaded<T>(
  load: () => Promise<T>,
  inputs: Inputs,
): [T | null, (value: T | null) => void, ApiProblem | null] {
  const [value, setValue] = useState<T | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  useEffect(() => {
    let live = true;
    load()
      .then((result) => {
        if (live) setValue(result);
      })
      .catch((error: unknown) => {
        if (live) setProblem(asProblem(error));
      });
    return () => {
      live = false;
    };
    // `load` is a new closure at every render; what it reads is listed in `inputs`.
  }, inputs);
  return [value, setValue, problem];
}
