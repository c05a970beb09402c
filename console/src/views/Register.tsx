/** Mentors and staff: the anonymised register (P8) with filters and paging by next_token. */

import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { Empty, Loading, Pager } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectField, TextField } from "../components/Fields";
import { ViewHeading } from "../components/ViewHeading";
import { dateTime, duration, label, region, utcDay } from "../format";
import { t } from "../i18n";
import { href } from "../routes";
import type { ViewProps } from "./types";

type Contact = Schemas["ContactView"];
type Channel = Contact["channel"];
type LimitOutcome = Contact["limit_outcome"];

interface Filters {
  from: string;
  to: string;
  line: string;
  channel: "" | Channel;
  region: string;
  limitOutcome: "" | LimitOutcome;
  limit: string;
}

const CHANNELS: readonly Channel[] = ["voice", "chat", "email"];
const OUTCOMES: readonly LimitOutcome[] = ["allowed", "limited", "unchecked", "unauthenticated"];

export function Register({ session }: ViewProps) {
  const [filters, setFilters] = useState<Filters>({
    from: utcDay(-30),
    to: utcDay(0),
    line: "",
    channel: "",
    region: "",
    limitOutcome: "",
    limit: "50",
  });
  /** Tokens of the pages shown so far: tokens[0] is null (the first page). */
  const [tokens, setTokens] = useState<Array<string | null>>([null]);
  const [page, setPage] = useState<Contact[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const mentor = session.groups.has("mentor");

  const set = <K extends keyof Filters>(key: K) => (value: Filters[K]): void =>
    setFilters({ ...filters, [key]: value });

  const load = async (token: string | null, history: Array<string | null>): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      const result = await unwrap(
        api().GET("/contacts", {
          params: {
            query: {
              from: filters.from || undefined,
              to: filters.to || undefined,
              line: filters.line.trim() || undefined,
              channel: filters.channel || undefined,
              region: filters.region.trim() || undefined,
              limit_outcome: filters.limitOutcome || undefined,
              limit: Number(filters.limit),
              next_token: token ?? undefined,
            },
          },
        }),
      );
      setPage(result.items);
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

  const pageNumber = tokens.length;
  return (
    <>
      <ViewHeading title={t("nav.register")} />
      <p class="hint">{t("register.explain")}</p>
      <form
        class="form filters"
        aria-label={t("register.filters")}
        onSubmit={(event) => {
          event.preventDefault();
          void load(null, [null]);
        }}
      >
        <TextField id="register-from" label={t("field.from")} type="date" value={filters.from} onValue={set("from")} />
        <TextField id="register-to" label={t("field.toInclusive")} type="date" value={filters.to} onValue={set("to")} />
        <TextField
          id="register-line"
          label={t("field.line")}
          hint={t("field.line.hint")}
          value={filters.line}
          onValue={set("line")}
          pattern="[a-z0-9][a-z0-9\-]{0,62}"
          spellcheck={false}
        />
        <SelectField
          id="register-channel"
          label={t("field.channel")}
          value={filters.channel}
          onValue={(value) => set("channel")(CHANNELS.find((item) => item === value) ?? "")}
          options={[{ value: "", label: t("common.all") }, ...CHANNELS.map((c) => ({ value: c, label: label("channel", c) }))]}
        />
        <TextField
          id="register-region"
          label={t("field.region")}
          hint={t("field.region.hint")}
          value={filters.region}
          onValue={set("region")}
          maxLength={40}
        />
        <SelectField
          id="register-outcome"
          label={t("field.limitOutcome")}
          value={filters.limitOutcome}
          onValue={(value) => set("limitOutcome")(OUTCOMES.find((item) => item === value) ?? "")}
          options={[{ value: "", label: t("common.all") }, ...OUTCOMES.map((o) => ({ value: o, label: label("outcome", o) }))]}
        />
        <SelectField
          id="register-limit"
          label={t("field.pageSize")}
          value={filters.limit}
          onValue={set("limit")}
          options={["25", "50", "100", "200"].map((n) => ({ value: n, label: n }))}
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {t("register.search")}
          </button>
        </div>
      </form>
      <ErrorMessage problem={problem} />
      {page === null ? (
        busy ? <Loading /> : null
      ) : page.length === 0 ? (
        <Empty>{t("register.empty")}</Empty>
      ) : (
        <>
          <table>
            <caption>{t("register.caption", { n: page.length, page: pageNumber })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("col.started")}</th>
                <th scope="col">{t("col.duration")}</th>
                <th scope="col">{t("col.channel")}</th>
                <th scope="col">{t("col.line")}</th>
                <th scope="col">{t("col.region")}</th>
                <th scope="col">{t("col.limitOutcome")}</th>
                <th scope="col">{t("col.contactId")}</th>
                {mentor ? <th scope="col">{t("col.actions")}</th> : null}
              </tr>
            </thead>
            <tbody>
              {page.map((contact) => (
                <tr key={contact.id}>
                  <td>{dateTime(contact.started_at)}</td>
                  <td>{duration(contact.duration_s)}</td>
                  <td>{label("channel", contact.channel)}</td>
                  <td>{contact.line}</td>
                  <td>{region(contact.region)}</td>
                  <td>{label("outcome", contact.limit_outcome)}</td>
                  <td>
                    <code class="id">{contact.id}</code>
                  </td>
                  {mentor ? (
                    <td class="row-actions">
                      {contact.channel !== "voice" ? (
                        <a href={href("transcripts", contact.id)}>
                          {t("register.readTranscript")}
                          <span class="visually-hidden"> {contact.id}</span>
                        </a>
                      ) : null}{" "}
                      <a href={href("supervision", contact.id)}>
                        {t("register.listenIn")}
                        <span class="visually-hidden"> {contact.id}</span>
                      </a>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {page !== null && (pageNumber > 1 || nextToken !== null) ? (
        <Pager
          label={t("register.paging")}
          page={pageNumber}
          hasNext={nextToken !== null}
          busy={busy}
          onPrevious={() => {
            const history = tokens.slice(0, -1);
            void load(history[history.length - 1] ?? null, history);
          }}
          onNext={() => void load(nextToken, [...tokens, nextToken])}
        />
      ) : null}
    </>
  );
}
