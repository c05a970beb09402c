/** Listening in (P9): volunteers (as trainee), mentors and professionals record it before it starts;
 * staff see who listened in on what. */

import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { Details, Empty, Loading, Pager } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { RadioGroup, SelectField, TextField } from "../components/Fields";
import { ViewHeading } from "../components/ViewHeading";
import { dateTime, label } from "../format";
import { t } from "../i18n";
import { announce } from "../status";
import { CONTACT_ID_PATTERN, CONTACT_ID_RE, normaliseId, type ViewProps } from "./types";

type Role = Schemas["SupervisionRequest"]["role"];
type Mode = Schemas["SupervisionRequest"]["mode"];
type Started = Schemas["SupervisionStarted"];
type SupervisionRecord = Schemas["SupervisionRecord"];

/** The role each group listens in as (helpline.logic.supervision: volunteers only as trainee). */
const ROLE_OF_GROUP: ReadonlyArray<readonly [string, Role]> = [
  ["volunteer", "trainee"],
  ["mentor", "mentor"],
  ["professional", "professional"],
];
const MODES: readonly Mode[] = ["listen", "read"];

function StartForm({ roles, initialContact }: { roles: readonly Role[]; initialContact: string }) {
  const [contactId, setContactId] = useState(initialContact);
  const [mode, setMode] = useState<Mode | "">("");
  const [role, setRole] = useState<Role>(roles[0] ?? "trainee");
  const [started, setStarted] = useState<Started | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const id = normaliseId(contactId);
    if (!CONTACT_ID_RE.test(id)) {
      setInvalid(t("field.contactId.invalid"));
      return;
    }
    if (mode === "") {
      setInvalid(t("supervision.mode.missing"));
      return;
    }
    setInvalid(null);
    setBusy(true);
    setProblem(null);
    setStarted(null);
    try {
      const result = await unwrap(api().POST("/supervision", { body: { contact_id: id, mode, role } }));
      setStarted(result);
      announce(t("supervision.started"));
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="supervision-start">
      <h2 id="supervision-start">{t("supervision.start.title")}</h2>
      <div class="message info">
        <p>{t("supervision.explain")}</p>
      </div>
      <form class="form" onSubmit={(event) => void submit(event)}>
        <TextField
          id="supervision-contact"
          label={t("field.contactId")}
          value={contactId}
          onValue={setContactId}
          pattern={CONTACT_ID_PATTERN}
          maxLength={40}
          spellcheck={false}
          required
        />
        <RadioGroup
          name="supervision-mode"
          legend={t("supervision.mode")}
          hint={t("supervision.mode.hint")}
          value={mode}
          onValue={(value) => setMode(MODES.find((item) => item === value) ?? "")}
          options={MODES.map((item) => ({ value: item, label: label("mode", item) }))}
          required
        />
        {roles.length > 1 ? (
          <SelectField
            id="supervision-role"
            label={t("supervision.role")}
            value={role}
            onValue={(value) => setRole(roles.find((item) => item === value) ?? role)}
            options={roles.map((item) => ({ value: item, label: label("role", item) }))}
          />
        ) : (
          <p>
            {t("supervision.role")}: <strong>{label("role", role)}</strong>
          </p>
        )}
        {invalid !== null ? (
          <p class="message error" role="alert">
            {invalid}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {t("supervision.submit")}
        </button>
      </form>
      <ErrorMessage problem={problem} />
      {started !== null ? (
        <div class="message success">
          <p>{t("supervision.recorded")}</p>
          <Details
            items={[
              [t("col.contactId"), <code class="id">{started.record.contact_id}</code>],
              [t("col.mode"), label("mode", started.record.mode)],
              [t("col.role"), label("role", started.record.role)],
              [t("col.at"), dateTime(started.record.at)],
              [t("col.monitoring"), started.monitoring],
            ]}
          />
        </div>
      ) : null}
    </section>
  );
}

function SupervisionLog() {
  const [tokens, setTokens] = useState<Array<string | null>>([null]);
  const [items, setItems] = useState<SupervisionRecord[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async (token: string | null, history: Array<string | null>): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      const result = await unwrap(
        api().GET("/supervision", { params: { query: { limit: 50, next_token: token ?? undefined } } }),
      );
      setItems(result.items);
      setNextToken(result.next_token ?? null);
      setTokens(history);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void load(null, [null]);
  }, []);

  return (
    <section aria-labelledby="supervision-log">
      <h2 id="supervision-log">{t("supervision.log")}</h2>
      <ErrorMessage problem={problem} />
      {items === null ? (
        busy ? <Loading /> : null
      ) : items.length === 0 ? (
        <Empty>{t("supervision.log.empty")}</Empty>
      ) : (
        <table>
          <caption>{t("supervision.log.caption", { n: items.length, page: tokens.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("col.at")}</th>
              <th scope="col">{t("col.supervisor")}</th>
              <th scope="col">{t("col.role")}</th>
              <th scope="col">{t("col.mode")}</th>
              <th scope="col">{t("col.contactId")}</th>
              <th scope="col">{t("col.monitoring")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((record) => (
              <tr key={record.id}>
                <td>{dateTime(record.at)}</td>
                <td>{record.supervisor}</td>
                <td>{label("role", record.role)}</td>
                <td>{label("mode", record.mode)}</td>
                <td>
                  <code class="id">{record.contact_id}</code>
                </td>
                <td>{record.monitoring}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items !== null && (tokens.length > 1 || nextToken !== null) ? (
        <Pager
          label={t("supervision.paging")}
          page={tokens.length}
          hasNext={nextToken !== null}
          busy={busy}
          onPrevious={() => {
            const history = tokens.slice(0, -1);
            void load(history[history.length - 1] ?? null, history);
          }}
          onNext={() => void load(nextToken, [...tokens, nextToken])}
        />
      ) : null}
    </section>
  );
}

export function Supervision({ session, param }: ViewProps) {
  const roles = ROLE_OF_GROUP.filter(([group]) => session.groups.has(group)).map(([, role]) => role);
  return (
    <>
      <ViewHeading title={t("nav.supervision")} />
      {roles.length > 0 ? <StartForm roles={roles} initialContact={param} /> : null}
      {session.groups.has("staff") ? <SupervisionLog /> : null}
    </>
  );
}
