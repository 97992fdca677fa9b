import type { StoredDecision } from '@duo-edge/contract/audit';
import { auditResultSchema } from '@duo-edge/contract/audit';
import { decisionSourceSchema } from '@duo-edge/contract/wire';
import { Layout, Notice } from './layout.tsx';
import { DecisionTable } from './tables.tsx';

/** The filter fields exactly as typed, so the form shows them back. */
export type DecisionFilterForm = Partial<Record<'site' | 'user' | 'result' | 'source' | 'from' | 'to', string>>;

export interface DecisionsData {
  actor: string;
  signOut: boolean;
  form: DecisionFilterForm;
  decisions: StoredDecision[];
  /** Query string (filters) shared by the paging and CSV links. */
  filterQuery: string;
  nextCursor: string | null;
  error?: string;
}

const Select = (props: { name: string; value: string | undefined; options: readonly string[] }) => (
  <select name={props.name} id={`filter-${props.name}`}>
    <option value="">any</option>
    {props.options.map((o) => (
      <option value={o} selected={props.value === o}>
        {o}
      </option>
    ))}
  </select>
);

export function DecisionsPage(d: DecisionsData) {
  const q = d.filterQuery ? `${d.filterQuery}&` : '';
  return (
    <Layout title="Decisions" actor={d.actor} signOut={d.signOut}>
      <form method="get" action="/admin/decisions" class="filters">
        <label>
          Site <input name="site" value={d.form.site ?? ''} />
        </label>
        <label>
          User <input name="user" value={d.form.user ?? ''} />
        </label>
        <label for="filter-result">
          Result <Select name="result" value={d.form.result} options={auditResultSchema.options} />
        </label>
        <label for="filter-source">
          Source <Select name="source" value={d.form.source} options={decisionSourceSchema.options} />
        </label>
        <label>
          From (UTC) <input name="from" type="datetime-local" value={d.form.from ?? ''} />
        </label>
        <label>
          To (UTC) <input name="to" type="datetime-local" value={d.form.to ?? ''} />
        </label>
        <button type="submit">Filter</button>
        <a href={`/admin/decisions.csv${d.filterQuery ? `?${d.filterQuery}` : ''}`}>Export CSV</a>
      </form>
      {d.error ? <Notice kind="error">{d.error}</Notice> : <DecisionTable decisions={d.decisions} />}
      <p class="paging">
        <a href={`/admin/decisions${d.filterQuery ? `?${d.filterQuery}` : ''}`}>Newest</a>
        {d.nextCursor ? (
          <a rel="next" href={`/admin/decisions?${q}cursor=${encodeURIComponent(d.nextCursor)}`}>
            Older →
          </a>
        ) : null}
      </p>
    </Layout>
  );
}
