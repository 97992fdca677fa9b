/**
 * The Access-Challenge prompt of challenge mode (Duo's prompt_format). Reply-Message holds at most
 * 253 octets: a longer prompt falls back to `short`, then to a fixed line.
 */
export type PromptFormat = 'console' | 'html' | 'short';

const MAX_OCTETS = 253;
const FALLBACK = 'Choose a secondary factor or enter passcode:';

export function formatPrompt(
  format: PromptFormat,
  prompt: string | undefined,
  factors: Record<string, string>,
): string {
  const short = shortPrompt(factors);
  let text = short;
  if (format === 'console' && prompt) text = prompt;
  if (format === 'html' && prompt) text = htmlPrompt(prompt);
  if (octets(text) > MAX_OCTETS) text = short;
  return octets(text) > MAX_OCTETS ? FALLBACK : text;
}

function shortPrompt(factors: Record<string, string>): string {
  const names = Object.keys(factors)
    .filter((k) => k !== 'default')
    .sort();
  if (names.length === 0) return 'Enter passcode:';
  return `Choose a secondary factor from (${names.map((n) => `'${n}'`).join(', ')}) or enter passcode:`;
}

function htmlPrompt(prompt: string): string {
  const escapeXml = (s: string) =>
    s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;');
  return prompt
    .split('\n')
    .map((line) => escapeXml(line.trim()))
    .join('<br>');
}

const octets = (s: string): number => new TextEncoder().encode(s).length;
