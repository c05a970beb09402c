/** Dates, lengths and the API's enum values in the current language. */

import { isMessageKey, locale, t } from "./i18n";

/** A moment in local time, e.g. "3 mrt 2025, 14:05"; the raw text when it is not a date. */
export function dateTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === "") return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A length in seconds as "12 min 5 s" / "45 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return t("unit.seconds", { s: rest });
  if (minutes < 60) return rest === 0 ? t("unit.minutes", { m: minutes }) : t("unit.minutesSeconds", { m: minutes, s: rest });
  return t("unit.hoursMinutes", { h: Math.floor(minutes / 60), m: minutes % 60 });
}

/** The first characters of a long id, for display (the full id stays in the link or title). */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** Today's UTC date as YYYY-MM-DD, shifted by `days`. */
export function utcDay(days = 0): string {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The day after a YYYY-MM-DD date. */
export function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** A label of an enum value from the dictionary (`prefix.value`), or the value itself if unknown. */
export function label(prefix: string, value: string | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const key = `${prefix}.${value}`;
  return isMessageKey(key) ? t(key) : value;
}

/** A region of the register: a province as is, "mobile", "abroad:<ISO>", "abroad:other", "unknown". */
export function region(value: string | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value.startsWith("abroad:")) {
    const country = value.slice("abroad:".length);
    if (country === "other") return t("region.abroadOther");
    let name = country;
    try {
      name = new Intl.DisplayNames([locale()], { type: "region" }).of(country) ?? country;
    } catch {
      name = country;
    }
    return t("region.abroad", { country: name });
  }
  return label("region", value);
}
