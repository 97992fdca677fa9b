/** The console's whole stylesheet, served as /admin/console.css (the CSP allows no inline style). */
export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #1d2330; --muted: #667085; --line: #d9dde5; --accent: #2f6f4f;
  --deny: #b42318; --allow: #2f6f4f; --warn: #b54708; --warn-bg: #fff4e5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f7f8fa; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #1d2330; color: #fff; }
header a { color: #cfe3d8; margin-right: 1rem; text-decoration: none; }
header .who { margin-left: auto; display: flex; gap: .8rem; align-items: center; color: #cfd4dc; }
header form { margin: 0; }
main { padding: 1rem 1.2rem 3rem; max-width: 1200px; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem 1rem; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
tr.silent td, tr.failmode td { background: var(--warn-bg); }
tr.override td { background: #eef4ff; }
td.deny { color: var(--deny); font-weight: 600; }
td.allow { color: var(--allow); font-weight: 600; }
.muted { color: var(--muted); }
.override-on { color: var(--warn); font-weight: 600; }
.notice { padding: .5rem .8rem; border-radius: 4px; }
.notice.error { background: #fef3f2; color: var(--deny); border: 1px solid #fecdca; }
.notice.info { background: #eef4ff; }
form.signin, form.override, form.filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; }
label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.danger { background: var(--deny); border-color: var(--deny); }
header button { background: transparent; border-color: #667085; }
.paging { display: flex; gap: 1rem; }
dl.policy { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; }
svg.chart text { font-size: 12px; fill: var(--fg); }
svg.chart .bar rect { fill: #8fb9a4; }
svg.chart .bar.deny rect { fill: #e4a59f; }
svg.chart .bar.failmode rect { fill: var(--warn); }
svg.chart .bar.failmode text { fill: var(--warn); font-weight: 600; }
`;
