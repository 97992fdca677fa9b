/**
 * The parts of prom-client the relay uses, each from its own file. The package's index also loads
 * its Pushgateway (node:https, node:zlib), its cluster aggregation and its Summary (tdigest), none
 * of which the relay uses: about 0.4 MiB of an idle relay's resident memory. The version is pinned;
 * the types are the package's own (prom-client-parts.d.ts).
 */
import Counter from 'prom-client/lib/counter.js';
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';

export { Counter, collectDefaultMetrics, Gauge, Histogram, Registry };
