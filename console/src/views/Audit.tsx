/** Compliance: the audit chain, oldest first, page by page, and its verification against the signed
 * checkpoints (P7). */

import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { Details, Empty, Loading } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { ViewHeading } from "../components/ViewHeading";
import { dateTime, label } from "../format";
import { t } from "../i18n";
import { announce } from "../status";
import type { ViewProps } from "./types";

type AuditEntry = Schemas["AuditEntry"];
type AuditVerdict = Schemas["AuditVerdict"];
const PAGE = 100;

function Verification() {
  const [verdict, setVerdict] = useState<AuditVerdict | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  const verify = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    setVerdict(null);
    try {
      const result = await unwrap(api().GET("/audit/verify"));
      setVerdict(result);
      announce(result.ok ? t("audit.verify.ok.short") : t("audit.verify.bad.short"));
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="audit-verify">
      <h2 id="audit-verify">{t("audit.verify")}</h2>
      <p class="hint">{t("audit.verify.explain")}</p>
      <button type="button" disabled={busy} onClick={() => void verify()}>
        {t("audit.verify.button")}
      </button>
      {busy ? <Loading /> : null}
      <ErrorMessage problem={problem} />
      {verdict !== null ? (
        <div class={`message ${verdict.ok ? "success" : "error"}`} id="audit-verdict">
          <p>
            <strong>{verdict.ok ? t("audit.verify.ok") : t("audit.verify.bad")}</strong>
          </p>
          <Details
            items={[
              [t("audit.entries"), String(verdict.entries)],
              [t("audit.lastSeq"), verdict.last_seq === null || verdict.last_seq === undefined ? "—" : String(verdict.last_seq)],
              [t("audit.checkpoints"), String(verdict.checkpoints ?? 0)],
              [
                t("audit.lastCheckpoint"),
                verdict.last_checkpoint
                  ? t("audit.lastCheckpoint.value", {
                      seq: verdict.last_checkpoint.seq,
                      at: dateTime(verdict.last_checkpoint.at),
                    })
                  : "—",
              ],
              [t("audit.unanchored"), String(verdict.unanchored_entries ?? 0)],
            ]}
          />
          {verdict.first_problem ? (
            <>
              <h3>{t("audit.firstProblem")}</h3>
              <p>
                {t("audit.problem", {
                  kind: label("chainProblem", verdict.first_problem.kind),
                  seq: verdict.first_problem.seq,
                  position: verdict.first_problem.position,
                })}{" "}
                <span lang="en">{verdict.first_problem.detail}</span>
              </p>
            </>
          ) : null}
          {(verdict.checkpoint_problems ?? []).length > 0 ? (
            <>
              <h3>{t("audit.checkpointProblems", { n: verdict.checkpoint_problem_count ?? 0 })}</h3>
              <ul>
                {(verdict.checkpoint_problems ?? []).map((problem, index) => (
                  <li key={index}>
                    <strong>{label("checkpointProblem", problem.kind)}</strong> ({problem.checkpoint}):{" "}
                    <span lang="en">{problem.detail}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function Chain() {
  /** The `after` of each page shown so far (0: from the start). */
  const [afters, setAfters] = useState<number[]>([0]);
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async (after: number, history: number[]): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      const page = await unwrap(api().GET("/audit", { params: { query: { after, limit: PAGE } } }));
      setItems(page.items);
      const token = page.next_token;
      setNext(token !== null && token !== undefined && /^[0-9]+$/.test(token) ? Number(token) : null);
      setAfters(history);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void load(0, [0]);
  }, []);

  const page = afters.length;
  return (
    <section aria-labelledby="audit-chain">
      <h2 id="audit-chain">{t("audit.chain")}</h2>
      <ErrorMessage problem={problem} />
      {items === null ? (
        busy ? <Loading /> : null
      ) : items.length === 0 ? (
        <Empty>{t("audit.empty")}</Empty>
      ) : (
        <table class="audit">
          <caption>{t("audit.caption", { n: items.length, page })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("audit.seq")}</th>
              <th scope="col">{t("col.at")}</th>
              <th scope="col">{t("audit.actor")}</th>
              <th scope="col">{t("audit.action")}</th>
              <th scope="col">{t("audit.subject")}</th>
              <th scope="col">{t("audit.details")}</th>
              <th scope="col">{t("audit.hash")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.seq}>
                <th scope="row" class="number">
                  {entry.seq}
                </th>
                <td>{dateTime(entry.at)}</td>
                <td>{entry.actor}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>
                  <code class="id">{entry.subject}</code>
                </td>
                <td>
                  {Object.keys(entry.details).length === 0 ? (
                    "—"
                  ) : (
                    <ul class="plain">
                      {Object.entries(entry.details).map(([key, value]) => (
                        <li key={key}>
                          <code>{key}</code>: {value}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>
                  <code class="hash">{entry.hash.slice(0, 12)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items !== null && (page > 1 || next !== null) ? (
        <nav class="pager" aria-label={t("audit.paging")}>
          <button type="button" class="secondary" disabled={page <= 1 || busy} onClick={() => void load(0, [0])}>
            {t("audit.firstPage")}
          </button>
          <button
            type="button"
            class="secondary"
            disabled={page <= 1 || busy}
            onClick={() => {
              const history = afters.slice(0, -1);
              void load(history[history.length - 1] ?? 0, history);
            }}
          >
            {t("common.previousPage")}
          </button>
          <span class="page-number">{t("common.pageNumber", { n: page })}</span>
          <button
            type="button"
            class="secondary"
            disabled={next === null || busy}
            onClick={() => {
              if (next !== null) void load(next, [...afters, next]);
            }}
          >
            {t("common.nextPage")}
          </button>
        </nav>
      ) : null}
    </section>
  );
}

export function Audit(_props: ViewProps) {
  return (
    <>
      <ViewHeading title={t("nav.audit")} />
      <Verification />
      <Chain />
    </>
  );
}
