/** API failures as one type, and in words a person understands (with the API's own message). */

export interface FieldProblem {
  field: string;
  problem: string;
}

/** A failed API call: the HTTP status (0: no answer at all), the API's `message` and field problems. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly apiMessage: string | null;
  readonly fields: readonly FieldProblem[];

  constructor(status: number, apiMessage: string | null, fields: readonly FieldProblem[] = []) {
    super(apiMessage ?? `HTTP ${status}`);
    this.name = "ApiProblem";
    this.status = status;
    this.apiMessage = apiMessage;
    this.fields = fields;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An ApiProblem from a status and an error body as the API writes it (`ErrorBody`), if it is one. */
export function problemFrom(status: number, body: unknown): ApiProblem {
  if (!isRecord(body)) return new ApiProblem(status, null);
  const message = typeof body["message"] === "string" ? body["message"] : null;
  const raw = body["errors"];
  const fields: FieldProblem[] = Array.isArray(raw)
    ? raw.filter(isRecord).map((item) => ({
        field: typeof item["field"] === "string" ? item["field"] : "",
        problem: typeof item["problem"] === "string" ? item["problem"] : "",
      }))
    : [];
  return new ApiProblem(status, message, fields);
}

/** The shape of an openapi-fetch answer: data on success, error (the ErrorBody) otherwise. */
interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of an openapi-fetch call, or an ApiProblem thrown (status 0 when nothing answered). */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<NonNullable<T>> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (error) {
    if (error instanceof ApiProblem) throw error;
    throw new ApiProblem(0, null);
  }
  if (result.error !== undefined || !result.response.ok) {
    throw problemFrom(result.response.status, result.error);
  }
  if (result.data === undefined || result.data === null) {
    throw new ApiProblem(result.response.status, null);
  }
  return result.data;
}

/** Any thrown value as an ApiProblem (a bug in the console shows as "no answer", never as a crash). */
export function asProblem(error: unknown): ApiProblem {
  return error instanceof ApiProblem ? error : new ApiProblem(0, null);
}
