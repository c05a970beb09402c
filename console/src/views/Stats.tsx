/** Staff: contact statistics as charts and tables, per day, hour, line, channel and region (GET
 * /stats), with a CSV download of each table. A suppressed cell ("<5", P8) is shown as its text, never
 * drawn as a number. */

import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { BarChart, type Bar } from "../components/BarChart";
import { Empty, Loading } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { TextField } from "../components/Fields";
import { ViewHeading } from "../components/ViewHeading";
import { duration, label, nextDay, region, utcDay } from "../format";
import { t, type MessageKey } from "../i18n";
import { announce } from "../status";
import type { ViewProps } from "./types";

type StatsTable = Schemas["StatsTable"];
type StatsRow = Schemas["StatsRow"];
type Dimension = "day" | "hour" | "line" | "channel" | "region";

const DIMENSIONS: ReadonlyArray<{ dim: Dimension; title: MessageKey; name: MessageKey }> = [
  { dim: "day", title: "stats.perDay", name: "stats.dim.day" },
  { dim: "hour", title: "stats.perHour", name: "stats.dim.hour" },
  { dim: "line", title: "stats.perLine", name: "stats.dim.line" },
  { dim: "channel", title: "stats.perChannel", name: "stats.dim.channel" },
  { dim: "region", title: "stats.perRegion", name: "stats.dim.region" },
];

const MAX_FILLED = 24 * 62;

/** Every day or hour of [from, to) as the API writes its key; empty cells are not listed by the API,
 * so a missing one is a true zero. */
function slotsOf(dim: "day" | "hour", from: string, to: string): string[] | null {
  const slots: string[] = [];
  const step = dim === "day" ? 86_400_000 : 3_600_000;
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let time = Date.parse(`${from}T00:00:00Z`); time < end; time += step) {
    if (slots.length > MAX_FILLED) return null;
    const iso = new Date(time).toISOString();
    slots.push(dim === "day" ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00:00Z`);
  }
  return slots;
}

function keyOf(row: StatsRow, dim: Dimension): string {
  return row[dim] ?? "";
}

function keyLabel(dim: Dimension, key: string): string {
  switch (dim) {
    case "day":
      return `${key.slice(8, 10)}-${key.slice(5, 7)}`;
    case "hour":
      return `${key.slice(8, 10)}-${key.slice(5, 7)} ${key.slice(11, 16)}`;
    case "channel":
      return label("channel", key);
    case "region":
      return region(key);
    default:
      return key;
  }
}

/** Under a time axis, only some slots are named: every day of a month, midnights and every few hours. */
function axisLabel(dim: Dimension, key: string, index: number, count: number): string | null | undefined {
  if (dim === "day") return count <= 31 || index % 7 === 0 ? undefined : null;
  if (dim !== "hour") return undefined;
  const hour = Number(key.slice(11, 13));
  const every = count <= 48 ? 3 : count <= 96 ? 6 : count <= 24 * 8 ? 12 : 24;
  if (hour % every !== 0) return null;
  return hour === 0 ? `${key.slice(8, 10)}-${key.slice(5, 7)}` : `${key.slice(11, 16)}`;
}

function barsOf(table: StatsTable, dim: Dimension, from: string, to: string): Bar[] {
  const rows = new Map(table.rows.map((row) => [keyOf(row, dim), row]));
  const slots = dim === "day" || dim === "hour" ? slotsOf(dim, from, to) : null;
  const keys = slots ?? table.rows.map((row) => keyOf(row, dim));
  return keys.map((key, index) => ({
    key,
    label: keyLabel(dim, key),
    axisLabel: axisLabel(dim, key, index, keys.length),
    value: rows.get(key)?.contacts ?? 0,
  }));
}

function cell(value: number | string | null | undefined): string {
  return value === null || value === undefined ? "—" : String(value);
}

function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

interface Period {
  from: string;
  /** Exclusive: the day after the last day asked for. */
  to: string;
}

function DimensionSection({ dim, title, name, period }: { dim: Dimension; title: string; name: string; period: Period }) {
  const [table, setTable] = useState<StatsTable | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [csvProblem, setCsvProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setBusy(true);
    setProblem(null);
    setTable(null);
    unwrap(api().GET("/stats", { params: { query: { from: period.from, to: period.to, by: [dim] } } }))
      .then((result) => {
        if (live) setTable(result);
      })
      .catch((error: unknown) => {
        if (live) setProblem(asProblem(error));
      })
      .finally(() => {
        if (live) setBusy(false);
      });
    return () => {
      live = false;
    };
  }, [period.from, period.to, dim]);

  const csv = async (): Promise<void> => {
    setCsvProblem(null);
    try {
      const text = await unwrap(
        api().GET("/stats", {
          params: { query: { from: period.from, to: period.to, by: [dim] } },
          headers: { Accept: "text/csv" },
          parseAs: "text",
        }),
      );
      download(`contacten-per-${dim}-${period.from}-${period.to}.csv`, text);
      announce(t("stats.csv.done", { what: name }));
    } catch (error) {
      setCsvProblem(asProblem(error));
    }
  };

  const headingId = `stats-${dim}`;
  const bars = table !== null ? barsOf(table, dim, period.from, period.to) : [];
  const tableElement =
    table !== null && table.rows.length > 0 ? (
      <table class="stats-table" id={`stats-table-${dim}`}>
        <caption>{t("stats.table.caption", { what: title })}</caption>
        <thead>
          <tr>
            <th scope="col">{name}</th>
            <th scope="col" class="number">{t("stats.col.contacts")}</th>
            <th scope="col" class="number">{t("stats.col.limited")}</th>
            <th scope="col" class="number">{t("stats.col.median")}</th>
            <th scope="col" class="number">{t("stats.col.p90")}</th>
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row) => {
            const key = keyOf(row, dim);
            return (
              <tr key={key} data-key={key}>
                <th scope="row">{keyLabel(dim, key)}</th>
                <td class="number">{cell(row.contacts)}</td>
                <td class="number">{cell(row.limited)}</td>
                <td class="number">{row.duration_median_s === null ? "—" : duration(row.duration_median_s)}</td>
                <td class="number">{row.duration_p90_s === null ? "—" : duration(row.duration_p90_s)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    ) : null;

  return (
    <section class="stats-dimension" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      <ErrorMessage problem={problem} />
      {table === null ? (
        busy ? <Loading /> : null
      ) : table.rows.length === 0 ? (
        <Empty>{t("stats.empty")}</Empty>
      ) : (
        <>
          <figure class="chart">
            <BarChart id={`chart-${dim}`} title={title} bars={bars} />
            <figcaption>{t("stats.chart.caption", { k: table.k })}</figcaption>
          </figure>
          {dim === "hour" ? (
            <details>
              <summary>{t("stats.table.show", { what: title })}</summary>
              {tableElement}
            </details>
          ) : (
            tableElement
          )}
          <p>
            <button type="button" class="secondary" onClick={() => void csv()}>
              {t("stats.csv", { what: name })}
            </button>
          </p>
          <ErrorMessage problem={csvProblem} />
        </>
      )}
    </section>
  );
}

export function Stats(_props: ViewProps) {
  const [fromDay, setFromDay] = useState(utcDay(-6));
  const [toDay, setToDay] = useState(utcDay(0));
  const [period, setPeriod] = useState<Period>({ from: utcDay(-6), to: nextDay(utcDay(0)) });
  const [invalid, setInvalid] = useState(false);

  const submit = (event: Event): void => {
    event.preventDefault();
    if (fromDay === "" || toDay === "" || toDay < fromDay) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setPeriod({ from: fromDay, to: nextDay(toDay) });
  };

  return (
    <>
      <ViewHeading title={t("nav.stats")} />
      <p class="hint">{t("stats.explain")}</p>
      <form class="form inline" onSubmit={submit}>
        <TextField id="stats-from" label={t("field.from")} type="date" value={fromDay} onValue={setFromDay} required />
        <TextField id="stats-to" label={t("field.toInclusive")} type="date" value={toDay} onValue={setToDay} required />
        <button type="submit">{t("stats.show")}</button>
      </form>
      {invalid ? (
        <p class="message error" role="alert">
          {t("stats.period.invalid")}
        </p>
      ) : null}
      <p class="hint">{t("stats.period", { from: period.from, to: period.to })}</p>
      {DIMENSIONS.map((item) => (
        <DimensionSection key={item.dim} dim={item.dim} title={t(item.title)} name={t(item.name)} period={period} />
      ))}
    </>
  );
}
