/** Volunteers and mentors: write the report of a contact and see the text as stored (scrubbed, P5,
 * P8); list reports (a volunteer sees only their own; the API filters). */

import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { Empty, Loading } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { TextArea, TextField } from "../components/Fields";
import { Tagged } from "../components/Tagged";
import { ViewHeading } from "../components/ViewHeading";
import { dropDraft, useDraft } from "../drafts";
import { dateTime, shortId, utcDay } from "../format";
import { t } from "../i18n";
import { announce } from "../status";
import { CONTACT_ID_PATTERN, CONTACT_ID_RE, normaliseId, type ViewProps } from "./types";

type Report = Schemas["Report"];
const TEXT_MAX = 1500;

function ReportEditor({ initialContact, onSaved }: { initialContact: string; onSaved: () => void }) {
  const [contactId, setContactId] = useDraft("report.contactId", initialContact);
  const [text, setText] = useDraft("report.text", "");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [stored, setStored] = useState<Report | null>(null);
  const [invalid, setInvalid] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const id = normaliseId(contactId);
    if (!CONTACT_ID_RE.test(id)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setBusy(true);
    setProblem(null);
    try {
      const report = await unwrap(
        api().POST("/contacts/{id}/reports", { params: { path: { id } }, body: { text } }),
      );
      setStored(report);
      setText("");
      dropDraft("report.text");
      dropDraft("report.contactId");
      announce(t("reports.saved"));
      onSaved();
    } catch (error) {
      // The text stays in the draft: after a new sign-in (401) it is still there.
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="report-new">
      <h2 id="report-new">{t("reports.new")}</h2>
      <p class="hint">{t("reports.new.explain")}</p>
      <form class="form" onSubmit={(event) => void submit(event)}>
        <TextField
          id="report-contact"
          label={t("field.contactId")}
          hint={t("field.contactId.hint")}
          value={contactId}
          onValue={setContactId}
          pattern={CONTACT_ID_PATTERN}
          maxLength={40}
          spellcheck={false}
          required
        />
        {invalid ? (
          <p class="message error" role="alert">
            {t("field.contactId.invalid")}
          </p>
        ) : null}
        <TextArea
          id="report-text"
          label={t("reports.text")}
          hint={t("reports.text.hint")}
          value={text}
          onValue={setText}
          maxLength={TEXT_MAX}
          rows={8}
          counter={(length) => t("common.charactersLeft", { n: TEXT_MAX - length })}
          required
        />
        <button type="submit" disabled={busy}>
          {t("reports.save")}
        </button>
      </form>
      <ErrorMessage problem={problem} />
      {stored !== null ? (
        <section class="message success" aria-labelledby="report-stored">
          <h3 id="report-stored">{t("reports.stored")}</h3>
          <p>{t("reports.stored.explain")}</p>
          <blockquote class="stored-text" id="report-stored-text">
            <Tagged text={stored.text} />
          </blockquote>
          <p class="hint">
            {t("reports.stored.meta", { contact: shortId(stored.contact_id), at: dateTime(stored.created_at) })}
          </p>
        </section>
      ) : null}
    </section>
  );
}

function ReportList({ refresh }: { refresh: number }) {
  const [from, setFrom] = useState(utcDay(-30));
  const [to, setTo] = useState(utcDay(0));
  const [items, setItems] = useState<Report[] | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      const list = await unwrap(api().GET("/reports", { params: { query: { from, to } } }));
      setItems(list.items);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void load();
  }, [refresh]);

  return (
    <section aria-labelledby="report-list">
      <h2 id="report-list">{t("reports.list")}</h2>
      <form
        class="form inline"
        onSubmit={(event) => {
          event.preventDefault();
          void load();
        }}
      >
        <TextField id="reports-from" label={t("field.from")} type="date" value={from} onValue={setFrom} />
        <TextField id="reports-to" label={t("field.toInclusive")} type="date" value={to} onValue={setTo} />
        <button type="submit" disabled={busy}>
          {t("reports.show")}
        </button>
      </form>
      <ErrorMessage problem={problem} />
      {items === null ? (
        busy ? <Loading /> : null
      ) : items.length === 0 ? (
        <Empty>{t("reports.empty")}</Empty>
      ) : (
        <table>
          <caption>{t("reports.caption", { n: items.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("col.writtenAt")}</th>
              <th scope="col">{t("col.contact")}</th>
              <th scope="col">{t("col.author")}</th>
              <th scope="col">{t("col.report")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((report) => (
              <tr key={report.id ?? `${report.contact_id}-${report.created_at}`}>
                <td>{dateTime(report.created_at)}</td>
                <td>
                  <code class="id">{report.contact_id}</code>
                </td>
                <td>{report.author}</td>
                <td class="text-cell">
                  <Tagged text={report.text} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Reports({ session, param }: ViewProps) {
  const [refresh, setRefresh] = useState(0);
  const canWrite = session.groups.has("volunteer") || session.groups.has("mentor");
  return (
    <>
      <ViewHeading title={t("nav.reports")} />
      {canWrite ? <ReportEditor initialContact={param} onSaved={() => setRefresh((n) => n + 1)} /> : null}
      <ReportList refresh={refresh} />
    </>
  );
}
