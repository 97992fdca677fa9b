/**
 * Password+factor splitting (`password,push`, `password,123456`), Duo's rules: with
 * `delimited_password_length` > 0 and a longer password, split at that length (a delimiter right
 * after it is dropped); otherwise split on the LAST delimiter. undefined: nothing to split.
 */
export interface ConcatOptions {
  delimiter: string;
  delimitedPasswordLength: number;
}

export function splitConcat(password: string, o: ConcatOptions): { password: string; factor: string } | undefined {
  if (o.delimitedPasswordLength > 0 && password.length > o.delimitedPasswordLength) {
    let factor = password.slice(o.delimitedPasswordLength);
    if (factor.startsWith(o.delimiter)) factor = factor.slice(o.delimiter.length);
    return { password: password.slice(0, o.delimitedPasswordLength), factor };
  }
  const at = password.lastIndexOf(o.delimiter);
  if (at < 0) return undefined;
  return { password: password.slice(0, at), factor: password.slice(at + o.delimiter.length) };
}
