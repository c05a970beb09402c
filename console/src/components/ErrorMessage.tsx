import type { ApiProblem } from "../api/errors";
import { t, type MessageKey } from "../i18n";

/** The plain sentence for an API status. */
export function problemSentence(status: number): string {
  const known: Record<number, MessageKey> = {
    0: "error.network",
    400: "error.400",
    401: "error.401",
    403: "error.403",
    404: "error.404",
    409: "error.409",
    410: "error.410",
    413: "error.413",
    415: "error.415",
    422: "error.422",
    429: "error.429",
    502: "error.502",
    503: "error.503",
  };
  const key = known[status];
  if (key !== undefined) return t(key);
  if (status >= 500) return t("error.5xx");
  return t("error.other", { status });
}

/** An API failure in words (role="alert"), with the API's own message and field problems when given. */
export function ErrorMessage({ problem, context }: { problem: ApiProblem | null; context?: string }) {
  if (problem === null) return null;
  return (
    <div class="message error" role="alert">
      <p>
        {context !== undefined ? <strong>{context} </strong> : null}
        {problemSentence(problem.status)}
      </p>
      {problem.apiMessage !== null && problem.status !== 0 ? (
        <p>
          {t("error.serverSaid")}{" "}
          <q lang="en">{problem.apiMessage}</q>
        </p>
      ) : null}
      {problem.fields.length > 0 ? (
        <ul>
          {problem.fields.map((field) => (
            <li key={field.field}>
              <code>{field.field}</code>: <span lang="en">{field.problem}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
