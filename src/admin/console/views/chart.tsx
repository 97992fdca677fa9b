import { FAILMODE_SOURCES } from '@duo-edge/contract/wire';
import type { DecisionCount } from '../stats.ts';

const BAR_H = 22;
const LABEL_W = 190;
const BAR_W = 360;

/** Decisions by source and result as horizontal bars; failmode rows carry the `failmode` class. */
export function DecisionChart(props: { counts: DecisionCount[] }) {
  const max = Math.max(1, ...props.counts.map((c) => c.n));
  const height = Math.max(1, props.counts.length) * (BAR_H + 6);
  return (
    <svg
      class="chart"
      role="img"
      aria-label="Decisions in the last 24 hours by source and result"
      viewBox={`0 0 ${LABEL_W + BAR_W + 60} ${height}`}
      width={LABEL_W + BAR_W + 60}
      height={height}
    >
      {props.counts.length === 0 ? (
        <text x="0" y="16">
          No decisions in the last 24 hours.
        </text>
      ) : null}
      {props.counts.map((c, i) => {
        const y = i * (BAR_H + 6);
        const w = Math.max(2, Math.round((c.n / max) * BAR_W));
        const cls = `bar ${c.result}${FAILMODE_SOURCES.includes(c.source) ? ' failmode' : ''}`;
        return (
          <g class={cls}>
            <text x="0" y={y + 16}>{`${c.source} · ${c.result}`}</text>
            <rect x={LABEL_W} y={y} width={w} height={BAR_H} rx="3" />
            <text x={LABEL_W + w + 6} y={y + 16}>
              {String(c.n)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
