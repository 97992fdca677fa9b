// Placeholder: the edge API work replaces this with test sites config, edge signing key and admin token.
export function edgeTestBindings(duoBaseUrl: string): Record<string, string> {
  return { DUO_API_BASE_URL: duoBaseUrl, SITES_CONFIG: '{}', EDGE_SIGNING_KEY: '', ADMIN_TOKEN: '' };
}
