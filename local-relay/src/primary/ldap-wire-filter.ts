import {
  AndFilter,
  ApproximateFilter,
  EqualityFilter,
  ExtensibleFilter,
  type Filter,
  FilterParser,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  SubstringFilter,
} from 'ldapts';

/**
 * Parses filter text into ldapts filter objects with the right bytes on the wire. ldapts decodes a
 * `\XX` escape into the single character U+00XX and later writes strings as UTF-8, which would
 * turn `\c3\a9` (é) into four bytes. Our filter text is pure ASCII, so every character ldapts
 * produced stands for exactly one byte: equality values are sent as those bytes (exact, even for
 * binary values such as objectGUID); other kinds only accept strings, so they are re-decoded as UTF-8.
 */
export function toWireFilter(text: string): Filter {
  return repairValues(FilterParser.parseString(text));
}

function repairValues(filter: Filter): Filter {
  const bytes = (value: string) => Buffer.from(value, 'latin1');
  const utf8 = (value: string) => bytes(value).toString('utf8');
  if (filter instanceof AndFilter || filter instanceof OrFilter) {
    filter.filters = filter.filters.map(repairValues);
  } else if (filter instanceof NotFilter) {
    filter.filter = repairValues(filter.filter);
  } else if (filter instanceof EqualityFilter) {
    if (typeof filter.value === 'string') filter.value = bytes(filter.value);
  } else if (filter instanceof SubstringFilter) {
    filter.initial = utf8(filter.initial);
    filter.any = filter.any.map(utf8);
    filter.final = utf8(filter.final);
  } else if (
    filter instanceof ExtensibleFilter ||
    filter instanceof ApproximateFilter ||
    filter instanceof GreaterThanEqualsFilter ||
    filter instanceof LessThanEqualsFilter
  ) {
    filter.value = utf8(filter.value);
  }
  return filter;
}
