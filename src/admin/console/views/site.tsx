import type { ResolvedSite } from '../../../sites/load.ts';
import type { AdminAction } from '../../actions.ts';
import type { SiteOverride } from '../../override/store.ts';
import { iso } from '../format.ts';
import { Layout, Notice, Section } from './layout.tsx';
import { type NamedRelay, OverrideStatus, RelayTable, TableHead } from './tables.tsx';

export interface SiteData {
  actor: string;
  signOut: boolean;
  now: number;
  site: ResolvedSite;
  relays: NamedRelay[];
  override: SiteOverride | undefined;
  history: AdminAction[];
  error?: string;
}

export function SitePage(d: SiteData) {
  const s = d.site;
  const base = `/admin/sites/${encodeURIComponent(s.id)}`;
  return (
    <Layout title={`Site ${s.id}`} actor={d.actor} signOut={d.signOut}>
      <Section title="Policy">
        <dl class="policy">
          <dt>Failmode</dt>
          <dd>{s.failmode}</dd>
          <dt>Duo integration</dt>
          <dd>{s.integrationName}</dd>
          <dt>Factors</dt>
          <dd>{s.factors.join(', ')}</dd>
          <dt>Exempt users</dt>
          <dd>{[...s.exemptUsernames].join(', ') || 'none'}</dd>
          <dt>Limits</dt>
          <dd>{`${s.limits.push_per_window} pushes, ${s.limits.passcode_failures_per_window} passcode failures per ${s.limits.window_seconds} s`}</dd>
          <dt>Options</dt>
          <dd>
            {Object.entries(s.options)
              .map(([k, v]) => `${k} = ${String(v)}`)
              .join(', ')}
          </dd>
        </dl>
      </Section>
      <Section title="Relays">
        <RelayTable relays={d.relays} now={d.now} />
      </Section>
      <Section title="Primary-only override">
        <p class="muted">
          While it holds, logins whose primary authentication passed are let in without Duo. Logins without a primary
          (duo_only) still go to Duo. It ends by itself.
        </p>
        <p>
          Now: <OverrideStatus override={d.override} now={d.now} />
        </p>
        {d.error ? <Notice kind="error">{d.error}</Notice> : null}
        {d.override ? (
          <form method="post" action={`${base}/override/clear`}>
            <button type="submit" class="danger">
              End override now
            </button>
          </form>
        ) : null}
        <form method="post" action={`${base}/override`} class="override">
          <input type="hidden" name="mode" value="primary_only" />
          <label>
            Minutes <input name="minutes" type="number" min="1" max="1440" value="30" required />
          </label>
          <label>
            Reason <input name="reason" maxlength={200} required />
          </label>
          <button type="submit">{d.override ? 'Replace override' : 'Set primary-only override'}</button>
        </form>
        <h3>History</h3>
        {d.history.length === 0 ? (
          <p>No override has been set for this site.</p>
        ) : (
          <table class="history">
            <TableHead columns={['Time (UTC)', 'Actor', 'Action', 'Detail']} />
            <tbody>
              {d.history.map((a) => (
                <tr>
                  <td>{iso(a.time)}</td>
                  <td>{a.actor}</td>
                  <td>{a.action}</td>
                  <td>{a.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </Layout>
  );
}
