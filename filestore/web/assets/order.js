// The listing's order, as the API sorts (`sort` = created_at | name | size, `order` = asc | desc;
// names case-insensitively, ties broken by id), so a file arriving live lands where a reload
// would put it.

const collator = new Intl.Collator(undefined, { sensitivity: "base" });

function key(upload, sort) {
  if (sort === "name") return upload.name.normalize("NFC");
  if (sort === "size") return Number(upload.size);
  return upload.created_at;
}

/** Negative if `a` comes before `b` in the listing sorted by `sort`, `order`. */
export function compareUploads(a, b, sort = "created_at", order = "desc") {
  const x = key(a, sort);
  const y = key(b, sort);
  let result;
  if (sort === "name") result = collator.compare(x, y);
  else if (sort === "size") result = x - y;
  else result = x < y ? -1 : x > y ? 1 : 0;
  if (result === 0) result = a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  return order === "asc" ? result : -result;
}

/** The order a column starts in when first chosen: names A→Z, sizes and dates largest first. */
export function defaultOrder(sort) {
  return sort === "name" ? "asc" : "desc";
}

/**
 * A timestamp of the API (`2026-12-02T09:14:04.020417Z`, the fraction left out when it is
 * zero) as microseconds since 1970: text compares wrongly across those forms, and a `Date`
 * keeps only milliseconds.
 * @param {string} text
 * @returns {number}
 */
export function microseconds(text) {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)?$/.exec(text || "");
  if (!match) return Number.NEGATIVE_INFINITY;
  const fraction = Number((match[2] || "").padEnd(6, "0"));
  return Date.parse(match[1] + (match[3] || "Z")) * 1000 + fraction;
}

/**
 * Whether state `upload` of a file is older than the one with `updated_at` `shown`: messages
 * come out of order, and the file's `updated_at` says which state is newer (equal: a repeat).
 * @param {{updated_at?: string}} upload
 * @param {string | undefined} shown
 * @returns {boolean}
 */
export function isOlder(upload, shown) {
  return shown !== undefined && microseconds(upload.updated_at) < microseconds(shown);
}
