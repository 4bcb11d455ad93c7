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
