import type { StoredDecision } from '@duo-edge/contract/audit';
import { FAILMODE_SOURCES } from '@duo-edge/contract/wire';
import type { RelayStatus } from '../../../relays/store.ts';
import type { SiteOverride } from '../../override/store.ts';
import { age, iso } from '../format.ts';

export function TableHead(props: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c) => (
          <th>{c}</th>
        ))}
      </tr>
    </thead>
  );
}

/** A relay as the console shows it: the name of its key in the sites config. */
export type NamedRelay = RelayStatus & { displayName: string };

export function RelayTable(props: { relays: NamedRelay[]; now: number }) {
  if (props.relays.length === 0) return <p>No relay has sent a heartbeat yet.</p>;
  return (
    <table class="relays">
      <TableHead columns={['Relay', 'Site', 'Last heartbeat', 'State', 'Breaker', 'Version']} />
      <tbody>
        {props.relays.map((r) => (
          <tr class={r.silent ? 'silent' : ''}>
            <td>{r.displayName}</td>
            <td>
              <a href={`/admin/sites/${encodeURIComponent(r.site)}`}>{r.site}</a>
            </td>
            <td title={iso(r.last_seen)}>{`${age(props.now - r.last_seen)} ago`}</td>
            <td>{r.silent ? 'silent' : 'alive'}</td>
            <td>{r.breaker_state}</td>
            <td>{r.version}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DecisionTable(props: { decisions: StoredDecision[] }) {
  if (props.decisions.length === 0) return <p>No decisions match.</p>;
  return (
    <table class="decisions">
      <TableHead columns={['Time (UTC)', 'Site', 'User', 'Stage', 'Result', 'Source', 'Reason', 'Client IP']} />
      <tbody>
        {props.decisions.map((d) => (
          <tr class={FAILMODE_SOURCES.includes(d.source) ? 'failmode' : d.source === 'override' ? 'override' : ''}>
            <td>{iso(d.time)}</td>
            <td>{d.site}</td>
            <td>{d.username}</td>
            <td>{d.stage}</td>
            <td class={d.result}>{d.result}</td>
            <td>{d.source}</td>
            <td>{d.reason}</td>
            <td>{d.client_ip ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OverrideStatus(props: { override: SiteOverride | undefined; now: number }) {
  const o = props.override;
  if (!o) return <span class="muted">none</span>;
  return (
    <span class="override-on">
      {`Primary only, ${age(o.expires_at - props.now)} left (until ${iso(o.expires_at)}), set by ${o.actor}: ${o.reason}`}
    </span>
  );
}
