import type { StoredDecision } from '@duo-edge/contract/audit';
import type { ResolvedSite } from '../../../sites/load.ts';
import type { SiteOverride } from '../../override/store.ts';
import type { DecisionCount } from '../stats.ts';
import { DecisionChart } from './chart.tsx';
import { Layout, Section } from './layout.tsx';
import { DecisionTable, type NamedRelay, OverrideStatus, RelayTable, TableHead } from './tables.tsx';

export interface OverviewData {
  actor: string;
  signOut: boolean;
  now: number;
  sites: ResolvedSite[];
  overrides: Map<string, SiteOverride>;
  relays: NamedRelay[];
  counts: DecisionCount[];
  failmode: StoredDecision[];
}

export function OverviewPage(d: OverviewData) {
  return (
    <Layout title="Overview" actor={d.actor} signOut={d.signOut}>
      <Section title="Sites">
        <table class="sites">
          <TableHead columns={['Site', 'Failmode', 'Relay keys', 'Override']} />
          <tbody>
            {d.sites.map((s) => (
              <tr class={d.overrides.has(s.id) ? 'override' : ''}>
                <td>
                  <a href={`/admin/sites/${encodeURIComponent(s.id)}`}>{s.id}</a>
                </td>
                <td>{s.failmode}</td>
                <td>{String([...s.relayKeys.values()].filter((k) => !k.revoked).length)}</td>
                <td>
                  <OverrideStatus override={d.overrides.get(s.id)} now={d.now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Relays">
        <RelayTable relays={d.relays} now={d.now} />
      </Section>
      <Section title="Decisions, last 24 hours">
        <DecisionChart counts={d.counts} />
      </Section>
      <Section title="Failmode decisions, last 24 hours">
        <p class="muted">Logins decided without Duo because Duo or the edge could not be reached.</p>
        <DecisionTable decisions={d.failmode} />
      </Section>
    </Layout>
  );
}
