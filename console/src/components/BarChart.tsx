/** A bar chart in plain SVG. A suppressed cell ("<5") is never drawn as a bar of any height: it is
 * written as its text at the baseline, with a dashed marker, and its data-value is the text. */

import { t } from "../i18n";

export interface Bar {
  /** The cell's key (a day, an hour, a line id, ...), as the API gave it. */
  key: string;
  /** What the bar's tooltip says it is. */
  label: string;
  /** What the axis shows under it: undefined for `label`, null for nothing. */
  axisLabel?: string | null;
  /** A count, or the API's suppression text such as "<5". */
  value: number | string;
}

const WIDTH = 720;
const HEIGHT = 260;
const LEFT = 60;
const RIGHT = 8;
const TOP = 20;
const BOTTOM = 70;
const MAX_BAR = 56;

function niceMax(max: number): number {
  if (max <= 5) return 5;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (max <= step * power) return step * power;
  }
  return 10 * power;
}

function shortLabel(text: string): string {
  return text.length > 16 ? `${text.slice(0, 15)}…` : text;
}

export function BarChart({ id, title, bars }: { id: string; title: string; bars: readonly Bar[] }) {
  const numbers = bars.map((bar) => (typeof bar.value === "number" ? bar.value : 0));
  const top = niceMax(Math.max(0, ...numbers));
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = bars.length > 0 ? plotWidth / bars.length : plotWidth;
  const barWidth = Math.min(MAX_BAR, Math.max(1, slot * 0.7));
  const showValues = bars.length <= 40;
  const axisLabels = bars.map((bar) => (bar.axisLabel === undefined ? bar.label : bar.axisLabel));
  const shown = axisLabels.filter((text) => text !== null);
  const rotate = shown.length > 8 || shown.some((text) => text.length > 8);
  const ticks = top % 2 === 0 ? [0, top / 2, top] : [0, top];
  const y = (value: number): number => TOP + plotHeight - (value / top) * plotHeight;
  const suppressedCount = bars.filter((bar) => typeof bar.value !== "number").length;
  return (
    <svg
      class="bar-chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      id={id}
    >
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>
        {t("chart.description", { n: bars.length, suppressed: suppressedCount })}
      </desc>
      {ticks.map((tick) => (
        <g class="tick" key={tick}>
          <line x1={LEFT} x2={WIDTH - RIGHT} y1={y(tick)} y2={y(tick)} class="grid" />
          <text x={LEFT - 6} y={y(tick) + 4} text-anchor="end" class="axis-label">
            {tick}
          </text>
        </g>
      ))}
      <line x1={LEFT} x2={WIDTH - RIGHT} y1={y(0)} y2={y(0)} class="axis" />
      {bars.map((bar, index) => {
        const x = LEFT + index * slot + (slot - barWidth) / 2;
        const centre = x + barWidth / 2;
        const axisText = axisLabels[index] ?? null;
        const label =
          axisText !== null ? (
            <text
              class="axis-label"
              x={centre}
              y={HEIGHT - BOTTOM + 14}
              text-anchor={rotate ? "end" : "middle"}
              transform={rotate ? `rotate(-40 ${centre} ${HEIGHT - BOTTOM + 14})` : undefined}
            >
              {shortLabel(axisText)}
            </text>
          ) : null;
        if (typeof bar.value === "number") {
          return (
            <g class="bar" key={bar.key} data-key={bar.key} data-value={String(bar.value)}>
              <title>{`${bar.label}: ${bar.value}`}</title>
              <rect x={x} y={y(bar.value)} width={barWidth} height={y(0) - y(bar.value)} class="bar-rect" />
              {showValues ? (
                <text class="bar-value" x={centre} y={y(bar.value) - 4} text-anchor="middle">
                  {bar.value}
                </text>
              ) : null}
              {label}
            </g>
          );
        }
        return (
          <g class="bar suppressed" key={bar.key} data-key={bar.key} data-value={bar.value} data-suppressed="true">
            <title>{`${bar.label}: ${bar.value} (${t("stats.suppressedShort")})`}</title>
            <line x1={x} x2={x + barWidth} y1={y(0) - 2} y2={y(0) - 2} class="suppressed-mark" />
            {showValues ? (
              <text class="bar-value suppressed-value" x={centre} y={y(0) - 8} text-anchor="middle">
                {bar.value}
              </text>
            ) : null}
            {label}
          </g>
        );
      })}
    </svg>
  );
}
